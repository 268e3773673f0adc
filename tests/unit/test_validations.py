"""Payee validations: the request model, the lifecycle table, the decision table and the view, as
tables of cases (the flows run end to end in tests/e2e/test_validations_e2e.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from tijori.adapters.validation_table import item_to_validation, validation_to_item
from tijori.lifecycle.outcomes import Outcome
from tijori.paytm.payouts_mapping import PayoutsAnswer
from tijori.validations.lifecycle import VALIDATION_LIFECYCLE, ValidationStatus
from tijori.validations.models import PayeeValidation, PayeeValidationRequest, ValidationStep
from tijori.validations.responses import ValidationView
from tijori.validations.rules import decide

V = ValidationStatus
OC = Outcome
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
VALID_BODY: dict[str, Any] = {"validation_id": "VAL-1_a@b", "phone": "9876543210"}


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"validation_id": ""}, "validation_id", "pattern"),
        ({"validation_id": "x" * 51}, "validation_id", "pattern"),
        ({"validation_id": "VAL 1"}, "validation_id", "pattern"),
        ({"validation_id": 12}, "validation_id", "string"),
        ({"phone": "98765"}, "phone", "pattern"),
        ({"phone": "5987654321"}, "phone", "pattern"),
        ({"phone": "+919876543210"}, "phone", "pattern"),
        ({"phone": 9876543210}, "phone", "string"),
        ({"phone": None}, "phone", "string"),
        ({"amount": "1.00"}, "amount", "Extra inputs are not permitted"),
    ],
)
def test_a_bad_request_names_the_field_and_the_reason(
    change: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        PayeeValidationRequest.model_validate({**VALID_BODY, **change})
    errors = refused.value.errors()
    assert [".".join(str(p) for p in error["loc"]) for error in errors] == [field]
    assert reason in errors[0]["msg"]


def test_a_request_without_a_field_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError) as refused:
        PayeeValidationRequest.model_validate({"validation_id": "VAL-1"})
    assert [error["loc"] for error in refused.value.errors()] == [("phone",)]


def test_the_fingerprint_tells_a_replay_from_another_body() -> None:
    same = PayeeValidationRequest.model_validate(VALID_BODY).fingerprint()
    assert PayeeValidationRequest.model_validate(dict(VALID_BODY)).fingerprint() == same
    other = PayeeValidationRequest.model_validate({**VALID_BODY, "phone": "9876543211"}).fingerprint()
    assert other != same


def test_the_lifecycle_has_three_finals_and_never_leaves_them() -> None:
    assert VALIDATION_LIFECYCLE.finals == {V.VALID, V.INVALID, V.FAILED}
    for final in VALIDATION_LIFECYCLE.finals:
        assert all(not VALIDATION_LIFECYCLE.may_move(final, target) for target in V)
    assert not VALIDATION_LIFECYCLE.may_move(V.PENDING, V.ACCEPTED)
    assert VALIDATION_LIFECYCLE.may_move(V.NEEDS_REVIEW, V.VALID)


def validation(status: ValidationStatus = V.ACCEPTED, **changes: Any) -> PayeeValidation:
    fields: dict[str, Any] = {
        "validation_id": "VAL-1",
        "phone": "9876543210",
        "request_fingerprint": "f",
        "status": status,
        "created_at": NOW,
        "updated_at": NOW,
        "history": (ValidationStep(from_status=None, to_status="ACCEPTED", at=NOW, reason="accepted"),),
        **changes,
    }
    return PayeeValidation(**fields)


def answer(status: str | None, code: str | None, outcome: Outcome, **record: Any) -> PayoutsAnswer:
    has_record = bool(record)
    defaults = {"order_id": "VAL-1", "phone": "9876543210", "mid": "MID1"} if has_record else {}
    return PayoutsAnswer(outcome, status, code, "said", has_record=has_record, **{**defaults, **record})


R = {"paytm_order_id": "P-1"}  # an answer carrying Paytm's record of VAL-1


@pytest.mark.parametrize(
    ("current", "reply", "target"),
    [
        (V.ACCEPTED, answer("ACCEPTED", "DE_002", OC.PENDING), V.ACCEPTED),
        (V.ACCEPTED, answer("PENDING", "DE_101", OC.PENDING), V.PENDING),
        (V.ACCEPTED, answer("SUCCESS", "DE_1222", OC.FINAL_FAILURE), V.INVALID),
        (V.ACCEPTED, answer("FAILURE", "DE_702", OC.FINAL_FAILURE), V.INVALID),
        (V.ACCEPTED, answer("FAILURE", "DE_011", OC.INVALID_REQUEST), V.FAILED),
        (V.ACCEPTED, answer("FAILURE", "DE_029", OC.FINAL_FAILURE), V.FAILED),
        # Only the status query's record may say VALID.
        (V.ACCEPTED, answer("SUCCESS", "DE_001", OC.SUCCESS), None),
        (V.ACCEPTED, answer(None, None, OC.AMBIGUOUS), None),
        (V.ACCEPTED, answer("FAILURE", "DE_040", OC.AMBIGUOUS), None),
        (V.ACCEPTED, answer("FAILURE", "DE_409", OC.CONFIGURATION_ERROR), None),
    ],
)
def test_the_validate_answer_table(current: ValidationStatus, reply: PayoutsAnswer, target: V | None) -> None:
    decision = decide(validation(current), reply, status_answer=False)
    assert (decision.target if decision else None) is target


@pytest.mark.parametrize(
    ("current", "reply", "target"),
    [
        (V.ACCEPTED, answer("SUCCESS", "DE_001", OC.SUCCESS, **R, amount=Decimal("1.00")), V.VALID),
        (V.PENDING, answer("SUCCESS", "DE_001", OC.SUCCESS, **R), V.VALID),
        (V.NEEDS_REVIEW, answer("SUCCESS", "DE_001", OC.SUCCESS, **R), V.VALID),
        (V.ACCEPTED, answer("SUCCESS", "DE_1222", OC.FINAL_FAILURE, **R), V.INVALID),
        (V.ACCEPTED, answer("SUCCESS", "DE_1223", OC.FINAL_FAILURE, **R), V.INVALID),
        (V.PENDING, answer("FAILURE", "DE_702", OC.FINAL_FAILURE, **R), V.INVALID),
        (V.PENDING, answer("FAILURE", "DE_703", OC.FINAL_FAILURE, **R), V.INVALID),
        (V.PENDING, answer("FAILURE", "DE_035", OC.FINAL_FAILURE, **R), V.FAILED),
        (V.ACCEPTED, answer("PENDING", "DE_101", OC.PENDING, **R), V.PENDING),
        (V.ACCEPTED, answer("PENDING", "DE_0618", OC.PENDING, **R), V.PENDING),
        (V.PENDING, answer("PENDING", "DE_101", OC.PENDING, **R), None),
        (V.ACCEPTED, answer("ACCEPTED", "DE_002", OC.PENDING, **R), None),
        # The record must be this validation's.
        (V.ACCEPTED, answer("SUCCESS", "DE_001", OC.SUCCESS, **R, order_id="VAL-2"), V.NEEDS_REVIEW),
        (V.ACCEPTED, answer("SUCCESS", "DE_001", OC.SUCCESS, **R, phone="9876543219"), V.NEEDS_REVIEW),
        (V.PENDING, answer("SUCCESS", "DE_001", OC.SUCCESS, **R, mid="OTHER"), V.NEEDS_REVIEW),
        (V.NEEDS_REVIEW, answer("SUCCESS", "DE_001", OC.SUCCESS, **R, phone="9876543219"), None),
        # No record: the status request's own answer never decides.
        (V.ACCEPTED, answer("FAILURE", "DE_039", OC.NOT_FOUND), None),
        (V.PENDING, answer("FAILURE", "DE_409", OC.CONFIGURATION_ERROR), None),
        (V.PENDING, answer(None, None, OC.AMBIGUOUS), None),
    ],
)
def test_the_status_answer_table(current: ValidationStatus, reply: PayoutsAnswer, target: V | None) -> None:
    decision = decide(validation(current), reply, status_answer=True, mid="MID1")
    assert (decision.target if decision else None) is target
    if target is V.NEEDS_REVIEW:
        assert decision is not None
        assert decision.final_answer
        assert "does not match" in decision.reason


def test_the_view_masks_the_phone_names_the_codes_meaning_and_shows_the_penny_as_text() -> None:
    stored = validation(
        V.VALID, paytm_code="DE_001", paytm_order_id="P-1", penny_amount=Decimal("1.00"), reason="ok"
    )
    view = stored.public_view()
    assert view["phone"] == "********10"
    assert "9876543210" not in str(view)
    assert (view["paytm_code"], view["penny_amount"], view["paytm_order_id"]) == ("DE_001", "1.00", "P-1")
    assert view["paytm_message"].startswith("Successful")
    assert (
        validation(V.INVALID, paytm_code="DE_1222").public_view()["paytm_message"] == "Invalid wallet detail"
    )
    assert validation().public_view()["penny_amount"] is None
    # The documented resource is what the API answers.
    assert (
        ValidationView.model_validate(view).model_dump(by_alias=True, exclude_unset=True).keys()
        == view.keys()
    )


def test_the_table_item_round_trips_the_validation() -> None:
    stored = validation(callback_url="https://api/v1/callbacks/payouts")
    item = validation_to_item(stored)
    assert item_to_validation(item) == stored.model_copy(update={"reason": "accepted"})
    assert item_to_validation({**item, "penny_amount": "1"}).penny_amount == Decimal("1.00")
