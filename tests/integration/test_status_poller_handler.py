"""StatusPollerFunction's real lambda_handler: the schedule event and the state machine task."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType

import pytest

from tests.conftest import FakeLambdaContext, LocalAccount, load_event
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest


def _store(account: LocalAccount, *, order_id: str, created: datetime, status: PayoutStatus) -> None:
    repository = DynamoDbPayoutRepository(account.table)
    request = PayoutRequest.model_validate(
        {"order_id": order_id, "amount": "10.00", "payee": {"phone": "9876543210"}}
    )
    repository.create(Payout.accept(request, created), first_check_at=created + timedelta(minutes=15))
    if status is not PayoutStatus.ACCEPTED:
        repository.transition(
            order_id,
            expected=PayoutStatus.ACCEPTED,
            target=PayoutStatus.PROCESSING,
            at=created,
            reason="test",
            next_check_at=created + timedelta(minutes=15),
        )
    if status is PayoutStatus.PENDING:
        repository.transition(
            order_id,
            expected=PayoutStatus.PROCESSING,
            target=PayoutStatus.PENDING,
            at=created,
            reason="test",
            next_check_at=created + timedelta(minutes=1),
        )


def test_schedule_event_requeues_only_overdue_accepted_payouts(
    load_handler: Callable[[str], ModuleType], lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    now = datetime.now(UTC)
    _store(function_env, order_id="OVERDUE-1", created=now - timedelta(hours=1), status=PayoutStatus.ACCEPTED)
    _store(function_env, order_id="FRESH-1", created=now, status=PayoutStatus.ACCEPTED)
    _store(
        function_env,
        order_id="PROCESSING-1",
        created=now - timedelta(hours=1),
        status=PayoutStatus.PROCESSING,
    )
    poller = load_handler("status_poller")
    result = poller.lambda_handler(load_event("status_poller_schedule"), lambda_context)
    assert result == {"requeued": ["OVERDUE-1"]}
    queued = [json.loads(m["Body"])["order_id"] for m in function_env.receive_all(function_env.queue_url)]
    assert queued == ["OVERDUE-1"]


def test_pending_check_task_waits_on_the_backoff_schedule(
    load_handler: Callable[[str], ModuleType], lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    _store(function_env, order_id="ORD-EVT-0001", created=datetime.now(UTC), status=PayoutStatus.PENDING)
    poller = load_handler("status_poller")
    result = poller.lambda_handler(load_event("status_poller_pending_check"), lambda_context)
    assert result["outcome"] == "wait"
    assert result["status"] == "PENDING"
    assert 1 <= result["wait_seconds"] <= 60


def test_pending_check_past_the_deadline_moves_to_needs_review_not_failed(
    load_handler: Callable[[str], ModuleType], lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    _store(
        function_env,
        order_id="ORD-EVT-0001",
        created=datetime.now(UTC) - timedelta(days=7),
        status=PayoutStatus.PENDING,
    )
    poller = load_handler("status_poller")
    result = poller.lambda_handler(load_event("status_poller_pending_check"), lambda_context)
    assert result["outcome"] == "needs_review"
    item = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    assert item["status"] == "NEEDS_REVIEW"
    assert "sweep_bucket" not in item
    assert "settlement deadline" in item["history"][-1]["reason"]


def test_pending_check_of_an_unknown_payout_raises_for_the_state_machine(
    load_handler: Callable[[str], ModuleType], lambda_context: FakeLambdaContext
) -> None:
    poller = load_handler("status_poller")
    with pytest.raises(Exception, match="ORD-EVT-0001"):
        poller.lambda_handler(load_event("status_poller_pending_check"), lambda_context)


def test_event_of_unknown_shape_is_rejected(
    load_handler: Callable[[str], ModuleType], lambda_context: FakeLambdaContext
) -> None:
    poller = load_handler("status_poller")
    with pytest.raises(Exception, match="validation error"):
        poller.lambda_handler({"hello": "world"}, lambda_context)
