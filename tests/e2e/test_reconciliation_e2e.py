"""Reconciliation end to end: payouts and payments settled through the local runtime, a
disagreement planted in Paytm's record through the simulator's control API, and `tijori
reconcile` (its main function, against the local runtime's endpoint) reporting exactly that one
with both sides, having asked Paytm once about each item of the window and no more."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_payments_e2e import checkout, create, post_refund, wait_payment, wait_refund
from tests.e2e.test_payouts_e2e import new_user, payout_body, wait_for_status
from tests.local.conftest import wait_until
from tijori_local.cli import main as tijori
from tijori_local.runtime import LocalRuntime, RuntimeOptions

pytestmark = pytest.mark.e2e
TOKEN = "e2e-reconciliation-token"
STATUS_PATHS = (
    "/wallet-web/checkStatus",
    "/merchant-status/getTxnStatus",
    "/refund/HANDLER_INTERNAL/getRefundStatus",
)


@pytest.fixture(scope="module")
def runtime(merchant_credentials: dict[str, Any]) -> Iterator[LocalRuntime]:
    options = RuntimeOptions(api_port=0, credentials=merchant_credentials, time_scale=60, api_token=TOKEN)
    with LocalRuntime(options) as started:
        yield started


@pytest.fixture
def api(runtime: LocalRuntime) -> httpx.Client:
    return httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)


@pytest.fixture
def sim(runtime: LocalRuntime) -> httpx.Client:
    return httpx.Client(base_url=str(runtime.sim_url), timeout=60)


def settle_payout(api: httpx.Client, sim: httpx.Client, order_id: str) -> None:
    answer = api.post("/v1/payouts", json=payout_body(order_id, new_user(sim)))
    assert answer.status_code == 202, answer.text
    wait_for_status(api, order_id, {"SUCCESS"})


def settle_payment(api: httpx.Client, sim: httpx.Client, order_id: str) -> None:
    create(api, order_id, "100.00")
    checkout(sim, order_id, "SUCCESS")
    wait_payment(api, order_id, {"PAID"})


def status_calls(sim: httpx.Client, order_id: str) -> int:
    sequence = sim.get("/_sim/requests", params={"order_id": order_id}).json()["sequence"]
    return sum(1 for path in sequence if path in STATUS_PATHS)


def all_status_calls(sim: httpx.Client) -> int:
    return sum(int(sim.get("/_sim/requests", params={"path": path}).json()["count"]) for path in STATUS_PATHS)


def reconcile(runtime: LocalRuntime, since: datetime, out: Path) -> tuple[int, dict[str, Any]]:
    assert runtime.stack is not None
    code = tijori(
        [
            "reconcile",
            "--since",
            since.isoformat(),
            "--kind",
            "all",
            "--out",
            str(out),
            "--endpoint-url",
            runtime.aws_endpoint_url,
            "--stack-name",
            runtime.stack.stack_name,
        ]
    )
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return code, report


def test_reconciliation_reports_exactly_the_mismatch_planted_at_paytm_with_both_sides(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client, tmp_path: Path
) -> None:
    since = runtime.clock.now()
    payouts = ["E2E-RECON-PO-1", "E2E-RECON-PO-2"]
    payments = ["E2E-RECON-PAY-1", "E2E-RECON-PAY-2"]
    for order_id in payouts:
        settle_payout(api, sim, order_id)
    for order_id in payments:
        settle_payment(api, sim, order_id)
    assert post_refund(api, payments[0], "E2E-RECON-REF-1", "40.00").status_code == 202
    wait_refund(api, payments[0], "E2E-RECON-REF-1", {"SUCCESS"})
    # As if Paytm reversed the first payout after Tijori settled it SUCCESS.
    planted = sim.post(f"/_sim/orders/{payouts[0]}/plant", json={"api": "wallet", "status": "REFUNDED_BACK"})
    assert planted.status_code == 200, planted.text
    before = {order_id: status_calls(sim, order_id) for order_id in payouts + payments}
    total_before = all_status_calls(sim)

    code, report = reconcile(runtime, since, tmp_path / "reconciliation.json")

    assert code == 1
    assert [(found["kind"], found["id"]) for found in report["mismatches"]] == [("payouts", payouts[0])]
    mismatch = report["mismatches"][0]
    assert mismatch["tijori"]["status"] == "SUCCESS"
    assert mismatch["tijori"]["amount"] == "25.00"
    assert mismatch["paytm"]["state"] == "NOT_PAID"
    assert mismatch["paytm"]["status"] == "FAILURE"
    assert mismatch["paytm"]["amount"] == "25.00"
    assert mismatch["mismatches"] == ["paid at Tijori, not paid at Paytm"]
    assert report["counts"] == {
        "payouts": {"MATCH": 1, "MISMATCH": 1},
        "payments": {"MATCH": 2},
        "refunds": {"MATCH": 1},
    }
    # Each item of the window asked once, and nothing else asked (the simulator logs a refund's
    # status call under its payment's order id).
    asked = {order_id: status_calls(sim, order_id) - before[order_id] for order_id in before}
    assert asked == {**dict.fromkeys(before, 1), payments[0]: 2}
    assert all_status_calls(sim) - total_before == 5
    # Read-only: the payout is still SUCCESS at Tijori; an operator decides.
    assert api.get(f"/v1/payouts/{payouts[0]}").json()["status"] == "SUCCESS"


def test_reconciliation_of_a_window_that_agrees_with_paytm_exits_zero(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client, tmp_path: Path
) -> None:
    since = runtime.clock.now()
    settle_payout(api, sim, "E2E-RECON-PO-CLEAN")
    settle_payment(api, sim, "E2E-RECON-PAY-CLEAN")
    total_before = all_status_calls(sim)

    code, report = reconcile(runtime, since, tmp_path / "clean.json")

    assert code == 0
    assert report["mismatches"] == []
    assert report["counts"] == {"payouts": {"MATCH": 1}, "payments": {"MATCH": 1}, "refunds": {}}
    assert all_status_calls(sim) - total_before == 2


def test_the_daily_schedule_reconciles_each_window_since_the_last_and_asks_about_an_item_once(
    merchant_credentials: dict[str, Any],
) -> None:
    # An hourly schedule at 1200x: a scheduled run every 3 real seconds, each over the window
    # since the previous one, ending an hour (3 s) before the run (SCHEDULED_LAG), so the payout is
    # final when its window is reconciled. The local runtime leaves the schedule off unless told.
    options = RuntimeOptions(
        api_port=0,
        credentials=merchant_credentials,
        time_scale=1200,
        api_token=TOKEN,
        parameter_overrides={"ReconcileScheduleState": "ENABLED", "ReconcileSchedule": "rate(1 hour)"},
    )
    with LocalRuntime(options) as runtime:
        assert runtime.stack is not None
        api = httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        sim = httpx.Client(base_url=str(runtime.sim_url), timeout=60)
        table = runtime.client("dynamodb")
        table_name = runtime.stack.ref("ReconciliationTable")

        def scheduled_runs() -> list[dict[str, Any]]:
            items = table.scan(TableName=table_name)["Items"]
            return [
                item for item in items if item["entry"]["S"] == "run" and item["trigger"]["S"] == "schedule"
            ]

        def finished_matches() -> tuple[int, int]:
            runs = [run for run in scheduled_runs() if run["state"]["S"] == "FINISHED"]
            matches = sum(
                int(run["counts"]["M"].get("payouts", {"M": {}})["M"].get("MATCH", {"N": "0"})["N"])
                for run in runs
            )
            return len(runs), matches

        settle_payout(api, sim, "E2E-RECON-SCHEDULED")
        assert wait_until(lambda: finished_matches()[1] == 1, timeout=60), finished_matches()
        runs_then = finished_matches()[0]
        assert wait_until(lambda: finished_matches()[0] >= runs_then + 3, timeout=60)

        assert finished_matches()[1] == 1  # later windows did not take it again
        assert status_calls(sim, "E2E-RECON-SCHEDULED") == 1
