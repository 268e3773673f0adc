"""PaytmWalletClient: seed 000 over HTTP (httpx), signed, every failure turned into an answer.

Transport failures never raise past this module: a timeout, a connection error, a 5xx, a body
that is not JSON or an HTTP 200 carrying error text all come back as AMBIGUOUS answers, which the
payout logic resolves by checking status (DESIGN.md rule 2).
"""

from __future__ import annotations

import json

import httpx

from paytm_signing import MerchantCredentials, generate_signature
from tijori.payouts.models import Payout
from tijori.paytm.wallet_codes import WalletOutcome
from tijori.paytm.wallet_mapping import (
    WalletAnswer,
    check_status_body,
    decode_answer,
    read_credit_answer,
    read_status_answer,
    sales_to_user_credit_body,
)

CREDIT_PATH = "/wallet-web/salesToUserCredit"
CHECK_STATUS_PATH = "/wallet-web/checkStatus"


class PaytmWalletClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, credentials: MerchantCredentials) -> None:
        """`base_url` is the wallet family's (`paytm_wallet_base_url`). Only the secret's wallet
        section is kept: the wallet APIs are signed with the wallet team's AesKey, never the PG
        key. A secret without a wallet section fails here, naming it."""
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._mid = credentials.mid
        self._wallet = credentials.wallet

    async def _post(self, path: str, body: str, timeout: float) -> tuple[WalletAnswer | None, object]:
        key = self._wallet.checksum_key.current  # requests are signed with the current key only
        headers = {
            "Content-Type": "application/json",
            "mid": self._mid,
            "checksumhash": generate_signature(body, key),
        }
        try:
            response = await self._http.post(
                f"{self._base_url}{path}", content=body.encode("utf-8"), headers=headers, timeout=timeout
            )
        except httpx.TimeoutException:
            return WalletAnswer(WalletOutcome.AMBIGUOUS, None, f"no answer within {timeout:.1f} s"), None
        except httpx.HTTPError as error:
            return WalletAnswer(
                WalletOutcome.AMBIGUOUS, None, f"transport error: {type(error).__name__}"
            ), None
        if response.status_code >= 500:
            return WalletAnswer(WalletOutcome.AMBIGUOUS, None, f"HTTP {response.status_code}"), None
        try:
            document = decode_answer(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return WalletAnswer(WalletOutcome.AMBIGUOUS, None, f"HTTP {response.status_code}, not JSON"), None
        if response.status_code != 200:
            return WalletAnswer(WalletOutcome.AMBIGUOUS, None, f"HTTP {response.status_code}"), None
        return None, document

    async def credit(self, payout: Payout, *, verify_only: bool, timeout: float) -> WalletAnswer:
        body = sales_to_user_credit_body(
            payout,
            merchant_guid=self._wallet.merchant_guid,
            sales_wallet_guid=self._wallet.sales_wallet_guid,
            verify_only=verify_only,
        )
        failure, document = await self._post(CREDIT_PATH, body, timeout)
        return failure or read_credit_answer(document)

    async def check_status(self, order_id: str, *, timeout: float) -> WalletAnswer:
        body = check_status_body(order_id, merchant_guid=self._wallet.merchant_guid)
        failure, document = await self._post(CHECK_STATUS_PATH, body, timeout)
        return failure or read_status_answer(document, order_id)
