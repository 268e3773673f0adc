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

from tests.e2e.test_payments_e2e import checkout, create, wait_payment
from tests.e2e.test_payouts_e2e import new_user, payout_body, wait_for_status
from tijori_local.cli import main as tijori
from tijori_local.runtime import LocalRuntime, RuntimeOptions

pytestmark = pytest.mark.e2e
TOKEN = "e2e-reconciliation-token"
STATUS_PATHS = ("/wallet-web/checkStatus", "/merchant-status/getTxnStatus")


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
        "refunds": {},
    }
    # Each item of the window asked once, and nothing else asked.
    assert {order_id: status_calls(sim, order_id) - before[order_id] for order_id in before} == dict.fromkeys(
        before, 1
    )
    assert all_status_calls(sim) - total_before == len(before)
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
