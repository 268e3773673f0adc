"""A wallet payout that names a payee validation (issue 12): accepted only when the validation is
VALID for the same phone; otherwise refused with the reason, nothing stored or queued."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pytest

from tests.fakes import Clock, InMemoryPayoutRepository, RecordingDispatcher
from tijori.payouts.intake import PayeeNotValidatedError, submit_payout
from tijori.payouts.models import PayoutRequest


class Status(StrEnum):
    VALID = "VALID"
    FAILED = "FAILED"


@dataclass(frozen=True)
class _Validation:
    status: Any  # a status enum: only its value is read
    phone: str


@pytest.mark.parametrize(
    ("payee", "stored", "reason"),
    [
        ({"phone": "9876543210"}, None, "unknown_validation"),
        ({"phone": "9876543210"}, ("FAILED", "9876543210"), "validation_not_valid"),
        ({"phone": "9876543210"}, ("VALID", "9876500000"), "validation_for_another_phone"),
        ({"email": "a@b.in"}, ("VALID", "9876543210"), "payee_not_a_phone"),
        ({"phone": "9876543210"}, ("VALID", "9876543210"), None),
    ],
)
def test_a_payout_naming_a_validation_is_accepted_only_when_it_is_valid_for_the_same_phone(
    payee: dict[str, str], stored: tuple[str, str] | None, reason: str | None
) -> None:
    class Lookup:
        def get(self, validation_id: str) -> Any:
            return None if stored is None else _Validation(Status(stored[0]), stored[1])

    repository, dispatcher, clock = InMemoryPayoutRepository(), RecordingDispatcher(), Clock()
    request = PayoutRequest.model_validate(
        {"order_id": "PV-1", "amount": "10.00", "payee": payee, "payee_validation_id": "VAL-1"}
    )
    if reason is None:
        submit_payout(
            request, repository=repository, dispatcher=dispatcher, now=clock(), validations=Lookup()
        )
        assert dispatcher.queued == ["PV-1"]
        stored_payout = repository.get("PV-1")
        assert stored_payout is not None
        assert stored_payout.payee_validation_id == "VAL-1"
        return
    with pytest.raises(PayeeNotValidatedError) as refused:
        submit_payout(
            request, repository=repository, dispatcher=dispatcher, now=clock(), validations=Lookup()
        )
    assert refused.value.reason == reason
    assert repository.get("PV-1") is None
    assert dispatcher.queued == []
