"""Seed 003 creditAccount: the decrypted request of a prepaid payout and the reading of the
decrypted answer, as pure functions (tested with tables of cases).

Amounts cross the wire in paise ("implied decimals by two digits"), made from the exact decimal
(`to_paise`), never through a float. `requestDateTime` is India time (the seed's sample,
20161031214559, gives no zone; the provider is Indian), YYYYMMDDHHMMSS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from tijori.lifecycle.outcomes import Outcome
from tijori.payouts.models import Payout
from tijori.paytm.prepaid_codes import PREPAID_CATALOGUE

__all__ = [
    "LOAD_MESSAGE_CODE",
    "LOAD_RESPONSE_MESSAGE_CODE",
    "PrepaidAnswer",
    "credit_account_request",
    "from_paise",
    "read_credit_answer",
    "to_paise",
]

LOAD_MESSAGE_CODE = "1080"
LOAD_RESPONSE_MESSAGE_CODE = "1081"
INDIA = timezone(timedelta(hours=5, minutes=30), "IST")


@dataclass(frozen=True)
class PrepaidAnswer:
    """What one creditAccount call told us. `reached_provider` is False only when the request
    cannot have reached the provider (the connection was refused or never opened)."""

    outcome: Outcome
    status_code: str | None
    message: str
    reached_provider: bool = True
    accosa_ref_no: str | None = None
    amount: Decimal | None = None  # `transactionAmount` of the answer, in INR
    client_txn_id: str | None = None

    @property
    def said(self) -> str:
        meaning = PREPAID_CATALOGUE.meaning_of(self.status_code)
        code = self.status_code or "no code"
        return f"{code}: {meaning or self.message or 'no message'}"


def to_paise(amount: Decimal) -> int:
    """INR as the provider's integer with two implied decimals; ValueError for a fraction of a paisa."""
    scaled = amount.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} INR is not a whole number of paise")
    return int(scaled)


def from_paise(value: object) -> Decimal | None:
    """The provider's integer with two implied decimals as INR; None if it is not an integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value).scaleb(-2).quantize(Decimal("0.01"))
    if isinstance(value, str) and value.strip().isdigit():
        return Decimal(int(value.strip())).scaleb(-2).quantize(Decimal("0.01"))
    return None


def credit_account_request(payout: Payout, *, now: datetime) -> dict[str, Any]:
    """The decrypted creditAccount request (seed 003 "Request packet (Decrypted)")."""
    terms = payout.prepaid
    if terms is None:
        raise ValueError(f"payout {payout.order_id} has no prepaid load terms")
    payee = payout.prepaid_payee
    request: dict[str, Any] = {
        "messageCode": LOAD_MESSAGE_CODE,
        "clientTxnId": terms.client_txn_id,
        "requestDateTime": now.astimezone(INDIA).strftime("%Y%m%d%H%M%S"),
    }
    if payee.urn is not None:
        request["urn"] = int(payee.urn)  # a JSON number, as the seed's sample sends it
    if payee.customer_id is not None:
        request["customerId"] = payee.customer_id
    if payee.mobile_on_the_wire is not None:
        request["customerMobile"] = payee.mobile_on_the_wire
    if payee.subwallet_id is not None:
        request["subWalletId"] = payee.subwallet_id  # the sample's spelling (the table: subwalletId)
    if payee.account_number is not None:
        request["accountNumber"] = payee.account_number
    request.update(
        {
            "transactionAmount": to_paise(payout.amount),
            "sourceType": terms.source_type,
            "sender": terms.sender,
            "fundFlowType": terms.fund_flow_type,
            "implId": terms.impl_id,
            "implType": terms.impl_type,
            "fee": to_paise(terms.fee),
            "orderId": payout.order_id,
        }
    )
    if terms.source_account is not None:
        request["sourceAccount"] = terms.source_account
    return request


def read_credit_answer(document: object, *, client_txn_id: str) -> PrepaidAnswer:
    """The catalogue's reading of a decrypted answer. An answer about another `clientTxnId` is no
    answer about this load (AMBIGUOUS)."""
    if not isinstance(document, dict):
        return PrepaidAnswer(Outcome.AMBIGUOUS, None, "the decrypted answer is not a JSON object")
    raw_code = document.get("responseCode")
    if raw_code is None or isinstance(raw_code, bool):
        return PrepaidAnswer(Outcome.AMBIGUOUS, None, "the answer carries no responseCode")
    code = str(raw_code).strip()
    echoed = None if document.get("clientTxnId") is None else str(document["clientTxnId"])
    if echoed is not None and echoed != client_txn_id:
        return PrepaidAnswer(
            Outcome.AMBIGUOUS, code, f"the answer is about clientTxnId {echoed}, not {client_txn_id}"
        )
    return PrepaidAnswer(
        outcome=PREPAID_CATALOGUE.outcome_of(code),
        status_code=code,
        message=str(document.get("responseMessage") or ""),
        accosa_ref_no=None if document.get("accosaRefNo") is None else str(document["accosaRefNo"]),
        amount=from_paise(document.get("transactionAmount")),
        client_txn_id=echoed,
    )
