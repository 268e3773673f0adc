"""`tijori report` end to end: payouts through the local runtime and the Paytm simulator, then the
operator's command against the stack's tables, then the page opened in headless Chromium."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_payouts_e2e import _tijori, new_user, payout_body, wait_for_status
from tests.paytm_direct import credit_directly
from tests.report_browser import RenderedCharts, rendered_dom
from tijori_local.runtime import LocalRuntime, RuntimeOptions

pytestmark = pytest.mark.e2e
TOKEN = "e2e-report-token"
FINAL = {"SUCCESS", "FAILED", "REVERSED"}
CHARTS = {"finals-per-day", "time-to-final", "pending-ages", "checks-per-pending", "failures-by-code"}


@pytest.fixture(scope="module")
def runtime(merchant_credentials: dict[str, Any]) -> Iterator[LocalRuntime]:
    options = RuntimeOptions(api_port=0, credentials=merchant_credentials, time_scale=60, api_token=TOKEN)
    with LocalRuntime(options) as started:
        yield started


def _table(page: str, table_id: str) -> str:
    start = page.index(f'data-table="{table_id}"')
    return page[start : page.index("</table>", start)]


def _report(runtime: LocalRuntime, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # Ages at the stack's own clock: the simulator's, which the test moves.
    return _tijori(runtime, "report", "--out", str(out), "--as-of", runtime.clock.now().isoformat(), *extra)


def test_the_report_of_a_stack_shows_its_payouts_failures_pending_and_review_and_draws_in_chromium(
    runtime: LocalRuntime, tmp_path: Path
) -> None:
    api = httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    sim = httpx.Client(base_url=str(runtime.sim_url), timeout=60)
    bodies = {
        **{f"RPT-OK-{n}": payout_body(f"RPT-OK-{n}", new_user(sim)) for n in range(3)},
        # No such user and existing_user: Paytm refunds at once, STUC_1002.
        "RPT-NO-USER": payout_body("RPT-NO-USER", new_user(sim, create=False)),
        # VERIFY answers false: Tijori sends no credit.
        "RPT-UNVERIFIED": payout_body(
            "RPT-UNVERIFIED", new_user(sim, mobile_verified=False), mode="verified_user"
        ),
        # No KYC: Paytm holds the credit, pending.
        "RPT-PENDING": payout_body("RPT-PENDING", new_user(sim, kyc=False)),
    }
    # Credited before, with another amount: the status answer does not match, NEEDS_REVIEW.
    phone = new_user(sim)
    credit_directly(
        str(runtime.sim_url), runtime.credentials, order_id="RPT-REVIEW", phone=phone, amount="10.00"
    )
    bodies["RPT-REVIEW"] = payout_body("RPT-REVIEW", phone)
    for body in bodies.values():
        assert api.post("/v1/payouts", json=body).status_code == 202
    for order_id in bodies:
        expected = {"RPT-PENDING": {"PENDING"}, "RPT-REVIEW": {"NEEDS_REVIEW"}}.get(order_id, FINAL)
        wait_for_status(api, order_id, expected)
    assert wait_for_status(api, "RPT-NO-USER", FINAL)["status"] == "FAILED"
    assert wait_for_status(api, "RPT-UNVERIFIED", FINAL)["status"] == "FAILED"
    # Two simulated days on: the pending payout has aged, still within its 5-day window.
    sim.post("/_sim/clock/advance", json={"days": 2}).raise_for_status()
    assert wait_for_status(api, "RPT-PENDING", {"PENDING"})["status"] == "PENDING"

    out = tmp_path / "report.html"
    result = _report(runtime, out)
    assert result.returncode == 0, result.stderr
    assert f"report written to {out}" in result.stdout
    page = out.read_text(encoding="utf-8")

    for chart in CHARTS:
        assert f'data-chart="{chart}" data-state="drawn"' in page, chart
    failures = _table(page, "failures")
    assert "STUC_1002" in failures
    assert "Payee record not found, please verify emailId/ssoId." in failures
    assert "<td>STUC_1010</td>" in failures  # the VERIFY's own answer, with its meaning
    assert "Payee mobile not verified" in failures
    pending = _table(page, "pending-payouts")
    assert "RPT-PENDING" in pending
    aged = re.search(r"RPT-PENDING</td><td>([0-9.]+) d</td><td>5.0 d</td><td></td>", pending)
    assert aged is not None, pending
    assert 2.0 <= float(aged.group(1)) < 3.0  # two days (and the minutes before) of its 5, not past
    review = _table(page, "needs-review")
    assert "RPT-REVIEW" in review
    assert "does not match" in review
    assert '<div class="tile dlq empty"' in page  # nothing in PayoutDLQ

    rendered = RenderedCharts(rendered_dom(out))
    assert rendered.body["data-charts-rendered"] == f"{len(CHARTS)}/{len(CHARTS)}"
    for name, drawn in rendered.charts.items():
        assert int(drawn["data-rendered-shapes"]) > 10, name

    # --since now: every payout was created before, so the final ones are left out; the open ones
    # (pending, in review) stay whatever their age.
    later = tmp_path / "since.html"
    since = _report(runtime, later, "--since", runtime.clock.now().isoformat())
    assert since.returncode == 0, since.stderr
    narrowed = later.read_text(encoding="utf-8")
    assert 'data-chart="finals-per-day" data-state="no-data"' in narrowed
    assert "RPT-PENDING" in narrowed
    assert "RPT-REVIEW" in narrowed
