"""`make demo`, collections: PG checkout payments and refunds through the real API, on their own
local runtime (a txnToken lives 15 simulated minutes: the payouts' 6000x clock would spend them in
0.15 s, so this phase runs at 60x and crosses days by advancing the clock).

Payments: paid by card, debit card, UPI and net banking; declined; pending then paid; pending then
failed; abandoned until the token expires; forged, duplicated, out-of-order and tampered
callbacks. Refunds: partial, second partial, full, an over-refund attempt, 10 concurrent refunds
racing on one payment, refunds whose answer is lost (timeout after commit). Every payment's and
refund's status is then reconciled with the simulator's own records and ledger.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx

from paytm_signing import generate_signature

TIME_SCALE = 60.0
PAYMENT_FINAL = {"PAID", "FAILED", "EXPIRED"}
REFUND_FINAL = {"SUCCESS", "FAILED"}
REFUND_PATH = "/refund/HANDLER_INTERNAL/REFUND"
REAL_TIME_LIMIT_SECONDS = 100.0
MODES = ("CC", "DC", "UPI", "NB")


@dataclass
class PaymentCase:
    group: str
    order_id: str
    amount: str
    expected: set[str]
    outcome: str | None = None  # the checkout's outcome (None: abandoned)
    then: str | None = None  # a pending checkout's later outcome
    mode: str = "UPI"
    fault: str | None = None
    tamper: bool = False


@dataclass
class RefundCase:
    group: str
    order_id: str
    refund_id: str
    amount: str
    fault: bool = False


@dataclass
class Plan:
    payments: list[PaymentCase] = field(default_factory=list)
    refunds: list[RefundCase] = field(default_factory=list)
    race: list[RefundCase] = field(default_factory=list)


def build_plan() -> Plan:
    plan = Plan()
    n = iter(range(1, 1000))

    def add(group: str, count: int, expected: set[str], **fields: Any) -> list[PaymentCase]:
        cases = []
        for _ in range(count):
            index = next(n)
            case = PaymentCase(
                group, f"DEMO-PAY-{index:03d}", "100.00", expected, mode=MODES[index % 4], **fields
            )
            cases.append(case)
        plan.payments.extend(cases)
        return cases

    paid = add("paid (card, debit card, UPI, net banking)", 24, {"PAID"}, outcome="SUCCESS")
    add("declined at checkout", 8, {"FAILED"}, outcome="FAILURE")
    add("pending, then paid", 6, {"PAID"}, outcome="PENDING", then="SUCCESS")
    add("pending, then failed", 6, {"FAILED"}, outcome="PENDING", then="FAILURE")
    add("abandoned: token expired", 6, {"EXPIRED"})
    add("forged callback first", 3, {"PAID"}, outcome="SUCCESS", fault="forged_checksum_callback")
    add("callback delivered twice", 3, {"PAID"}, outcome="SUCCESS", fault="duplicate_callback")
    add("stale callback after the final", 2, {"PAID"}, outcome="SUCCESS", fault="out_of_order_callback")
    add("tampered amount callback", 2, {"PAID"}, outcome="SUCCESS", tamper=True)

    r = iter(range(1, 1000))
    for case in paid[:15]:
        plan.refunds.append(RefundCase("partial", case.order_id, f"DEMO-RF-{next(r):03d}", "40.00"))
    for case in paid[:5]:
        plan.refunds.append(RefundCase("second partial", case.order_id, f"DEMO-RF-{next(r):03d}", "20.00"))
    for case in paid[15:20]:
        plan.refunds.append(RefundCase("full", case.order_id, f"DEMO-RF-{next(r):03d}", "100.00"))
    for case in paid[20:23]:
        plan.refunds.append(RefundCase("answer lost (timeout after commit)", case.order_id,
                                       f"DEMO-RF-{next(r):03d}", "50.00", fault=True))  # fmt: skip
    plan.refunds.append(RefundCase("over-refund attempt", paid[0].order_id, "DEMO-RF-OVER", "50.00"))
    racer = paid[23]
    plan.race = [
        RefundCase("10 concurrent on one payment", racer.order_id, f"DEMO-RF-RACE-{i}", "30.00")
        for i in range(10)
    ]
    return plan


class CollectionsDemo:
    def __init__(self, runtime: Any, *, progress: Callable[[str], None]) -> None:
        self.runtime = runtime
        self.api = httpx.Client(
            base_url=runtime.api_url,
            headers={"Authorization": f"Bearer {runtime.options.api_token}"},
            timeout=60,
        )
        self.sim = httpx.Client(base_url=runtime.sim_url, timeout=60)
        self.progress = progress
        self.started = time.monotonic()
        self.refused: list[dict[str, Any]] = []
        self.tampered_answers: Counter[int] = Counter()
        self.read_errors: Counter[str] = Counter()

    def _pool(self, work: Callable[[Any], Any], items: list[Any], workers: int = 8) -> list[Any]:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(work, items))

    def create_and_pay(self, case: PaymentCase) -> None:
        body = {
            "order_id": case.order_id,
            "amount": case.amount,
            "currency": "INR",
            "customer": {"customer_id": f"CUST_{case.order_id[-3:]}", "phone": "9812345678"},
            "return_url": f"https://shop.example/orders/{case.order_id}",
        }
        answer = self.api.post("/v1/payments", json=body)
        if answer.status_code != 201:
            raise RuntimeError(f"{case.order_id}: {answer.status_code} {answer.text}")
        if case.fault:
            self.sim.post(
                "/_sim/faults", json={"kind": case.fault, "order_id": case.order_id}
            ).raise_for_status()
        if case.tamper:
            self.tampered_answers[self._post_tampered_callback(case)] += 1
        if case.outcome is not None:
            # The customer's browser, through Paytm's checkout.
            done = self.sim.post(
                f"/_sim/pg/checkout/{case.order_id}",
                json={"outcome": case.outcome, "payment_mode": case.mode},
            )
            done.raise_for_status()

    def _post_tampered_callback(self, case: PaymentCase) -> int:
        """A genuine-looking success callback whose amount was changed after signing: refused
        (401; a 429 is API Gateway's throttle of the open route, a refusal too). Its status."""
        credentials = self.runtime.credentials
        fields = {
            "MID": credentials.mid,
            "ORDERID": case.order_id,
            "TXNAMOUNT": case.amount,
            "STATUS": "TXN_SUCCESS",
            "RESPCODE": "01",
            "RESPMSG": "Txn Successful.",
        }
        signed = {
            **fields,
            "CHECKSUMHASH": generate_signature(fields, credentials.pg.merchant_key.get_secret_value()),
        }
        signed["TXNAMOUNT"] = "1.00"
        answer = httpx.post(
            f"{self.runtime.api_url}/v1/callbacks/pg",
            content=urlencode(signed).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return answer.status_code

    def views(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        def get(order_id: str) -> tuple[str, dict[str, Any]]:
            return order_id, self.api.get(f"/v1/payments/{order_id}").json()

        return dict(self._pool(get, order_ids))

    def refund_views(self, cases: list[RefundCase]) -> dict[str, dict[str, Any]]:
        def get(case: RefundCase) -> tuple[str, dict[str, Any]]:
            return case.refund_id, self.api.get(
                f"/v1/payments/{case.order_id}/refunds/{case.refund_id}"
            ).json()

        return dict(self._pool(get, cases))

    def wait(self, check: Callable[[], bool], limit: float) -> bool:
        deadline = min(time.monotonic() + limit, self.started + REAL_TIME_LIMIT_SECONDS)
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(0.5)
        return check()

    def submit_refund(self, case: RefundCase) -> int:
        if case.fault:
            fault = {
                "kind": "timeout_after_commit",
                "path": REFUND_PATH,
                "order_id": case.order_id,
                "delay_seconds": 12,
            }
            self.sim.post("/_sim/faults", json=fault).raise_for_status()
        answer = self.api.post(
            f"/v1/payments/{case.order_id}/refunds", json={"refund_id": case.refund_id, "amount": case.amount}
        )
        if answer.status_code != 202:
            self.refused.append(
                {"refund_id": case.refund_id, "group": case.group, "status": answer.status_code}
            )
        return answer.status_code

    def run(self) -> dict[str, Any]:
        plan = build_plan()
        self.progress(f"collections: creating {len(plan.payments)} payments through Paytm's checkout")
        self._pool(self.create_and_pay, plan.payments)
        pending = [c for c in plan.payments if c.then is not None]
        order_ids = [c.order_id for c in plan.payments]
        self.wait(
            lambda: all(v["status"] == "PENDING" for v in self.views([c.order_id for c in pending]).values()),
            30,
        )
        for case in pending:
            self.sim.post(
                f"/_sim/pg/checkout/{case.order_id}", json={"outcome": case.then}
            ).raise_for_status()
        self.progress("collections: waiting for every payment to be final (abandoned ones: 15 minutes)")
        self.wait(lambda: all(v["status"] in PAYMENT_FINAL for v in self.views(order_ids).values()), 60)

        self.progress(f"collections: {len(plan.refunds) + len(plan.race)} refunds (10 racing on one payment)")
        # Sequential per payment (a second partial after the first), concurrent across payments.
        firsts = [c for c in plan.refunds if c.group != "second partial" and c.group != "over-refund attempt"]
        self._pool(self.submit_refund, firsts)
        self._pool(self.submit_refund, plan.race, workers=10)
        self._pool(self.submit_refund, [c for c in plan.refunds if c not in firsts])
        accepted = [
            c for c in plan.refunds + plan.race if c.refund_id not in {r["refund_id"] for r in self.refused}
        ]
        self.wait(lambda: all(v["status"] in REFUND_FINAL for v in self.refund_views(accepted).values()), 60)
        return self.report(plan, accepted)

    def report(self, plan: Plan, accepted: list[RefundCase]) -> dict[str, Any]:
        views = self.views([c.order_id for c in plan.payments])
        refunds = self.refund_views(accepted)
        unexpected = [
            {
                "order_id": c.order_id,
                "group": c.group,
                "expected": sorted(c.expected),
                "got": views[c.order_id]["status"],
            }
            for c in plan.payments
            if views[c.order_id]["status"] not in c.expected
        ]
        race_accepted = sum(1 for c in plan.race if c in accepted)
        payments_reconciliation, refunds_reconciliation = self.reconcile(views, refunds)
        return {
            "payments": {
                "total": len(plan.payments),
                "by_status": dict(sorted(Counter(v["status"] for v in views.values()).items())),
                "by_group": {
                    group: dict(
                        Counter(views[c.order_id]["status"] for c in plan.payments if c.group == group)
                    )
                    for group in dict.fromkeys(c.group for c in plan.payments)
                },
                "non_final": sorted(o for o, v in views.items() if v["status"] not in PAYMENT_FINAL),
                "unexpected_outcomes": unexpected,
                "tampered_callback_answers": {str(k): v for k, v in sorted(self.tampered_answers.items())},
                "reconciliation": payments_reconciliation,
            },
            "refunds": {
                "total": len(refunds),
                "attempted": len(plan.refunds) + len(plan.race),
                "refused_by_tijori": self.refused,
                "race": {"submitted": len(plan.race), "accepted": race_accepted},
                "by_status": dict(sorted(Counter(v["status"] for v in refunds.values()).items())),
                "by_group": {
                    group: dict(Counter(refunds[c.refund_id]["status"] for c in accepted if c.group == group))
                    for group in dict.fromkeys(c.group for c in accepted)
                },
                "non_final": sorted(r for r, v in refunds.items() if v["status"] not in REFUND_FINAL),
                "reconciliation": refunds_reconciliation,
            },
            "collections_real_seconds": round(time.monotonic() - self.started, 1),
            "collections_read_retries": dict(self.read_errors),
        }

    def reconcile(
        self, views: dict[str, dict[str, Any]], refunds: dict[str, dict[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Every status against the simulator's truth; the money against its ledger."""
        payment_mismatches: list[dict[str, Any]] = []
        refund_mismatches: list[dict[str, Any]] = []
        paid_total = refunded_total = Decimal(0)
        sim_refunds: dict[str, dict[str, Any]] = {}
        for order_id, view in views.items():
            truth = self.sim.get(f"/_sim/orders/{order_id}").json()
            for entry in truth.get("refunds", []):
                sim_refunds[str(entry["refId"])] = entry
            sim_status, sim_code = str(truth.get("status")), str(truth.get("respCode"))
            expected = {
                "TXN_SUCCESS": "PAID",
                "TXN_FAILURE": "EXPIRED" if sim_code == "141" else "FAILED",
            }.get(sim_status, "non-final")
            amount_ok = view["status"] != "PAID" or Decimal(view["paid_amount"]) == Decimal(
                str(truth["amount"])
            )
            refunded_ok = Decimal(view["refunded_amount"]) == Decimal(str(truth.get("refunded", 0)))
            if view["status"] != expected or not amount_ok or not refunded_ok:
                payment_mismatches.append(
                    {"order_id": order_id, "tijori": view["status"], "paytm": sim_status, "code": sim_code,
                     "tijori_refunded": view["refunded_amount"], "paytm_refunded": str(truth.get("refunded"))}
                )  # fmt: skip
            if view["status"] == "PAID":
                paid_total += Decimal(view["paid_amount"])
                refunded_total += Decimal(view["refunded_amount"])
                if Decimal(view["refunded_amount"]) > Decimal(view["paid_amount"]):
                    payment_mismatches.append({"order_id": order_id, "problem": "refunded more than paid"})
        for refund_id, view in refunds.items():
            truth = sim_refunds.get(refund_id)
            sim_status = "none" if truth is None else str(truth.get("status", "TXN_SUCCESS"))
            expected = {"TXN_SUCCESS": "SUCCESS", "TXN_FAILURE": "FAILED", "none": "FAILED"}.get(
                sim_status, "non-final"
            )
            amount_ok = truth is None or Decimal(str(truth["amount"])) == Decimal(view["amount"])
            if view["status"] != expected or not amount_ok:
                refund_mismatches.append(
                    {"refund_id": refund_id, "tijori": view["status"], "paytm": sim_status}
                )
        ledger = self.sim.get("/_sim/ledger").json()
        captured = sum((Decimal(str(e["amount"])) for e in ledger if e["kind"] == "pg_capture"), Decimal(0))
        refunded = sum((Decimal(str(e["amount"])) for e in ledger if e["kind"] == "pg_refund"), Decimal(0))
        conservation = bool(self.sim.get("/_sim/conservation").json().get("ok"))
        money_ok = captured == paid_total and refunded == refunded_total and refunded_total <= paid_total
        return (
            {
                "balanced": not payment_mismatches and captured == paid_total and conservation,
                "paid_per_tijori": f"{paid_total:.2f}",
                "captured_per_paytm_ledger": f"{captured:.2f}",
                "mismatches": payment_mismatches,
                "simulator_conservation_ok": conservation,
            },
            {
                "balanced": not refund_mismatches and money_ok and conservation,
                "refunded_per_tijori": f"{refunded_total:.2f}",
                "refunded_per_paytm_ledger": f"{refunded:.2f}",
                "refunded_never_above_paid": refunded_total <= paid_total,
                "mismatches": refund_mismatches,
            },
        )
