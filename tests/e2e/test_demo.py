"""`make demo` in CI: the main job runs to the end, balanced, nothing left non-final."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


# Three runtimes, one after another (payouts; collections; the other rails with auto-debit): about
# 4-5 minutes here, beyond the suite's 300 s default per test.
@pytest.mark.timeout(900)
def test_demo_settles_every_payout_and_reconciles_with_the_ledger(tmp_path: Path) -> None:
    report_path = tmp_path / "demo.json"
    # A process of its own, exactly as `make demo` runs it (it owns stdout and the environment).
    result = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "tijori_local.demo", "--output", str(report_path)],
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["payouts_total"] >= 200
    assert report["non_final"] == []
    assert report["reconciliation"]["balanced"] is True
    assert report["reconciliation"]["mismatches"] == [], report["reconciliation"]
    assert report["unexpected_outcomes"] == [], report["unexpected_outcomes"]
    assert set(report["by_status"]) == {"SUCCESS", "FAILED", "REVERSED"}
    assert report["checks_per_pending"]["payouts"] > 0
    assert "Reconciliation with the simulator's ledger: BALANCED" in result.stdout
    # Collections: 60+ payments and 30+ refunds, every status equal to the simulator's truth.
    payments, refunds = report["payments"], report["refunds"]
    assert payments["total"] >= 60
    assert refunds["total"] >= 30
    assert set(payments["by_status"]) == {"PAID", "FAILED", "EXPIRED"}
    for part in (payments, refunds):
        assert part["non_final"] == []
        assert part["reconciliation"]["balanced"] is True, part["reconciliation"]
        assert part["reconciliation"]["mismatches"] == []
    assert payments["unexpected_outcomes"] == []
    assert refunds["race"] == {"submitted": 10, "accepted": 3}
    assert refunds["reconciliation"]["refunded_never_above_paid"] is True
    assert {entry["status"] for entry in refunds["refused_by_tijori"]} == {422}
    # The other rails: 30+ payee validations (pennies against the ledger) and 30+ prepaid loads
    # (loads against the ledger; lost answers NEEDS_REVIEW on purpose, each sent once).
    validations, prepaid = report["validations"], report["prepaid"]
    assert validations["total"] >= 30
    assert set(validations["by_status"]) == {"VALID", "INVALID"}
    assert validations["reconciliation"]["balanced"] is True, validations["reconciliation"]
    assert validations["callbacks"]["forged_sent"] == validations["callbacks"]["forged_refused_401"] > 0
    assert prepaid["loads"] >= 30
    assert set(prepaid["by_status"]) == {"SUCCESS", "FAILED", "NEEDS_REVIEW"}
    assert prepaid["reconciliation"]["balanced"] is True, prepaid["reconciliation"]
    assert prepaid["unexpected_outcomes"] == []
    assert prepaid["sent_more_than_once"] == []
    assert prepaid["metrics_published"]["PrepaidConnectRetries"] > 0
    assert len(prepaid["needs_review_on_purpose"]) == 4
    for part in (validations, prepaid):
        assert part["non_final"] == []
    # Auto-debit: 20+ links, 40+ charges on them; each charge debited the customer's wallet what
    # Tijori says it paid (faults included: one debit each), refunds back into the wallets.
    links, charges = report["wallet_links"], report["payments"]["charges"]
    assert links["total"] >= 20
    assert set(links["by_status"]) == {"LINKED", "REVOKED", "EXPIRED"}
    assert charges["total"] >= 40
    assert set(charges["by_status"]) == {"PAID", "FAILED"}
    assert charges["unexpected_outcomes"] == []
    assert charges["not_accepted"] == []
    assert charges["reconciliation"]["balanced"] is True, charges["reconciliation"]
    assert charges["reconciliation"]["mismatches"] == []
    assert {r["status"] for r in charges["refused_after_revoke"]} == {409}
    assert {r["paytm_calls"] for r in charges["refused_after_revoke"]} == {0}
    assert set(charges["directpay_calls"]) == {"1", "2"}  # 2: only where Paytm never took the first
    assert charges["refunds"]["by_status"] == {"SUCCESS": charges["refunds"]["total"]}
    # Events to the merchant: every final item of the three runtimes announced exactly once by
    # event id (redeliveries carry the same id), each with its final status's detail-type.
    events = report["events"]
    assert events["announced_once"] is True, {
        n: p for n, p in events["phases"].items() if not p["announced_once"]
    }
    final_items = (
        report["payouts_total"]
        + payments["total"]
        + sum(refunds["by_status"].values())
        + validations["total"]
        + sum(n for status, n in prepaid["by_status"].items() if status != "NEEDS_REVIEW")
        # Auto-debit: the charges, the add-money orders and the charges' refunds (all final), and
        # the wallet links that ended (EXPIRED, REVOKED; LINKED is not final).
        + charges["total"]
        + len(charges["add_money_orders"])
        + charges["refunds"]["total"]
        + sum(n for status, n in links["by_status"].items() if status != "LINKED")
    )
    assert events["final_items"] == events["distinct_event_ids"] == final_items
    assert events["posts"] == events["distinct_event_ids"] + events["redeliveries"]
    assert {"PayoutSucceeded", "PayoutFailed", "PayoutReversed", "PaymentPaid", "PaymentFailed"} <= set(
        events["by_detail_type"]
    )
    assert {"PaymentExpired", "RefundSucceeded", "PayeeValidationValid", "PayeeValidationInvalid"} <= set(
        events["by_detail_type"]
    )
    assert "Events to the merchant:" in result.stdout
    # The operators' report with charts, from the three runtimes, beside demo.json.
    assert f"operators' report with charts written to {tmp_path / 'report.html'}" in result.stdout
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count('<figure class="chart"') == 5
    assert page.count('<div class="tile dlq empty"') == 3  # one PayoutDLQ per runtime, all empty
    assert "NEEDS_REVIEW (4)" in page  # the prepaid loads in review on purpose
