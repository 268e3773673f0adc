"""POST /v1/payouts body rules, as a table of cases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from tijori.payouts.models import PayoutMode, PayoutRequest

VALID: dict[str, Any] = {"order_id": "ORD-1_a@b", "amount": "10.50", "payee": {"phone": "9876543210"}}


def test_minimal_request_gets_defaults() -> None:
    request = PayoutRequest.model_validate(VALID)
    assert request.amount == Decimal("10.50")
    assert request.currency == "INR"
    assert request.mode is PayoutMode.EXISTING_USER


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"order_id": ""}, "order_id", "pattern"),
        ({"order_id": "x" * 51}, "order_id", "pattern"),
        ({"order_id": "ORD 1"}, "order_id", "pattern"),
        ({"amount": "0.99"}, "amount", "at least 1.00"),
        ({"amount": "10.505"}, "amount", "2 decimal places"),
        ({"amount": 10.5}, "amount", "decimal string"),
        ({"amount": "-5"}, "amount", "decimal string"),
        ({"amount": "1e3"}, "amount", "decimal string"),
        ({"currency": "USD"}, "currency", "INR"),
        ({"payee": {}}, "payee", "exactly one"),
        ({"payee": {"phone": "9876543210", "email": "a@b.in"}}, "payee", "exactly one"),
        ({"payee": {"phone": "98765"}}, "payee.phone", "pattern"),
        ({"payee": {"email": "not-an-email"}}, "payee.email", "pattern"),
        ({"payee": {"upi": "x@y"}}, "payee.upi", "Extra inputs"),
        ({"mode": "everyone"}, "mode", "verified_user"),
        ({"pending_days_limit": 6}, "pending_days_limit", "less than or equal to 5"),
        ({"pending_days_limit": -1}, "pending_days_limit", "greater than or equal to 0"),
        ({"surprise": 1}, "surprise", "Extra inputs"),
    ],
)
def test_invalid_request_names_field_and_reason(change: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PayoutRequest.model_validate({**VALID, **change})
    errors = {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}
    assert field in errors, errors
    assert reason in errors[field]


def test_fingerprint_ignores_spelling_out_defaults() -> None:
    explicit = PayoutRequest.model_validate({**VALID, "currency": "INR", "mode": "existing_user"})
    assert explicit.fingerprint() == PayoutRequest.model_validate(VALID).fingerprint()


def test_fingerprint_sees_amount_written_differently_as_the_same_amount() -> None:
    assert (
        PayoutRequest.model_validate({**VALID, "amount": "10.5"}).fingerprint()
        == PayoutRequest.model_validate(VALID).fingerprint()
    )


def test_fingerprint_changes_with_the_amount() -> None:
    assert (
        PayoutRequest.model_validate({**VALID, "amount": "10.51"}).fingerprint()
        != PayoutRequest.model_validate(VALID).fingerprint()
    )
