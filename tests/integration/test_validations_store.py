"""The payee validation settler on PayeeValidationsTable in moto, with a scripted Payouts port:
what Tijori asked Paytm and wrote for each answer (the send-once rules, ambiguity, configuration
errors, the lease, the deadline)."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.conftest import REGION, LocalAccount
from tijori.adapters.validation_table import DynamoDbValidationRepository
from tijori.lifecycle.outcomes import Outcome
from tijori.lifecycle.scheduled import CallBudget
from tijori.paytm.payouts_mapping import PayoutsAnswer
from tijori.validations.lifecycle import ValidationStatus
from tijori.validations.models import PayeeValidationRequest
from tijori.validations.settlement import (
    ValidationConfigurationError,
    ValidationConflictError,
    ValidationSettler,
    submit_validation,
)

V = ValidationStatus
MID = "TIJORITEST000000001"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
RECORD: dict[str, Any] = {
    "has_record": True,
    "order_id": "VAL-1",
    "phone": "9876543210",
    "mid": MID,
    "paytm_order_id": "P-1",
}
ACCEPTED = PayoutsAnswer(Outcome.PENDING, "ACCEPTED", "DE_002", "Request accepted")
VALID = PayoutsAnswer(Outcome.SUCCESS, "SUCCESS", "DE_001", "ok", amount=Decimal("1.00"), **RECORD)
NO_RECORD = PayoutsAnswer(Outcome.NOT_FOUND, "FAILURE", "DE_039", "No record found")
TIMEOUT = PayoutsAnswer(Outcome.AMBIGUOUS, None, None, "no answer within 10.0 s")
BAD_KEY = PayoutsAnswer(Outcome.CONFIGURATION_ERROR, "FAILURE", "DE_409", "Checksum Verification Failed")


class ScriptedPayouts:
    """Answers from scripts, recording every call as ("validate" | "status", id)."""

    def __init__(self, validate: list[PayoutsAnswer], status: list[PayoutsAnswer]) -> None:
        self.validate_answers, self.status_answers = deque(validate), deque(status)
        self.calls: list[str] = []

    async def validate(
        self, order_id: str, *, phone: str, callback_url: str | None, timeout: float
    ) -> PayoutsAnswer:
        self.calls.append("validate")
        return self.validate_answers.popleft()

    async def order_status(self, order_id: str, *, timeout: float) -> PayoutsAnswer:
        self.calls.append("status")
        return self.status_answers.popleft()


class Queue:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def dispatch_item(self, kind: str, item_id: str) -> None:
        self.sent.append(("attempt", kind, item_id))

    def request_item_check(self, kind: str, item_id: str) -> None:
        self.sent.append(("check", kind, item_id))


@pytest.fixture
def repository(aws_account: LocalAccount) -> DynamoDbValidationRepository:
    table = boto3.resource("dynamodb", region_name=REGION).Table(
        aws_account.stack.ref("PayeeValidationsTable")
    )
    return DynamoDbValidationRepository(table)


def _submit(repository: DynamoDbValidationRepository, queue: Queue, phone: str = "9876543210") -> None:
    request = PayeeValidationRequest.model_validate({"validation_id": "VAL-1", "phone": phone})
    submit_validation(request, repository=repository, dispatcher=queue, now=NOW, callback_url="https://t/cb")


def _settler(
    repository: DynamoDbValidationRepository, payouts: ScriptedPayouts, queue: Queue, now: datetime = NOW
) -> ValidationSettler:
    return ValidationSettler(
        repository=repository,
        payouts=payouts,
        mid=MID,
        dispatcher=queue,
        clock=lambda: now,
        wall_clock=lambda: 1_800_000_000.0,
        check_delay_seconds=0,
    )


BUDGET = CallBudget(lambda: 25.0)


def test_intake_replays_the_stored_validation_and_refuses_another_phone(
    repository: DynamoDbValidationRepository,
) -> None:
    queue = Queue()
    _submit(repository, queue)
    _submit(repository, queue)  # never sent: queued again
    assert queue.sent == [("attempt", "validation", "VAL-1")] * 2
    with pytest.raises(ValidationConflictError) as conflict:
        _submit(repository, queue, phone="9876543211")
    assert conflict.value.fields == ["phone"]


def test_an_accepted_send_stays_accepted_and_a_second_delivery_sends_nothing(
    repository: DynamoDbValidationRepository,
) -> None:
    queue, payouts = Queue(), ScriptedPayouts([ACCEPTED], [])
    _submit(repository, queue)
    settler = _settler(repository, payouts, queue)
    asyncio.run(settler.attempt("VAL-1", BUDGET))
    stored = repository.get("VAL-1")
    assert stored is not None
    assert (stored.status, stored.paytm_code, stored.attempts, stored.lease_until) == (
        V.ACCEPTED,
        "DE_002",
        1,
        None,
    )
    assert stored.first_sent_at == NOW
    # A redelivery (lease released) asks the status first; Paytm has the order: nothing is sent.
    payouts.status_answers.append(VALID)
    asyncio.run(settler.attempt("VAL-1", BUDGET))
    assert payouts.calls == ["validate", "status"]
    settled = repository.get("VAL-1")
    assert settled is not None
    assert (settled.status, settled.penny_amount, settled.paytm_order_id) == (V.VALID, Decimal("1.00"), "P-1")


def test_a_timeout_is_asked_about_and_sent_again_only_when_paytm_has_no_record(
    repository: DynamoDbValidationRepository,
) -> None:
    queue, payouts = Queue(), ScriptedPayouts([TIMEOUT, ACCEPTED], [NO_RECORD])
    _submit(repository, queue)
    asyncio.run(_settler(repository, payouts, queue).attempt("VAL-1", BUDGET))
    assert payouts.calls == ["validate", "status", "validate"]
    stored = repository.get("VAL-1")
    assert stored is not None
    assert stored.status is V.ACCEPTED


@pytest.mark.parametrize(
    "refusal",
    [TIMEOUT, PayoutsAnswer(Outcome.AMBIGUOUS, "FAILURE", "DE_040", "Duplicate order id")],
)
def test_an_ambiguous_answer_is_never_failed_and_the_status_query_decides(
    repository: DynamoDbValidationRepository, refusal: PayoutsAnswer
) -> None:
    queue, payouts = Queue(), ScriptedPayouts([refusal], [VALID])
    _submit(repository, queue)
    assert asyncio.run(_settler(repository, payouts, queue).attempt("VAL-1", BUDGET)) == "VALID"
    assert payouts.calls == ["validate", "status"]


def test_a_configuration_error_raises_releases_the_lease_and_decides_nothing(
    repository: DynamoDbValidationRepository,
) -> None:
    queue, payouts = Queue(), ScriptedPayouts([BAD_KEY], [BAD_KEY])
    _submit(repository, queue)
    settler = _settler(repository, payouts, queue)
    with pytest.raises(ValidationConfigurationError):
        asyncio.run(settler.attempt("VAL-1", BUDGET))
    stored = repository.get("VAL-1")
    assert stored is not None
    assert (stored.status, stored.lease_until) == (V.ACCEPTED, None)
    with pytest.raises(ValidationConfigurationError):
        asyncio.run(settler.attempt("VAL-1", BUDGET))  # the redelivery asks the status: refused too
    assert payouts.calls == ["validate", "status"]


def test_a_callbacks_check_during_the_attempt_settles_on_a_matching_record_and_the_attempt_stops(
    repository: DynamoDbValidationRepository,
) -> None:
    queue = Queue()
    _submit(repository, queue)
    taken = repository.take_attempt("VAL-1", wall_now=1_800_000_000.0, lease_until=1_800_000_120.0, at=NOW)
    assert taken is not None
    repository.mark_sent("VAL-1", at=NOW)
    still_accepted = PayoutsAnswer(Outcome.PENDING, "ACCEPTED", "DE_002", "Request accepted", **RECORD)
    payouts = ScriptedPayouts([], [still_accepted, VALID])
    before = repository.get("VAL-1")
    # Nothing decided yet: left to the attempt, nothing written.
    assert asyncio.run(_settler(repository, payouts, queue).check("VAL-1", timeout=5)).startswith(
        "attempt in flight"
    )
    assert repository.get("VAL-1") == before
    assert asyncio.run(_settler(repository, payouts, queue).check("VAL-1", timeout=5)) == "VALID"
    stored = repository.get("VAL-1")
    assert stored is not None
    assert (stored.status, stored.lease_until) == (V.VALID, None)


def test_a_validation_still_pending_after_the_deadline_needs_review_and_is_asked_daily(
    repository: DynamoDbValidationRepository,
) -> None:
    queue, pending = Queue(), PayoutsAnswer(Outcome.PENDING, "PENDING", "DE_101", "in process", **RECORD)
    _submit(repository, queue)
    payouts = ScriptedPayouts([pending], [pending, pending])
    asyncio.run(_settler(repository, payouts, queue).attempt("VAL-1", BUDGET))
    stored = repository.get("VAL-1")
    assert stored is not None
    assert stored.status is V.PENDING
    assert asyncio.run(
        _settler(repository, payouts, queue, NOW + timedelta(hours=23)).check("VAL-1", timeout=5)
    ) == ("still pending")
    later = _settler(repository, payouts, queue, NOW + timedelta(hours=24, minutes=1))
    assert asyncio.run(later.check("VAL-1", timeout=5)) == "NEEDS_REVIEW"
    reviewed = repository.get("VAL-1")
    assert reviewed is not None
    assert "no final answer 24 h after it became pending" in str(reviewed.reason)
    item: dict[str, Any] = repository.table.get_item(Key={"validation_id": "VAL-1"})["Item"]
    assert int(item["next_check_at"]) == int((NOW + timedelta(days=1, hours=24, minutes=1)).timestamp())


def test_a_misconfigured_validation_past_the_deadline_stays_accepted_for_the_redrive(
    repository: DynamoDbValidationRepository,
) -> None:
    queue, payouts = Queue(), ScriptedPayouts([BAD_KEY], [BAD_KEY, NO_RECORD])
    _submit(repository, queue)
    with pytest.raises(ValidationConfigurationError):
        asyncio.run(_settler(repository, payouts, queue).attempt("VAL-1", BUDGET))
    later = _settler(repository, payouts, queue, NOW + timedelta(hours=30))
    assert asyncio.run(later.check("VAL-1", timeout=5)).startswith("ACCEPTED: asked again in 3600 s")
    stored = repository.get("VAL-1")
    assert stored is not None
    assert stored.status is V.ACCEPTED
    # Fixed and redriven: the attempt takes it, asks first (no record), and sends.
    payouts.validate_answers.append(ACCEPTED)
    asyncio.run(later.attempt("VAL-1", BUDGET))
    assert payouts.calls == ["validate", "status", "status", "validate"]
