"""PaytmPayoutsClient: seed 001 (Paytm Payouts' Wallet Validation API) over HTTP (httpx), and the
status query the seed does not name (Paytm Payouts' `/bpay/api/v1/disburse/order/query`, an
assumption beyond the seed: README, "Payee validations").

Every request is JSON with `x-mid` and `x-checksum` = the Paytm checksum of the exact bytes sent,
under the payouts product's key. Transport failures never raise past this module: a timeout, a
connection error, a 5xx, a body that is not JSON, a non-200 answer all come back as AMBIGUOUS
answers, which the validation logic resolves with the status query (DESIGN.md rule 2).

The bodies and answers are read by pure functions (tijori.paytm.payouts_mapping).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from paytm_signing import MerchantCredentials, generate_signature
from tijori.lifecycle.outcomes import Outcome
from tijori.paytm.payouts_mapping import (
    PayoutsAnswer,
    decode_answer,
    read_status_answer,
    read_validate_answer,
    status_query_body,
    validate_body,
)

VALIDATE_PATH = "/bpay/api/v1/beneficiary/validate"
STATUS_QUERY_PATH = "/bpay/api/v1/disburse/order/query"


class PaytmPayoutsClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, credentials: MerchantCredentials) -> None:
        """`base_url` is the Payouts family's (`paytm_payouts_base_url`). Only the secret's payouts
        section is kept (its own key); a secret without it fails here, naming it."""
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._mid = credentials.mid
        self._payouts = credentials.payouts

    async def _post(self, path: str, body: str, timeout: float) -> tuple[PayoutsAnswer | None, Any]:
        key = self._payouts.checksum_key.current  # requests are signed with the current key only
        headers = {
            "Content-Type": "application/json",
            "x-mid": self._mid,
            "x-checksum": generate_signature(body, key),
        }
        try:
            response = await self._http.post(
                f"{self._base_url}{path}", content=body.encode("utf-8"), headers=headers, timeout=timeout
            )
        except httpx.TimeoutException:
            return PayoutsAnswer(Outcome.AMBIGUOUS, None, None, f"no answer within {timeout:.1f} s"), None
        except httpx.HTTPError as error:
            return PayoutsAnswer(
                Outcome.AMBIGUOUS, None, None, f"transport error: {type(error).__name__}"
            ), None
        if response.status_code != 200:
            return PayoutsAnswer(Outcome.AMBIGUOUS, None, None, f"HTTP {response.status_code}"), None
        try:
            document = decode_answer(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return PayoutsAnswer(Outcome.AMBIGUOUS, None, None, "HTTP 200, not JSON"), None
        return None, document

    async def validate(
        self, order_id: str, *, phone: str, callback_url: str | None, timeout: float
    ) -> PayoutsAnswer:
        body = validate_body(
            order_id, subwallet_guid=self._payouts.subwallet_guid, phone=phone, callback_url=callback_url
        )
        failure, document = await self._post(VALIDATE_PATH, body, timeout)
        return failure or read_validate_answer(document)

    async def order_status(self, order_id: str, *, timeout: float) -> PayoutsAnswer:
        failure, document = await self._post(STATUS_QUERY_PATH, status_query_body(order_id), timeout)
        return failure or read_status_answer(document)
