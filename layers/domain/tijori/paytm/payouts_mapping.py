"""Seed 001 request bodies and answers (Paytm Payouts' Wallet Validation API and its status
query), as pure functions: tests/unit/test_payouts_connector.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tijori.lifecycle.outcomes import Outcome
from tijori.paytm.payouts_codes import PAYOUTS_CATALOGUE, classify


@dataclass(frozen=True)
class PayoutsAnswer:
    """What one validate or status-query call told us. `outcome` is the catalogue's reading of it;
    `has_record` says the answer carried Paytm's record of the order (`result`): only such a
    status answer can decide a validation."""

    outcome: Outcome
    status: str | None
    code: str | None
    message: str
    has_record: bool = False
    order_id: str | None = None
    paytm_order_id: str | None = None
    phone: str | None = None
    mid: str | None = None
    amount: Decimal | None = None


def _body(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def validate_body(order_id: str, *, subwallet_guid: str, phone: str, callback_url: str | None) -> str:
    """The exact JSON text that is signed and sent (the seed's sample's field names)."""
    document: dict[str, Any] = {
        "orderId": order_id,
        "subwalletGuid": subwallet_guid,
        "beneficiaryPhoneNo": phone,
    }
    if callback_url:
        document["callbackUrl"] = callback_url
    return _body(document)


def status_query_body(order_id: str) -> str:
    return _body({"orderId": order_id})


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _amount(value: Any) -> Decimal | None:
    """An exact amount from numeric text or a JSON number; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount.quantize(Decimal("0.01")) if amount.is_finite() and amount >= 0 else None


def _envelope(document: dict[str, Any]) -> tuple[str | None, str | None, str]:
    status, code = _text(document.get("status")), _text(document.get("statusCode"))
    message = _text(document.get("statusMessage")) or PAYOUTS_CATALOGUE.meaning_of(code) or ""
    return status, code, message


def _with_record(
    outcome: Outcome, status: str | None, code: str | None, message: str, result: Any
) -> PayoutsAnswer:
    if not isinstance(result, dict):
        return PayoutsAnswer(outcome, status, code, message)
    phone = _text(result.get("beneficiaryPhoneNo"))
    return PayoutsAnswer(
        outcome,
        status,
        code,
        message,
        has_record=True,
        order_id=_text(result.get("orderId")),
        paytm_order_id=_text(result.get("paytmOrderId")),
        phone=phone[-10:] if phone else None,
        mid=_text(result.get("mid")),
        amount=_amount(result.get("amount")),
    )


def read_validate_answer(document: Any) -> PayoutsAnswer:
    """The Wallet Validation API's answer (ACCEPTED DE_002, or a refusal)."""
    if not isinstance(document, dict):
        return PayoutsAnswer(Outcome.AMBIGUOUS, None, None, "answer is not a JSON object")
    status, code, message = _envelope(document)
    return _with_record(classify(status, code), status, code, message, document.get("result"))


def read_status_answer(document: Any) -> PayoutsAnswer:
    """The status query's answer. Without Paytm's record (`result`) it speaks of the request only:
    DE_039 is NOT_FOUND, a configuration code is CONFIGURATION_ERROR, anything else AMBIGUOUS
    (the status request's own refusal never decides a validation, DESIGN.md rule 3)."""
    if not isinstance(document, dict):
        return PayoutsAnswer(Outcome.AMBIGUOUS, None, None, "answer is not a JSON object")
    status, code, message = _envelope(document)
    outcome = classify(status, code)
    result = document.get("result")
    if not isinstance(result, dict):
        if outcome not in (Outcome.NOT_FOUND, Outcome.CONFIGURATION_ERROR):
            outcome = Outcome.AMBIGUOUS
        return PayoutsAnswer(outcome, status, code, message)
    if outcome is Outcome.NOT_FOUND:
        outcome = Outcome.AMBIGUOUS  # "no record" that carries a record: a contradiction
    return _with_record(outcome, status, code, message, result)


def decode_answer(content: bytes) -> Any:
    return json.loads(content, parse_float=Decimal)
