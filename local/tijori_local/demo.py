"""`make demo`: Tijori's main job, end to end, on the local runtime and the Paytm simulator.

Submits 200+ payouts through the real HTTP API that exercise every path of seed 000 (verified
users, a VERIFY that answers false, non-KYC users who complete KYC on day 2, new users with
any_user who never register, new users with existing_user, wallet-limit breaches, an exhausted
sub-wallet, duplicate submissions, injected timeouts-after-commit, 500s and error texts), lets
more than five simulated days pass (time compressed), and reconciles Tijori's view with the
simulator's ledger. Then collections (tijori_local.demo_collections): 60 PG checkout payments and
30+ refunds on a runtime of their own, reconciled the same way. Then the other rails, on a third
runtime: 30+ payee validations (tijori_local.demo_validations, seed 001) and 30+ prepaid loads
(tijori_local.demo_prepaid, seed 003), their pennies and loads reconciled with the simulator's
ledger, and 20+ auto-debit wallet links with 40+ charges on them (tijori_local.demo_autodebit, seed
002), reconciled with the customers' wallets in the simulator's ledger. Each runtime delivers its
event bus to a receiver of the demo's (`--events-url`), and the `events` section checks that every
final item of each was announced exactly once by event id (tijori_local.demo_events). Writes
reports/demo.json (sections `validations`, `prepaid`, `wallet_links`, `payments.charges` and
`events` beside the others); exits non-zero if any reconciliation fails, anything is left
non-final, a prepaid load was sent twice, or a final item was not announced exactly once.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import secrets
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tijori_local.demo_autodebit import AutoDebitDemo
from tijori_local.demo_collections import TIME_SCALE as COLLECTIONS_TIME_SCALE
from tijori_local.demo_collections import CollectionsDemo
from tijori_local.demo_events import EventReceiver, audit_phase, summary
from tijori_local.demo_prepaid import PrepaidDemo
from tijori_local.demo_validations import run_validations
from tijori_local.operators.report import snapshot_of_runtime, write_report

FINAL = {"SUCCESS", "FAILED", "REVERSED"}
TIME_SCALE = 6000.0  # 6.5 simulated days in about 95 real seconds
DAY = 86_400.0
SETTLE_DAYS = 6.6  # past the 5-day window and Tijori's one day of slack
REAL_TIME_LIMIT_SECONDS = 170.0


@dataclass
class Case:
    """One payout the demo submits, and what it expects to happen to it."""

    group: str
    order_id: str
    body: dict[str, Any]
    expected: set[str]


@dataclass
class Population:
    cases: list[Case] = field(default_factory=list)
    kyc_on_day_2: list[str] = field(default_factory=list)  # phones
    register_on_day_1: list[str] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    exhausted: list[Case] = field(default_factory=list)

    def add(
        self,
        group: str,
        phone: str,
        *,
        mode: str = "existing_user",
        amount: str = "100.00",
        expected: set[str],
    ) -> Case:
        order_id = f"DEMO-{group}-{len(self.cases) + len(self.exhausted):04d}"
        body = {
            "order_id": order_id,
            "amount": amount,
            "payee": {"phone": phone},
            "mode": mode,
            "narration": f"demo {group}",
        }
        case = Case(group=group, order_id=order_id, body=body, expected=expected)
        return case


def _phone(index: int) -> str:
    return f"9{index:09d}"


def build_population(sim: httpx.Client) -> Population:
    """Users in the simulator, and the payouts that exercise every path."""
    population = Population()
    index = 100

    def user(**fields: Any) -> str:
        nonlocal index
        index += 1
        phone = _phone(index)
        if fields.pop("create", True):
            sim.post("/_sim/users", json={"phone": phone, **fields}).raise_for_status()
        return phone

    def many(
        group: str,
        count: int,
        expected: set[str],
        *,
        mode: str = "existing_user",
        amount: str = "100.00",
        **user_fields: Any,
    ) -> list[Case]:
        made = []
        for _ in range(count):
            case = population.add(group, user(**user_fields), mode=mode, amount=amount, expected=expected)
            population.cases.append(case)
            made.append(case)
        return made

    many("verified", 60, {"SUCCESS"})
    many("verify-ok", 20, {"SUCCESS"}, mode="verified_user")
    many("verify-false", 15, {"FAILED"}, mode="verified_user", mobile_verified=False)
    for case in many("kyc-day2", 20, {"SUCCESS"}, kyc=False):
        population.kyc_on_day_2.append(case.body["payee"]["phone"])
    many("never-registers", 20, {"REVERSED"}, mode="any_user", create=False)
    for case in many("registers-day1", 10, {"SUCCESS"}, mode="any_user", create=False):
        population.register_on_day_1.append(case.body["payee"]["phone"])
    many("new-existing-user", 15, {"FAILED"}, create=False)
    many("limit-breach", 15, {"REVERSED"}, amount="5000.00", limits={"per_txn": "1000.00"})
    for kind, commit in (("timeout_after_commit", True), ("http_500", False), ("error_text", True)):
        for case in many(f"fault-{kind}", 8, {"SUCCESS"}):
            fault = {
                "kind": kind,
                "path": "/wallet-web/salesToUserCredit",
                "order_id": case.order_id,
                "count": 1,
            }
            if kind == "timeout_after_commit":
                fault["delay_seconds"] = 60
            else:
                fault["commit"] = commit
            population.faults.append(fault)
    for _ in range(10):
        case = population.add("exhausted-sub-wallet", user(), expected={"FAILED"})
        population.exhausted.append(case)
    return population


class Demo:
    def __init__(self, runtime: Any, *, progress: Callable[[str], None]) -> None:
        self.runtime = runtime
        self.api = httpx.Client(
            base_url=runtime.api_url,
            headers={"Authorization": f"Bearer {runtime.options.api_token}"},
            timeout=60,
        )
        self.sim = httpx.Client(base_url=runtime.sim_url, timeout=60)
        self.progress = progress
        self.duplicates_submitted = 0
        self.duplicate_answers: Counter[int] = Counter()
        self.started = time.monotonic()

    def sim_day(self) -> float:
        clock = self.sim.get("/_sim/clock").json()
        from datetime import datetime

        now = datetime.fromisoformat(clock["now"]).timestamp()
        return (now - self.epoch) / DAY

    def submit(self, cases: list[Case]) -> None:
        def post(case: Case) -> None:
            response = self.api.post("/v1/payouts", json=case.body)
            if response.status_code != 202:
                raise RuntimeError(f"{case.order_id}: {response.status_code} {response.text}")

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(post, cases))

    def submit_duplicates(self, cases: list[Case]) -> None:
        """The same order again, same body: the stored payout comes back, never a second payout."""

        def post(case: Case) -> int:
            return self.api.post("/v1/payouts", json=case.body).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            for status in pool.map(post, cases):
                self.duplicate_answers[status] += 1
                self.duplicates_submitted += 1

    def statuses(self, cases: list[Case]) -> dict[str, dict[str, Any]]:
        def get(case: Case) -> tuple[str, dict[str, Any]]:
            return case.order_id, self.api.get(f"/v1/payouts/{case.order_id}").json()

        with ThreadPoolExecutor(max_workers=8) as pool:
            return dict(pool.map(get, cases))

    def run(self) -> dict[str, Any]:
        from datetime import datetime

        self.epoch = datetime.fromisoformat(self.sim.get("/_sim/clock").json()["now"]).timestamp()
        population = build_population(self.sim)
        for fault in population.faults:
            self.sim.post("/_sim/faults", json=fault).raise_for_status()
        everything = population.cases + population.exhausted
        self.progress(f"submitting {len(population.cases)} payouts")
        self.submit(population.cases)
        self.submit_duplicates(population.cases[:25])
        # Before the sub-wallet is drained, every attempt must be over: a payout still
        # PROCESSING (a timeout being checked, a 500 about to be resent) would otherwise meet the
        # empty sub-wallet and fail with MWL_2001, which is not what its scenario is about.
        self._wait_out_of(population.cases, {"ACCEPTED", "PROCESSING"}, limit=120)

        # An exhausted sub-wallet: draw it down, submit, then top it up again.
        merchant = self.sim.get("/_sim/merchant").json()
        sales = self.runtime.credentials.wallet.sales_wallet_guid
        balance = next(Decimal(str(w["balance"])) for w in merchant["subWallets"] if w["guid"] == sales)
        self.sim.post("/_sim/balances", json={"guid": sales, "balance": "50.00"}).raise_for_status()
        self.progress(f"submitting {len(population.exhausted)} payouts against an exhausted sub-wallet")
        self.submit(population.exhausted)
        self._wait_out_of(population.exhausted, {"ACCEPTED", "PROCESSING"}, limit=60)
        self.sim.post("/_sim/balances", json={"guid": sales, "balance": str(balance)}).raise_for_status()

        kyc_done = registered = False
        deadline = self.started + REAL_TIME_LIMIT_SECONDS
        while time.monotonic() < deadline:
            day = self.sim_day()
            if day >= 1 and not registered:
                for phone in population.register_on_day_1:
                    self.sim.post("/_sim/users", json={"phone": phone}).raise_for_status()
                registered = True
            if day >= 2 and not kyc_done:
                for phone in population.kyc_on_day_2:
                    self.sim.post("/_sim/users", json={"phone": phone, "kyc": True}).raise_for_status()
                kyc_done = True
            views = self.statuses(everything)
            final = sum(1 for v in views.values() if v["status"] in FINAL)
            self.progress(_bar(final, len(everything), day))
            if final == len(everything) and day >= SETTLE_DAYS - 1.5:
                break
            time.sleep(1.0)
        self.progress("")
        return self.report(population, self.statuses(everything))

    def _wait_out_of(self, cases: list[Case], statuses: set[str], *, limit: float) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if all(v["status"] not in statuses for v in self.statuses(cases).values()):
                return
            time.sleep(0.5)

    def report(self, population: Population, views: dict[str, dict[str, Any]]) -> dict[str, Any]:
        cases = population.cases + population.exhausted
        by_status = Counter(v["status"] for v in views.values())
        by_reason: Counter[str] = Counter()
        for view in views.values():
            reason = view["history"][-1]["reason"] if view["history"] else ""
            by_reason[f"{view['status']}: {reason.split(' (')[0]}"] += 1
        unexpected = [
            {
                "order_id": c.order_id,
                "group": c.group,
                "expected": sorted(c.expected),
                "got": views[c.order_id]["status"],
            }
            for c in cases
            if views[c.order_id]["status"] not in c.expected
        ]
        reconciliation = self.reconcile(views)
        pending_views = [v for v in views.values() if any(h["to"] == "PENDING" for h in v["history"])]
        # Counted by the simulator (what Tijori asked Paytm), since a routine check of a pending
        # payout writes nothing to the payout.
        checks = [self.status_checks_received(v["order_id"]) for v in pending_views]
        report: dict[str, Any] = {
            "payouts_total": len(cases),
            "by_status": dict(sorted(by_status.items())),
            "by_reason": dict(sorted(by_reason.items())),
            "by_group": {
                group: dict(Counter(views[c.order_id]["status"] for c in cases if c.group == group))
                for group in dict.fromkeys(c.group for c in cases)
            },
            "non_final": sorted(o for o, v in views.items() if v["status"] not in FINAL),
            "unexpected_outcomes": unexpected,
            "duplicates": {
                "submitted": self.duplicates_submitted,
                "answers": {str(k): v for k, v in self.duplicate_answers.items()},
            },
            "reconciliation": reconciliation,
            "checks_per_pending": {
                "payouts": len(checks),
                "mean": round(sum(checks) / len(checks), 1) if checks else 0,
                "max": max(checks, default=0),
                "fixed_5_minute_poll_would_be": int(5 * DAY / 300),
            },
            "simulated_days": round(self.sim_day(), 2),
            "real_seconds": round(time.monotonic() - self.started, 1),
        }
        return report

    def status_checks_received(self, order_id: str) -> int:
        answer = self.sim.get(
            "/_sim/requests", params={"path": "/wallet-web/checkStatus", "order_id": order_id}
        )
        return int(answer.json()["count"])

    def reconcile(self, views: dict[str, dict[str, Any]]) -> dict[str, Any]:
        ledger = self.sim.get("/_sim/ledger").json()
        sales = self.runtime.credentials.wallet.sales_wallet_guid
        demo = [e for e in ledger if str(e.get("orderId") or "").startswith("DEMO-")]
        debits = sum((Decimal(str(e["amount"])) for e in demo if e["kind"] == "debit"), Decimal(0))
        credits = sum((Decimal(str(e["amount"])) for e in demo if e["kind"] == "credit"), Decimal(0))
        refunds = sum((Decimal(str(e["amount"])) for e in demo if e["kind"] == "refund"), Decimal(0))
        credited = Counter(str(e["orderId"]) for e in demo if e["kind"] == "credit")
        refunded = {str(e["orderId"]) for e in demo if e["kind"] == "refund"}
        mismatches = []
        for order_id, view in views.items():
            truth = (
                "credited" if credited[order_id] else "refunded" if order_id in refunded else "no money moved"
            )
            ours = view["status"]
            agrees = (ours == "SUCCESS" and truth == "credited" and credited[order_id] == 1) or (
                ours in ("FAILED", "REVERSED") and truth in ("refunded", "no money moved")
            )
            if not agrees:
                mismatches.append(
                    {"order_id": order_id, "tijori": ours, "paytm": truth, "credits": credited[order_id]}
                )
        conservation = self.sim.get("/_sim/conservation").json()
        balanced = debits == credits + refunds and not mismatches and bool(conservation.get("ok"))
        return {
            "balanced": balanced,
            "sub_wallet_debits": f"{debits:.2f}",
            "wallet_credits": f"{credits:.2f}",
            "reversals": f"{refunds:.2f}",
            "mismatches": mismatches,
            "simulator_conservation_ok": bool(conservation.get("ok")),
            "sales_sub_wallet": sales,
        }


def _bar(done: int, total: int, day: float) -> str:
    width = 30
    filled = int(width * done / max(total, 1))
    return f"settling [{'#' * filled}{'.' * (width - filled)}] {done}/{total} final, simulated day {day:4.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("reports/demo.json"))
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")

    from tijori_local.runtime import LocalRuntime, RuntimeOptions

    def progress(line: str) -> None:
        sys.stderr.write("\r\033[K" + line)
        if not line.startswith("settling"):
            sys.stderr.write("\n")
        sys.stderr.flush()

    token = secrets.token_urlsafe(16)
    options = RuntimeOptions(
        api_port=0,
        time_scale=TIME_SCALE,
        api_token=token,
        parameter_overrides={"LogLevel": "WARNING"},
    )
    # The report is this command's output: the functions' EMF metric lines (what CloudWatch
    # reads in AWS) go to a file instead of drowning it.
    function_output = args.output.with_name("demo-function-output.log")
    function_output.parent.mkdir(parents=True, exist_ok=True)
    events: dict[str, dict[str, Any]] = {}
    with (
        function_output.open("w", encoding="utf-8") as sink,
        contextlib.redirect_stdout(sink),
        EventReceiver() as receiver,
        LocalRuntime(dataclasses.replace(options, events_url=receiver.url)) as runtime,
    ):
        progress(f"local runtime up: API {runtime.api_url}, simulator {runtime.sim_url}")
        report = Demo(runtime, progress=progress).run()
        events["payouts"] = audit_phase(runtime, receiver)
        # The operators' report reads each runtime's tables before it stops (each has its own).
        snapshots = [snapshot_of_runtime(runtime, label="payouts runtime")]
    collections_options = RuntimeOptions(
        api_port=0,
        time_scale=COLLECTIONS_TIME_SCALE,
        api_token=token,
        parameter_overrides={"LogLevel": "WARNING"},
    )
    with (
        function_output.open("a", encoding="utf-8") as sink,
        contextlib.redirect_stdout(sink),
        EventReceiver() as receiver,
        LocalRuntime(dataclasses.replace(collections_options, events_url=receiver.url)) as runtime,
    ):
        progress(f"collections runtime up: API {runtime.api_url}, simulator {runtime.sim_url}")
        report.update(CollectionsDemo(runtime, progress=progress).run())
        events["collections"] = audit_phase(runtime, receiver)
        snapshots.append(snapshot_of_runtime(runtime, label="collections runtime"))
    # Payee validations (seed 001) and prepaid loads (seed 003): a runtime of their own at the same
    # 60x (the sweep's minutes after an accepted validation pass in seconds).
    with (
        function_output.open("a", encoding="utf-8") as sink,
        contextlib.redirect_stdout(sink),
        EventReceiver() as receiver,
        LocalRuntime(dataclasses.replace(collections_options, events_url=receiver.url)) as runtime,
    ):
        progress(f"rails runtime up: API {runtime.api_url}, simulator {runtime.sim_url}")
        report["validations"] = run_validations(runtime, progress)
        report.update(PrepaidDemo(runtime, progress=progress, metric_log=function_output).run())
        # Auto-debit (seed 002): wallet links by OTP and charges on them; the charges join payments.
        autodebit = AutoDebitDemo(runtime, token=token, progress=progress).run()
        report["wallet_links"] = autodebit["wallet_links"]
        report["payments"]["charges"] = autodebit["charges"]
        events["rails"] = audit_phase(runtime, receiver)
        snapshots.append(snapshot_of_runtime(runtime, label="rails runtime"))
    report["events"] = summary(events)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_report(report)
    print_events(report["events"])
    print(f"\nreport written to {args.output}")
    charts = write_report(snapshots, args.output.with_name("report.html"), generated_at=datetime.now(UTC))
    print(f"operators' report with charts written to {charts}")
    ok = (
        report["reconciliation"]["balanced"]
        and not report["non_final"]
        and all(report[part]["reconciliation"]["balanced"] for part in ("payments", "refunds"))
        and not report["payments"]["non_final"]
        and not report["refunds"]["non_final"]
        and not report["payments"]["unexpected_outcomes"]
        and report["refunds"]["race"]["accepted"] == 3
        and all(400 <= int(code) < 500 for code in report["payments"]["tampered_callback_answers"])
        and rails_ok(report)
        and report["events"]["announced_once"]
    )
    return 0 if ok else 1


def print_events(events: dict[str, Any]) -> None:
    verdict = "each announced exactly once" if events["announced_once"] else "NOT each announced once"
    print(
        f"\nEvents to the merchant: {events['final_items']} final items, {events['distinct_event_ids']} "
        f"distinct event ids ({events['posts']} POSTs, {events['redeliveries']} redeliveries): {verdict}"
    )
    print(f"  by detail-type {events['by_detail_type']}")
    for name, phase in events["phases"].items():
        for problem in ("missing", "announced_but_not_final", "announced_more_than_once", "wrong_status"):
            if phase[problem]:
                print(f"  {name}: {problem} {phase[problem][:10]}")


def rails_ok(report: dict[str, Any]) -> bool:
    """Validations, prepaid loads and auto-debit charges as the scenarios expect, reconciled with
    the simulator."""
    validations, prepaid = report["validations"], report["prepaid"]
    charges = report["payments"]["charges"]
    return (
        charges["reconciliation"]["balanced"]
        and not charges["unexpected_outcomes"]
        and not charges["not_accepted"]
        and all(r["status"] == 409 and r["paytm_calls"] == 0 for r in charges["refused_after_revoke"])
        and report["wallet_links"]["total"] >= 20
        and charges["total"] >= 40
        and validations["reconciliation"]["balanced"]
        and not validations["non_final"]
        and not validations["expected_mismatches"]
        and validations["callbacks"]["forged_sent"] == validations["callbacks"]["forged_refused_401"]
        and prepaid["reconciliation"]["balanced"]
        and not prepaid["non_final"]
        and not prepaid["unexpected_outcomes"]
        and not prepaid["sent_more_than_once"]
        and prepaid["metrics_published"]["PrepaidConnectRetries"] > 0
    )


def print_report(report: dict[str, Any]) -> None:
    print(
        f"\nPayouts: {report['payouts_total']} in {report['real_seconds']} s real, "
        f"{report['simulated_days']} simulated days"
    )
    print("\nBy status:")
    for status, count in report["by_status"].items():
        print(f"  {status:14s} {count:5d}")
    print("\nBy final status and reason:")
    for reason, count in report["by_reason"].items():
        print(f"  {count:5d}  {reason}")
    print("\nBy scenario:")
    for group, counts in report["by_group"].items():
        print(f"  {group:32s} {counts}")
    rec = report["reconciliation"]
    print(
        f"\nReconciliation with the simulator's ledger: {'BALANCED' if rec['balanced'] else 'NOT BALANCED'}"
    )
    print(
        f"  sub-wallet debits {rec['sub_wallet_debits']} = wallet credits {rec['wallet_credits']}"
        f" + reversals {rec['reversals']}"
    )
    print(
        f"  status mismatches: {len(rec['mismatches'])};"
        f" simulator conservation ok: {rec['simulator_conservation_ok']}"
    )
    dup = report["duplicates"]
    print(f"\nDuplicate submissions: {dup['submitted']} (answers {dup['answers']}), no second payout")
    checks = report["checks_per_pending"]
    print(
        f"Status checks per pending payout: mean {checks['mean']}, max {checks['max']} "
        f"(a 5-minute poll over 5 days: {checks['fixed_5_minute_poll_would_be']})"
    )
    if report["non_final"]:
        print(f"NON-FINAL: {report['non_final']}")
    if report["unexpected_outcomes"]:
        print(f"Outcomes other than the scenario expects: {len(report['unexpected_outcomes'])}")
    print_collections(report)
    print_rails(report)


def print_rails(report: dict[str, Any]) -> None:
    validations, prepaid = report["validations"], report["prepaid"]
    print(f"\nPayee validations: {validations['total']}, by status {validations['by_status']}")
    for group, counts in validations["by_group"].items():
        print(f"  {group:40s} {counts}")
    callbacks = validations["callbacks"]
    print(
        f"  callbacks lost {callbacks['lost']}; forged {callbacks['forged_sent']},"
        f" refused 401 {callbacks['forged_refused_401']} (never a state change)"
    )
    rec = validations["reconciliation"]
    verdict = "BALANCED" if rec["balanced"] else "NOT BALANCED"
    print(
        f"  reconciliation: {verdict}; pennies recorded {rec['pennies_recorded']}"
        f" = the simulator's ledger {rec['pennies_in_sim_ledger']}; mismatches {len(rec['mismatches'])}"
    )
    print(f"\nPrepaid loads: {prepaid['loads']}, by status {prepaid['by_status']}")
    for group, counts in prepaid["by_group"].items():
        print(f"  {group:44s} {counts}")
    in_review = len(prepaid["needs_review_on_purpose"])
    print(f"  NEEDS_REVIEW on purpose (answer lost; seed 003 has no status API): {in_review}")
    published = prepaid["metrics_published"]
    print(
        f"  sent more than once: {len(prepaid['sent_more_than_once'])}; refused connections retried:"
        f" {published['PrepaidConnectRetries']}; PrepaidLoadsNeedingReview published:"
        f" {published['PrepaidLoadsNeedingReview']}"
    )
    rec = prepaid["reconciliation"]
    verdict = "BALANCED" if rec["balanced"] else "NOT BALANCED"
    print(
        f"  reconciliation: {verdict}; loaded {rec['loaded_by_tijori']} + in review"
        f" {rec['needs_review_in_sim_ledger']} = the simulator's ledger {rec['loads_in_sim_ledger']}"
    )
    for part in (validations, prepaid):
        if part["non_final"]:
            print(f"NON-FINAL: {part['non_final']}")
    links, charges = report["wallet_links"], report["payments"]["charges"]
    print(f"\nWallet links (auto-debit): {links['total']}, by status {links['by_status']}")
    print(f"Charges on linked wallets: {charges['total']}, by status {charges['by_status']}")
    for group, count in charges["by_group"].items():
        print(f"  {group:44s} {count}")
    print(
        f"  directPay calls per charge: {charges['directpay_calls']}; after revoke refused"
        f" {[r['status'] for r in charges['refused_after_revoke']]} with no Paytm call;"
        f" refunds {charges['refunds']['by_status']}"
    )
    rec = charges["reconciliation"]
    verdict = "BALANCED" if rec["balanced"] else "NOT BALANCED"
    print(
        f"  reconciliation: {verdict}; paid {rec['paid_charges']} = wallets debited {rec['wallet_debits']};"
        f" refunded {rec['refunded']} = credited back {rec['wallet_refunds']}"
    )
    for unexpected in charges["unexpected_outcomes"]:
        print(f"UNEXPECTED: {unexpected}")


def print_collections(report: dict[str, Any]) -> None:
    payments, refunds = report["payments"], report["refunds"]
    print(f"\nPayments: {payments['total']}, by status {payments['by_status']}")
    for group, counts in payments["by_group"].items():
        print(f"  {group:40s} {counts}")
    print(f"  tampered callbacks, answered: {payments['tampered_callback_answers']} (never a state change)")
    rec = payments["reconciliation"]
    verdict = "BALANCED" if rec["balanced"] else "NOT BALANCED"
    print(f"  reconciliation: {verdict}; paid {rec['paid_per_tijori']}", end="")
    print(
        f" = captured in Paytm's ledger {rec['captured_per_paytm_ledger']};"
        f" mismatches {len(rec['mismatches'])}"
    )
    print(
        f"\nRefunds: {refunds['total']} accepted of {refunds['attempted']}, by status {refunds['by_status']}"
    )
    for group, counts in refunds["by_group"].items():
        print(f"  {group:40s} {counts}")
    race = refunds["race"]
    print(
        f"  racing on one payment: {race['accepted']} of {race['submitted']} accepted (3 fit in the amount)"
    )
    print(f"  refused by Tijori (nothing sent to Paytm): {len(refunds['refused_by_tijori'])}")
    rec = refunds["reconciliation"]
    verdict = "BALANCED" if rec["balanced"] else "NOT BALANCED"
    print(f"  reconciliation: {verdict}; refunded {rec['refunded_per_tijori']}", end="")
    print(
        f" = Paytm's ledger {rec['refunded_per_paytm_ledger']};"
        f" never above paid: {rec['refunded_never_above_paid']}"
    )
    for part in (payments, refunds):
        if part["non_final"]:
            print(f"NON-FINAL: {part['non_final']}")


if __name__ == "__main__":
    sys.exit(main())
