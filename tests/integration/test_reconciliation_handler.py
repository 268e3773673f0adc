"""StatusPollerFunction's real lambda_handler running reconciliation (events/reconcile_schedule.json,
what the daily schedule's execution hands its task) against moto and the simulator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType

import boto3
import httpx
import pytest

from tests.conftest import REGION, FakeLambdaContext, LocalAccount, load_event
from tests.paytm_direct import credit_directly
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.adapters.reconciliation_table import run_and_findings
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest
from tijori_local.sim.server import SimServer

CHECK = "/wallet-web/checkStatus"


def _settled(account: LocalAccount, order_id: str, created: datetime) -> None:
    """A payout Tijori holds as SUCCESS (out of the due index, as a settled payout is)."""
    repository = DynamoDbPayoutRepository(account.table)
    request = PayoutRequest.model_validate(
        {"order_id": order_id, "amount": "10.00", "payee": {"phone": "9876543210"}}
    )
    repository.create(Payout.accept(request, created), first_check_at=created + timedelta(minutes=15))
    for expected, target in (
        (PayoutStatus.ACCEPTED, PayoutStatus.PROCESSING),
        (PayoutStatus.PROCESSING, PayoutStatus.SUCCESS),
    ):
        repository.transition(
            order_id, expected=expected, target=target, at=created, reason="test", next_check_at=None
        )


def _status_calls(paytm: SimServer) -> int:
    return int(httpx.get(f"{paytm.url}/_sim/requests", params={"path": CHECK}).json()["count"])


@pytest.fixture
def poller(load_handler: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("RECONCILIATION_PAGE_SIZE", "1")
    return load_handler("status_poller")


def test_the_scheduled_run_stores_a_success_unknown_to_paytm_with_both_sides_and_changes_nothing(
    poller: ModuleType, function_env: LocalAccount, paytm: SimServer
) -> None:
    created = datetime.now(UTC) - timedelta(hours=1)
    httpx.post(f"{paytm.url}/_sim/users", json={"phone": "9876543210", "kyc": True})
    credit_directly(paytm.url, paytm.context.credentials, order_id="RECON-INT-PAID", phone="9876543210")
    _settled(function_env, "RECON-INT-PAID", created)
    _settled(function_env, "RECON-INT-NEVER-SENT", created)

    answer = poller.lambda_handler(load_event("reconcile_schedule"), FakeLambdaContext())

    assert (answer["more"], answer["state"]) == (False, "FINISHED")
    assert answer["counts"] == {"payouts": {"MATCH": 1, "MISMATCH": 1}, "payments": {}, "refunds": {}}
    table = boto3.resource("dynamodb", region_name=REGION).Table(
        function_env.stack.ref("ReconciliationTable")
    )
    run, [found] = run_and_findings(table, answer["run_id"])
    assert run is not None
    assert (run["trigger"], run["state"], run["mismatches"]) == ("schedule", "FINISHED", 1)
    assert found["id"] == "RECON-INT-NEVER-SENT"
    assert found["tijori"] == {"status": "SUCCESS", "amount": "10.00", "created_at": created.isoformat()}
    assert found["paytm"]["state"] == "NOT_FOUND"
    assert found["mismatches"] == ["paid at Tijori, unknown to Paytm"]
    payout = DynamoDbPayoutRepository(function_env.table).get("RECON-INT-NEVER-SENT")
    assert payout is not None
    assert payout.status is PayoutStatus.SUCCESS


def test_a_run_out_of_time_continues_from_its_cursor_and_asks_no_item_twice(
    poller: ModuleType, function_env: LocalAccount, paytm: SimServer
) -> None:
    created = datetime.now(UTC) - timedelta(hours=1)
    order_ids = [f"RECON-INT-PAGE-{n}" for n in range(3)]
    for order_id in order_ids:
        _settled(function_env, order_id, created)

    # 5 s left: one page (one item) and the run hands over.
    first = poller.lambda_handler(
        {"reconcile": {"kind": "payouts", "since": (created - timedelta(minutes=1)).isoformat()}},
        FakeLambdaContext(remaining_millis=5_000),
    )
    assert (first["more"], first["state"]) == (True, "RUNNING")
    rest = poller.lambda_handler({"reconcile": {"run_id": first["run_id"]}}, FakeLambdaContext())

    assert (rest["more"], rest["state"]) == (False, "FINISHED")
    assert rest["counts"] == {"payouts": {"MISMATCH": 3}}
    assert _status_calls(paytm) == 3
    for order_id in order_ids:
        sequence = httpx.get(f"{paytm.url}/_sim/requests", params={"order_id": order_id}).json()["sequence"]
        assert sequence == [CHECK]


def test_a_reconcile_request_naming_an_unknown_kind_is_refused_before_anything_is_asked(
    poller: ModuleType, paytm: SimServer
) -> None:
    with pytest.raises(ValueError, match="kind"):
        poller.lambda_handler({"reconcile": {"kind": "validations"}}, FakeLambdaContext())
    assert _status_calls(paytm) == 0
