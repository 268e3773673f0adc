"""StatusPollerFunction's real lambda_handler: the pending-checks run's task, one-off checks and
operators' re-checks, against moto and the simulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType

import httpx
import pytest

from tests.conftest import FakeLambdaContext, LocalAccount, load_event
from tests.paytm_direct import credit_directly
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest
from tijori_local.sim.server import SimServer


def _store(
    account: LocalAccount,
    *,
    order_id: str,
    created: datetime,
    status: PayoutStatus,
    phone: str = "9876543210",
) -> None:
    repository = DynamoDbPayoutRepository(account.table)
    request = PayoutRequest.model_validate(
        {"order_id": order_id, "amount": "10.00", "payee": {"phone": phone}}
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
            next_check_at=None,
            pending_since=created,
        )


def _credit_at_paytm(paytm: SimServer, order_id: str, *, kyc: bool) -> None:
    """Make the simulator hold a real credit for the order (pending when the user has no KYC)."""
    httpx.post(f"{paytm.url}/_sim/users", json={"phone": "9876543210", "kyc": kyc})
    credit_directly(paytm.url, paytm.context.credentials, order_id=order_id, phone="9876543210")


def test_a_pending_checks_run_requeues_overdue_accepted_and_checks_a_pending_payout_at_its_age(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
) -> None:
    now = datetime.now(UTC)
    _store(function_env, order_id="OVERDUE-1", created=now - timedelta(hours=1), status=PayoutStatus.ACCEPTED)
    _store(function_env, order_id="FRESH-1", created=now, status=PayoutStatus.ACCEPTED)
    # Pending since 56 minutes and a half: one of its check ages (56 minutes) fell in the last minute.
    _store(
        function_env,
        order_id="PENDING-1",
        created=now - timedelta(minutes=56, seconds=30),
        status=PayoutStatus.PENDING,
    )
    _credit_at_paytm(paytm, "PENDING-1", kyc=True)  # Paytm credited it meanwhile
    poller = load_handler("status_poller")
    result = poller.lambda_handler(load_event("pending_checks_run"), lambda_context)
    assert (result["requeued"], result["checked"], result["failed"]) == (["OVERDUE-1"], ["PENDING-1"], [])
    assert result["more"] is False
    assert result["round"] == 1
    queued = [json.loads(m["Body"])["order_id"] for m in function_env.receive_all(function_env.queue_url)]
    assert queued == ["OVERDUE-1"]
    item = function_env.table.get_item(Key={"order_id": "PENDING-1"})["Item"]
    assert item["status"] == "SUCCESS"


def test_pending_check_task_waits_while_paytm_holds_the_credit(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
) -> None:
    _store(function_env, order_id="ORD-EVT-0001", created=datetime.now(UTC), status=PayoutStatus.PENDING)
    _credit_at_paytm(paytm, "ORD-EVT-0001", kyc=False)
    poller = load_handler("status_poller")
    before = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    result = poller.lambda_handler(load_event("status_poller_pending_check"), lambda_context)
    assert result["outcome"] == "wait"
    assert result["status"] == "PENDING"
    # A routine check of a pending payout writes nothing: its next check comes from its age.
    assert function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"] == before


def test_pending_check_task_finishes_when_paytm_rolled_back(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
) -> None:
    _store(function_env, order_id="ORD-EVT-0001", created=datetime.now(UTC), status=PayoutStatus.PENDING)
    _credit_at_paytm(paytm, "ORD-EVT-0001", kyc=False)
    httpx.post(f"{paytm.url}/_sim/clock/advance", json={"days": 6})
    poller = load_handler("status_poller")
    result = poller.lambda_handler(load_event("status_poller_pending_check"), lambda_context)
    assert result["outcome"] == "final"
    assert result["status"] == "REVERSED"


def test_pending_check_past_the_deadline_moves_to_needs_review_not_failed(
    load_handler: Callable[[str], ModuleType], lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    created = datetime.now(UTC) - timedelta(days=7)
    _store(function_env, order_id="ORD-EVT-0001", created=created, status=PayoutStatus.PENDING)
    poller = load_handler("status_poller")
    result = poller.lambda_handler(load_event("status_poller_pending_check"), lambda_context)
    assert result["outcome"] == "needs_review"
    item = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    assert item["status"] == "NEEDS_REVIEW"
    assert "settlement deadline" in item["history"][-1]["reason"]
    # Still asked about, daily, until Paytm gives a final answer.
    assert item["sweep_bucket"].startswith("due-")
    next_check = datetime.fromtimestamp(int(item["next_check_at"]), UTC)
    assert timedelta(hours=23) < next_check - datetime.now(UTC) <= timedelta(days=1)


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


def test_a_run_visits_more_than_three_pages_of_every_shard(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWEEP_PAGE_SIZE", "3")
    created = datetime.now(UTC) - timedelta(hours=1)
    order_ids = [f"DUE-{number}" for number in range(30)]
    for order_id in order_ids:
        _store(function_env, order_id=order_id, created=created, status=PayoutStatus.ACCEPTED)
    buckets = {function_env.table.get_item(Key={"order_id": o})["Item"]["sweep_bucket"] for o in order_ids}
    assert len(buckets) >= 4  # spread over shards, each read page by page
    poller = load_handler("status_poller")
    result = poller.lambda_handler(load_event("pending_checks_run"), lambda_context)
    assert sorted(result["requeued"]) == sorted(order_ids)
    # Re-queuing moved each one's next check forward: the next run does not starve on them.
    again = poller.lambda_handler(load_event("pending_checks_run"), lambda_context)
    assert again["requeued"] == []


def test_one_unreadable_item_never_stops_a_run(
    load_handler: Callable[[str], ModuleType], lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    created = datetime.now(UTC) - timedelta(hours=1)
    _store(function_env, order_id="GOOD-1", created=created, status=PayoutStatus.ACCEPTED)
    # An item the code cannot read (what `metadata {"": "x"}` once made): no payee, a bad status.
    function_env.table.put_item(
        Item={
            "order_id": "BROKEN-1",
            "status": "NOT-A-STATUS",
            "sweep_bucket": "due-0",
            "next_check_at": int(created.timestamp()),
        }
    )
    poller = load_handler("status_poller")
    result = poller.lambda_handler(load_event("pending_checks_run"), lambda_context)
    assert result["failed"] == ["BROKEN-1"]
    assert result["requeued"] == ["GOOD-1"]
    broken = function_env.table.get_item(Key={"order_id": "BROKEN-1"})["Item"]
    assert int(broken["next_check_at"]) > int(datetime.now(UTC).timestamp())  # postponed, not first again


def test_operator_recheck_asks_paytm_now_and_answers_what_it_said(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
) -> None:
    _store(function_env, order_id="RECHECK-1", created=datetime.now(UTC), status=PayoutStatus.PENDING)
    _credit_at_paytm(paytm, "RECHECK-1", kyc=True)
    poller = load_handler("status_poller")
    report = poller.lambda_handler({"order_id": "RECHECK-1", "operator_recheck": True}, lambda_context)
    assert report["status_before"] == "PENDING"
    assert report["status_after"] == "SUCCESS"
    assert report["paytm"]["txn_status"] == "SUCCESS"
    assert report["paytm"]["txn_amount"] == "10"  # as Paytm wrote it: a JSON number
    assert report["paytm"]["matches_payout"] is True
