"""PaytmPgClient: Paytm PG over HTTP (httpx): initiateTransaction (seed 004), transaction status,
refund and refund status (seed 002), signed, every failure turned into an answer.

Transport failures never raise past this module: a timeout, a connection error, a 5xx, any other
non-200, or a body that is not JSON (an HTTP 200 carrying error text included) all come back as
AMBIGUOUS answers with the reason, which the payment logic resolves by asking the status
(DESIGN.md rule 2).
"""

from __future__ import annotations

from decimal import Decimal

import httpx

from tijori.paytm.pg_mapping import (
    FORM_CONTENT_TYPE,
    INITIATE_PATH,
    JSON_CONTENT_TYPE,
    InitiateAnswer,
    PgMerchant,
    RefundAnswer,
    TxnStatusAnswer,
    initiate_transaction_request,
    json_data_form,
    read_initiate_answer,
    read_refund_answer,
    read_refund_status_answer,
    read_status_answer,
    refund_json_data,
    refund_status_json_data,
    transaction_status_json_data,
)

__all__ = [
    "INITIATE_PATH",
    "REFUND_PATH",
    "REFUND_STATUS_PATH",
    "TXN_STATUS_PATH",
    "PaytmPgClient",
]

TXN_STATUS_PATH = "/merchant-status/getTxnStatus"
REFUND_PATH = "/refund/HANDLER_INTERNAL/REFUND"
REFUND_STATUS_PATH = "/refund/HANDLER_INTERNAL/getRefundStatus"


class PaytmPgClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, merchant: PgMerchant) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._merchant = merchant

    async def _post(self, path: str, content: bytes, content_type: str, timeout: float) -> bytes | str:
        """The answer's bytes on HTTP 200, or the reason there is no answer."""
        try:
            response = await self._http.post(
                f"{self._base_url}{path}",
                content=content,
                headers={"Content-Type": content_type, "Accept": JSON_CONTENT_TYPE},
                timeout=timeout,
            )
        except httpx.TimeoutException:
            return f"no answer within {timeout:.1f} s"
        except httpx.HTTPError as error:
            return f"transport error: {type(error).__name__}"
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        return response.content

    async def initiate_transaction(
        self,
        order_id: str,
        amount: Decimal,
        customer_id: str,
        *,
        callback_url: str,
        phone: str | None = None,
        email: str | None = None,
        timeout: float,
    ) -> InitiateAnswer:
        path, content = initiate_transaction_request(
            self._merchant, order_id, amount, customer_id, callback_url=callback_url, phone=phone, email=email
        )
        answer = await self._post(path, content, JSON_CONTENT_TYPE, timeout)
        if isinstance(answer, str):
            return InitiateAnswer.no_answer(answer)
        return read_initiate_answer(answer, self._merchant)

    async def transaction_status(
        self, order_id: str, *, txn_type: str | None = None, timeout: float
    ) -> TxnStatusAnswer:
        json_data = transaction_status_json_data(self._merchant, order_id, txn_type=txn_type)
        answer = await self._post(TXN_STATUS_PATH, json_data_form(json_data), FORM_CONTENT_TYPE, timeout)
        if isinstance(answer, str):
            return TxnStatusAnswer.no_answer(answer, order_id=order_id, mid=self._merchant.mid)
        return read_status_answer(answer, order_id=order_id, mid=self._merchant.mid)

    async def refund(
        self,
        *,
        order_id: str,
        txn_id: str,
        ref_id: str,
        amount: Decimal,
        comments: str | None = None,
        timeout: float,
    ) -> RefundAnswer:
        json_data = refund_json_data(
            self._merchant, order_id=order_id, txn_id=txn_id, ref_id=ref_id, amount=amount, comments=comments
        )
        answer = await self._post(REFUND_PATH, json_data_form(json_data), FORM_CONTENT_TYPE, timeout)
        if isinstance(answer, str):
            return RefundAnswer.no_answer(answer)
        return read_refund_answer(answer)

    async def refund_status(self, *, order_id: str, ref_id: str, timeout: float) -> RefundAnswer:
        json_data = refund_status_json_data(self._merchant, order_id=order_id, ref_id=ref_id)
        answer = await self._post(REFUND_STATUS_PATH, json_data_form(json_data), FORM_CONTENT_TYPE, timeout)
        if isinstance(answer, str):
            return RefundAnswer.no_answer(answer)
        return read_refund_status_answer(answer)
