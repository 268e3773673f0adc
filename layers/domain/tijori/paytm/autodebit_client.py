"""PaytmAutoDebitClient: Paytm auto-debit over HTTP (httpx), seed 002: account linking on the
OAuth host, check balance and withdraw on the PG host, and the add-money form; every failure
turned into an answer.

Transport failures never raise past this module: a timeout, a connection error, a 5xx or any
other status the API does not answer with, or a body that is not JSON all come back AMBIGUOUS with
the reason. The linking calls (no money) also read a 4xx's JSON body, since a refusal there is a
refusal whatever status carries it; the payment calls read HTTP 200 only (DESIGN.md rule 2).

Revoke puts the customer's token in the URL path (seed 002). X-Ray's httpx patch records each
request's URL in the trace, and httpx logs it, so this one request is sent with the path template
(`/oauth2/accessToken/{session_token}`) as its URL and the real path as httpcore's documented
`target` extension, which is what goes on the wire: the token reaches Paytm and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from paytm_signing import MerchantCredentials
from tijori.paytm.autodebit_mapping import (
    CONSULT_PATH,
    DIRECT_PAY_PATH,
    REVOKE_PATH,
    REVOKE_PATH_TEMPLATE,
    SEND_OTP_PATH,
    USER_DETAILS_PATH,
    VERIFY_OTP_PATH,
    AddMoneyForm,
    BalanceAnswer,
    OtpAnswer,
    RevokeAnswer,
    TokenAnswer,
    TokenDetailsAnswer,
    WithdrawAnswer,
    add_money_form,
    autodebit_merchant,
    check_balance_request,
    direct_pay_json_data,
    read_check_balance_answer,
    read_direct_pay_answer,
    read_revoke_answer,
    read_send_otp_answer,
    read_token_details_answer,
    read_verify_otp_answer,
    send_otp_request,
    verify_otp_request,
)
from tijori.paytm.pg_mapping import FORM_CONTENT_TYPE, JSON_CONTENT_TYPE, json_data_form

__all__ = ["PaytmAutoDebitClient"]

_SESSION_TOKEN_HEADER = "session_token"  # noqa: S105 - the header's name, not a token


def _epoch_ms() -> int:
    return time.time_ns() // 1_000_000


class PaytmAutoDebitClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        oauth_base_url: str,
        pg_base_url: str,
        credentials: MerchantCredentials,
        *,
        epoch_ms: Callable[[], int] = _epoch_ms,
    ) -> None:
        self._http = http
        self._oauth = oauth_base_url.rstrip("/")
        self._pg = pg_base_url.rstrip("/")
        self._merchant = autodebit_merchant(credentials)
        self._epoch_ms = epoch_ms

    async def _send(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        readable: Callable[[int], bool],
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, object] | None = None,
    ) -> httpx.Response | str:
        """The response when its status is one the caller reads, or the reason there is none."""
        try:
            response = await self._http.request(
                method, url, content=content, headers=headers, extensions=extensions, timeout=timeout
            )
        except httpx.TimeoutException:
            return f"no answer within {timeout:.1f} s"
        except httpx.HTTPError as error:
            return f"transport error: {type(error).__name__}"
        if not readable(response.status_code):
            return f"HTTP {response.status_code}"
        return response

    async def _oauth_call(
        self, method: str, path: str, *, timeout: float, content: bytes | None = None, headers: dict[str, str]
    ) -> bytes | str:
        answer = await self._send(
            method,
            self._oauth + path,
            timeout=timeout,
            readable=lambda status: 200 <= status < 500,
            content=content,
            headers=headers,
        )
        return answer if isinstance(answer, str) else answer.content

    async def _pg_post(self, path: str, content: bytes, content_type: str, timeout: float) -> bytes | str:
        answer = await self._send(
            "POST",
            self._pg + path,
            timeout=timeout,
            readable=lambda status: status == 200,
            content=content,
            headers={"Content-Type": content_type, "Accept": JSON_CONTENT_TYPE},
        )
        return answer if isinstance(answer, str) else answer.content

    # ---- account linking ------------------------------------------------------------------------

    async def send_otp(self, phone: str, email: str | None, *, timeout: float) -> OtpAnswer:
        answer = await self._oauth_call(
            "POST",
            SEND_OTP_PATH,
            timeout=timeout,
            content=send_otp_request(self._merchant, phone, email),
            headers={"Content-Type": JSON_CONTENT_TYPE},
        )
        return OtpAnswer.no_answer(answer) if isinstance(answer, str) else read_send_otp_answer(answer)

    async def verify_otp(self, state: str, otp: str, *, timeout: float) -> TokenAnswer:
        answer = await self._oauth_call(
            "POST",
            VERIFY_OTP_PATH,
            timeout=timeout,
            content=verify_otp_request(state, otp),
            headers={
                "Content-Type": JSON_CONTENT_TYPE,
                "Authorization": self._merchant.basic_authorization(),
            },
        )
        return TokenAnswer.no_answer(answer) if isinstance(answer, str) else read_verify_otp_answer(answer)

    async def token_details(self, token: SecretStr, *, timeout: float) -> TokenDetailsAnswer:
        answer = await self._oauth_call(
            "GET",
            USER_DETAILS_PATH,
            timeout=timeout,
            headers={_SESSION_TOKEN_HEADER: token.get_secret_value()},
        )
        if isinstance(answer, str):
            return TokenDetailsAnswer.no_answer(answer)
        return read_token_details_answer(answer)

    async def revoke(self, token: SecretStr, *, timeout: float) -> RevokeAnswer:
        # What goes on the wire; the URL (what tracing and httpx's log see) stays the template.
        wire_path = httpx.URL(self._oauth + REVOKE_PATH + quote(token.get_secret_value(), safe="")).raw_path
        answer = await self._send(
            "DELETE",
            self._oauth + REVOKE_PATH_TEMPLATE,
            timeout=timeout,
            readable=lambda _: True,
            headers={"Authorization": self._merchant.basic_authorization()},
            extensions={"target": wire_path},
        )
        return (
            RevokeAnswer.no_answer(answer)
            if isinstance(answer, str)
            else read_revoke_answer(answer.status_code)
        )

    # ---- payments -------------------------------------------------------------------------------

    async def check_balance(self, token: SecretStr, amount: Decimal, *, timeout: float) -> BalanceAnswer:
        content = check_balance_request(self._merchant, token, amount, now_ms=self._epoch_ms())
        answer = await self._pg_post(CONSULT_PATH, content, JSON_CONTENT_TYPE, timeout)
        if isinstance(answer, str):
            return BalanceAnswer.no_answer(answer)
        return read_check_balance_answer(answer, self._merchant)

    async def direct_pay(
        self, order_id: str, amount: Decimal, token: SecretStr, cust_id: str, *, timeout: float
    ) -> WithdrawAnswer:
        json_data = direct_pay_json_data(self._merchant, order_id, amount, token, cust_id)
        answer = await self._pg_post(DIRECT_PAY_PATH, json_data_form(json_data), FORM_CONTENT_TYPE, timeout)
        if isinstance(answer, str):
            return WithdrawAnswer.no_answer(answer)
        return read_direct_pay_answer(answer, self._merchant, order_id=order_id, amount=amount)

    def add_money_form(
        self, order_id: str, amount: Decimal, token: SecretStr, cust_id: str, callback_url: str
    ) -> AddMoneyForm:
        """The form the customer's browser posts to Paytm (no HTTP here)."""
        return add_money_form(
            self._merchant,
            self._pg,
            order_id=order_id,
            amount=amount,
            token=token,
            cust_id=cust_id,
            callback_url=callback_url,
        )
