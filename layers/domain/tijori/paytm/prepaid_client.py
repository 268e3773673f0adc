"""PrepaidWalletClient: seed 003's creditAccount over HTTP (httpx), in the `token` envelope.

The request and the answer travel as `{"token": ...}`, AES-192-CBC with the merchant secret's
`prepaid.aes_key`, in the envelope the stack is set to (`PrepaidTokenFormat`): `provider` (the
provider's bare CBC with the IV it issues, `prepaid.iv`; the default) or `authenticated` (Tijori's
random IV + HMAC). Every header of `prepaid.headers` (what the seed's `<WalletHeader />` stands
for) goes on every call.

Transport failures never raise past this module; each becomes an answer that says whether the
request can have reached the provider: only a refused or never-opened connection cannot
(`reached_provider=False`, safe to send again). A read timeout, a dropped connection, a 5xx, an
answer that does not decrypt are AMBIGUOUS: the load may have been written. 400, 401, 403 and 404
without a readable answer are the provider refusing the request before processing it: our
configuration (key, envelope, headers, URL).
"""

from __future__ import annotations

import json
from datetime import datetime

import httpx

from paytm_signing import (
    InvalidTokenError,
    MerchantCredentials,
    TokenFormat,
    decrypt_token_current_or_previous,
    encrypt_token,
)
from tijori.lifecycle.outcomes import Outcome
from tijori.payouts.models import Payout
from tijori.paytm.prepaid_mapping import PrepaidAnswer, credit_account_request, read_credit_answer

CREDIT_ACCOUNT_PATH = "/mob1/api/onboarding/v1/creditAccount"
_REFUSED_BEFORE_PROCESSING = frozenset({400, 401, 403, 404})


class PrepaidWalletClient:
    def __init__(
        self, http: httpx.AsyncClient, base_url: str, credentials: MerchantCredentials, *, envelope: str
    ) -> None:
        """`envelope`: the stack's PrepaidTokenFormat. A secret without a prepaid section, or the
        provider envelope without `prepaid.iv`, fails here (MerchantCredentialsError naming it)."""
        self._http = http
        self._url = f"{base_url.rstrip('/')}{CREDIT_ACCOUNT_PATH}"
        self._prepaid = credentials.prepaid
        fixed_iv, authenticated = self._prepaid.token_format_for(envelope)
        self._format = TokenFormat(fixed_iv=fixed_iv, authenticated=authenticated)

    async def credit_account(self, payout: Payout, *, now: datetime, timeout: float) -> PrepaidAnswer:
        terms = payout.prepaid
        if terms is None:
            raise ValueError(f"payout {payout.order_id} is not a prepaid load")
        key = self._prepaid.token_key
        token = encrypt_token(credit_account_request(payout, now=now), key.current, token_format=self._format)
        headers = {**self._prepaid.header_values(), "Content-Type": "application/json"}
        try:
            response = await self._http.patch(
                self._url,
                content=json.dumps({"token": token}).encode("utf-8"),
                headers=headers,
                timeout=timeout,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            return PrepaidAnswer(
                Outcome.AMBIGUOUS, None, f"not sent: {type(error).__name__}", reached_provider=False
            )
        except httpx.TimeoutException:
            return PrepaidAnswer(Outcome.AMBIGUOUS, None, f"no answer within {timeout:.1f} s")
        except httpx.HTTPError as error:
            return PrepaidAnswer(Outcome.AMBIGUOUS, None, f"transport error: {type(error).__name__}")
        if response.status_code >= 500:
            return PrepaidAnswer(Outcome.AMBIGUOUS, None, f"HTTP {response.status_code}")
        try:
            outer = json.loads(response.content)
            if not isinstance(outer, dict):
                raise InvalidTokenError("the answer is not a JSON object")
            document = decrypt_token_current_or_previous(outer.get("token"), key, token_format=self._format)
        except (ValueError, RecursionError) as error:  # InvalidTokenError and JSONDecodeError are ValueErrors
            if response.status_code in _REFUSED_BEFORE_PROCESSING:
                return PrepaidAnswer(
                    Outcome.CONFIGURATION_ERROR,
                    str(response.status_code),
                    f"HTTP {response.status_code}: refused before processing",
                )
            return PrepaidAnswer(
                Outcome.AMBIGUOUS, None, f"HTTP {response.status_code}: the answer does not decrypt ({error})"
            )
        return read_credit_answer(document, client_txn_id=terms.client_txn_id)
