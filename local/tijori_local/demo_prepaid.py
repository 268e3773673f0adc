"""`make demo`, prepaid wallet loads (seed 003) through the real API and the payout function, in
the provider's envelope with the merchant secret's header set.

At least 30 loads: successes (by urn, customer id and mobile; to a sub-wallet and to an account
number), each refusal family the simulator models (closed, blocked, pending cancellation and
credit-blocked cards; a program's daily limit, its min-max range, a cooling-off period; an unknown
wallet), loads sent while the provider refuses connections (a retry settles them), and answers lost
after the provider loaded the wallet (read timeouts) or failed (HTTP 500): those end NEEDS_REVIEW on
purpose, each sent exactly once, and are reported as such. Then every load is reconciled with the
simulator's ledger by clientTxnId.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

CREDIT_ACCOUNT = "/mob1/api/onboarding/v1/creditAccount"
FINAL = {"SUCCESS", "FAILED", "NEEDS_REVIEW"}
REAL_TIME_LIMIT_SECONDS = 120.0


@dataclass
class LoadCase:
    group: str
    order_id: str
    amount: str
    expected: str
    payee: dict[str, str]
    urn: str
    code: str | None = None
    fault: str | None = None
    then: list[LoadCase] = field(default_factory=list)  # loads sent after this one settles


class PrepaidDemo:
    def __init__(
        self, runtime: Any, *, progress: Callable[[str], None], metric_log: Path | None = None
    ) -> None:
        """`metric_log`: where the functions' EMF metric lines go (the demo's function output): the
        report counts the connection retries and reviews the functions published while it ran."""
        self.metric_log = metric_log
        self._metric_offset = (
            metric_log.stat().st_size if metric_log is not None and metric_log.exists() else 0
        )
        self.api = httpx.Client(
            base_url=runtime.api_url,
            headers={"Authorization": f"Bearer {runtime.options.api_token}"},
            timeout=60,
        )
        self.sim = httpx.Client(base_url=str(runtime.sim_url), timeout=60)
        self.progress = progress
        self._numbers = iter(range(1, 100_000))

    # ---- the population and the plan -----------------------------------------------------------
    def wallet(self, **fields: Any) -> tuple[str, dict[str, Any]]:
        number = next(self._numbers)
        urn = f"7{number:010d}"
        wallet = {
            "urn": urn,
            "customer_id": f"C{number:08d}",
            "mobile": f"9198{number:08d}",
            "subwallet_id": f"MOB{number:06d}_1",
            **fields,
        }
        self.sim.post("/_sim/prepaid", json=wallet).raise_for_status()
        return urn, wallet

    def plan(self) -> list[LoadCase]:
        cases: list[LoadCase] = []
        n = iter(range(1, 1000))

        def case(group: str, expected: str, amount: str = "500.00", code: str | None = None,
                 fault: str | None = None, by: str = "urn", **wallet: Any) -> LoadCase:  # fmt: skip
            urn, made = self.wallet(**wallet)
            payee = {
                "urn": {"urn": urn},
                "customer_id": {"customer_id": made["customer_id"]},
                "customer_mobile": {"customer_mobile": made["mobile"][2:]},
            }[by]
            payee["subwallet_id"] = made["subwallet_id"]
            made_case = LoadCase(group, f"DEMO-PP-{next(n):03d}", amount, expected, payee, urn, code, fault)
            cases.append(made_case)
            return made_case

        for index in range(12):
            case(
                "loaded",
                "SUCCESS",
                f"{100 + 25 * index}.50",
                "00",
                by=("urn", "customer_id", "customer_mobile")[index % 3],
            )
        for status, code in (("CLOSED", "1009"), ("BLOCKED", "1010"), ("PENDING_CANCELLATION", "1012"),
                             ("CREDIT_DEBIT_BLOCKED", "1121")):  # fmt: skip
            case(f"refused: card {status.lower()}", "FAILED", code=code, status=status)
        case("refused: card closed", "FAILED", code="1009", status="CLOSED")
        for _ in range(2):
            case("refused: program daily limit", "FAILED", "900.00", "10163", daily_load_limit="500.00")
            case("refused: amount outside min-max", "FAILED", "250000.00", "10153")
        first = case("cooling off: the first load", "SUCCESS", "100.00", "00", cooling_off_seconds=3600)
        second = LoadCase("refused: cooling-off period", "DEMO-PP-COOL", "100.00", "FAILED",
                          dict(first.payee), first.urn, "1353")  # fmt: skip
        first.then.append(second)
        cases.append(second)
        for _ in range(2):
            urn = f"7{next(self._numbers) + 50_000:010d}"  # no such wallet
            cases.append(LoadCase("refused: no such wallet", f"DEMO-PP-{next(n):03d}", "10.00", "FAILED",
                                  {"urn": urn, "subwallet_id": "MOB000000_1"}, urn, "1357"))  # fmt: skip
        for _ in range(4):
            case("connection refused, then retried", "SUCCESS", "60.00", "00", fault="refuse_connections")
        for _ in range(3):
            case(
                "answer lost after the load (read timeout)",
                "NEEDS_REVIEW",
                "80.00",
                fault="timeout_after_commit",
            )
        case("provider error (HTTP 500)", "NEEDS_REVIEW", "80.00", fault="http_500")
        return cases

    # ---- running it ----------------------------------------------------------------------------
    def submit(self, case: LoadCase) -> None:
        if case.fault in ("timeout_after_commit", "http_500"):
            fault = {
                "kind": case.fault,
                "path": CREDIT_ACCOUNT,
                "order_id": case.order_id,
                "delay_seconds": 15,
            }
            if case.fault == "http_500":
                fault["commit"] = False
            self.sim.post("/_sim/faults", json=fault).raise_for_status()
        body = {"rail": "prepaid", "order_id": case.order_id, "amount": case.amount, "payee": case.payee}
        answer = self.api.post("/v1/payouts", json=body)
        if answer.status_code != 202:
            raise RuntimeError(f"{case.order_id}: {answer.status_code} {answer.text}")

    def view(self, order_id: str) -> dict[str, Any]:
        view: dict[str, Any] = self.api.get(f"/v1/payouts/{order_id}").json()
        return view

    def wait_final(self, cases: list[LoadCase]) -> dict[str, dict[str, Any]]:
        deadline = time.monotonic() + REAL_TIME_LIMIT_SECONDS
        views: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            views = {case.order_id: self.view(case.order_id) for case in cases}
            if all(view.get("status") in FINAL for view in views.values()):
                break
            time.sleep(0.5)
        return views

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        cases = self.plan()
        first_wave = [case for case in cases if case.group != "refused: cooling-off period"]
        refused_conn = [case for case in first_wave if case.fault == "refuse_connections"]
        others = [case for case in first_wave if case.fault != "refuse_connections"]
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self.submit, others))
        # The provider refuses every connection for 1.5 s while these are sent: each is retried.
        self.sim.post("/_sim/prepaid/refuse-connections", json={"seconds": 1.5}).raise_for_status()
        for case in refused_conn:
            self.submit(case)
        self.wait_final(first_wave)
        for case in first_wave:
            for later in case.then:
                self.submit(later)
        views = self.wait_final(cases)
        self.progress(f"prepaid: {len(cases)} loads settled in {time.monotonic() - started:.1f} s")
        report = self.report(cases, views, time.monotonic() - started)
        report["metrics_published"] = self.metrics_published()
        return {"prepaid": report}

    def metrics_published(self) -> dict[str, int]:
        """The prepaid metrics in the EMF lines the functions wrote while this demo ran."""
        totals = {"PrepaidConnectRetries": 0, "PrepaidLoadsNeedingReview": 0, "PaytmConfigurationErrors": 0}
        if self.metric_log is None:
            return totals
        sys.stdout.flush()
        with self.metric_log.open(encoding="utf-8") as lines:
            lines.seek(self._metric_offset)
            for line in lines:
                if not line.startswith('{"_aws"'):
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                for name in totals:
                    values = record.get(name, [])
                    totals[name] += int(sum(values) if isinstance(values, list) else values)
        return totals

    # ---- the report ----------------------------------------------------------------------------
    def loads_sent(self, order_id: str) -> int:
        sequence: list[str] = self.sim.get("/_sim/requests", params={"order_id": order_id}).json()["sequence"]
        return sequence.count(CREDIT_ACCOUNT)

    def report(
        self, cases: list[LoadCase], views: dict[str, dict[str, Any]], seconds: float
    ) -> dict[str, Any]:
        by_status = Counter(view.get("status", "?") for view in views.values())
        by_group: dict[str, Counter[str]] = {}
        unexpected: list[dict[str, Any]] = []
        sent_more_than_once: list[str] = []
        for case in cases:
            view = views[case.order_id]
            by_group.setdefault(case.group, Counter())[view.get("status", "?")] += 1
            code_ok = case.code is None or view.get("last_status_code") == case.code
            if view.get("status") != case.expected or not code_ok:
                unexpected.append(
                    {
                        "order_id": case.order_id,
                        "group": case.group,
                        "expected": case.expected,
                        "status": view.get("status"),
                        "code": view.get("last_status_code"),
                    }
                )
            if self.loads_sent(case.order_id) > 1:
                sent_more_than_once.append(case.order_id)
        review = [
            {
                "order_id": case.order_id,
                "group": case.group,
                "reason": views[case.order_id]["history"][-1]["reason"],
            }
            for case in cases
            if views[case.order_id].get("status") == "NEEDS_REVIEW"
        ]
        return {
            "loads": len(cases),
            "seconds": round(seconds, 1),
            "by_status": dict(sorted(by_status.items())),
            "by_group": {group: dict(counts) for group, counts in by_group.items()},
            "unexpected_outcomes": unexpected,
            "non_final": sorted(order for order, view in views.items() if view.get("status") not in FINAL),
            "needs_review_on_purpose": review,
            "sent_more_than_once": sent_more_than_once,
            "reconciliation": self.reconcile(cases, views),
        }

    def reconcile(self, cases: list[LoadCase], views: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Every load against the simulator's ledger, by clientTxnId: SUCCESS loads are there with
        the same amount, FAILED ones are not, NEEDS_REVIEW ones are listed with what the ledger shows
        (what the human reviewing them would look up)."""
        mismatches: list[dict[str, Any]] = []
        loaded = Decimal(0)
        in_ledger = Decimal(0)
        review: dict[str, str] = {}
        for case in cases:
            view = views[case.order_id]
            client_txn_id = view.get("prepaid", {}).get("client_txn_id")
            entries = self.sim.get("/_sim/ledger", params={"order_id": client_txn_id}).json()
            ledger_amount = sum(
                (Decimal(str(e["amount"])) for e in entries if e.get("kind") == "prepaid_load"), Decimal(0)
            )
            in_ledger += ledger_amount
            status = view.get("status")
            if status == "SUCCESS":
                loaded += Decimal(view["amount"])
                if ledger_amount != Decimal(view["amount"]):
                    mismatches.append(
                        {"order_id": case.order_id, "tijori": view["amount"], "ledger": str(ledger_amount)}
                    )
            elif status == "FAILED" and ledger_amount != 0:
                mismatches.append(
                    {"order_id": case.order_id, "tijori": "FAILED", "ledger": str(ledger_amount)}
                )
            elif status == "NEEDS_REVIEW":
                review[case.order_id] = f"{ledger_amount:.2f}"
        reviewed_in_ledger = sum((Decimal(v) for v in review.values()), Decimal(0))
        return {
            "loaded_by_tijori": f"{loaded:.2f}",
            "loads_in_sim_ledger": f"{in_ledger:.2f}",
            "needs_review_in_sim_ledger": {order: amount for order, amount in review.items()},
            "balanced": not mismatches and loaded + reviewed_in_ledger == in_ledger,
            "mismatches": mismatches,
        }
