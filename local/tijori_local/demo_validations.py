"""`make demo`, payee validations (seed 001): at least 30 validations through the real API against a
running LocalRuntime, each reconciled with the simulator's own record and ledger.

Cases: valid wallets; no wallet and no KYC (DE_1222: INVALID); a wallet at its balance limit
(DE_1223: INVALID); no such user (DE_702: INVALID); a callback lost on the way (the sweep's status
query finds the result); a forged callback before the genuine one (refused 401, changes nothing:
the status query settles it); validations held PENDING by the simulator, then resolved.

Reconciliation: each validation's status against the simulator's record (DE_001 -> VALID, DE_1222 /
DE_1223 / DE_702 -> INVALID), and the pennies Tijori recorded (`penny_amount`) against the
simulator's ledger (kind `penny_drop`), order by order and in total.

`run_validations(runtime, progress)` answers the report's section; demo.py's main wires it.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

VALIDATE_PATH = "/bpay/api/v1/beneficiary/validate"
FINAL = {"VALID", "INVALID", "FAILED"}
REAL_TIME_LIMIT_SECONDS = 120.0
# A request the local API or the simulator did not answer (a connection reset under load) is sent
# again this often: reads and submissions alike are safe to repeat (a submission is idempotent).
REQUEST_TRIES = 5
# What the simulator's record of a validation means for Tijori's status (DESIGN.md rule 3).
EXPECTED_FOR_CODE = {"DE_001": "VALID", "DE_1222": "INVALID", "DE_1223": "INVALID", "DE_702": "INVALID"}
_runs = itertools.count(1)


@dataclass
class ValidationCase:
    group: str
    validation_id: str
    phone: str
    expected: str
    user: dict[str, Any] | None = field(default_factory=dict)  # None: no such user at Paytm
    fault: str | None = None  # a callback fault for this validation
    held: bool = False  # held PENDING by the simulator, then resolved SUCCESS


def build_cases(prefix: str, first_phone: int) -> list[ValidationCase]:
    cases: list[ValidationCase] = []
    numbers, phones = itertools.count(1), itertools.count(first_phone)

    def add(group: str, count: int, expected: str, **fields: Any) -> None:
        for _ in range(count):
            case_id = f"{prefix}-{next(numbers):03d}"
            cases.append(ValidationCase(group, case_id, str(next(phones)), expected, **fields))

    add("valid wallet", 10, "VALID")
    add("no wallet (DE_1222)", 4, "INVALID", user={"wallet_exists": False})
    add("no KYC (DE_1222)", 4, "INVALID", user={"kyc": False})
    add("balance limit (DE_1223)", 3, "INVALID", user={"limits": {"max_balance": "0.50"}})
    add("unknown user (DE_702)", 3, "INVALID", user=None)
    add("callback lost: the status query finds it", 3, "VALID", fault="drop_callback")
    add("callback forged first: refused, the status query settles it", 3, "VALID",
        fault="forged_checksum_callback")  # fmt: skip
    add("held PENDING, then resolved", 2, "VALID", held=True)
    return cases


class ValidationsDemo:
    def __init__(self, runtime: Any, *, progress: Callable[[str], None], prefix: str | None = None) -> None:
        self.api = httpx.Client(
            base_url=runtime.api_url,
            headers={"Authorization": f"Bearer {runtime.options.api_token}"},
            timeout=60,
        )
        self.sim = httpx.Client(base_url=str(runtime.sim_url), timeout=60)
        self.progress = progress
        run = next(_runs)
        self.prefix = prefix or f"DEMO-VAL-{run}"
        self.first_phone = 7_400_000_000 + 1_000 * run
        self.started = time.monotonic()
        self.retries: Counter[str] = Counter()

    def _call(self, client: httpx.Client, method: str, url: str, **arguments: Any) -> httpx.Response:
        """The request, sent again after a transport error (counted in `request_retries`)."""
        for attempt in range(REQUEST_TRIES):
            try:
                return client.request(method, url, **arguments)
            except httpx.TransportError as error:
                if attempt == REQUEST_TRIES - 1:
                    raise
                self.retries[f"{method} {type(error).__name__}"] += 1
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def _pool(self, work: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(work, items))

    def prepare(self, case: ValidationCase) -> None:
        if case.user is not None:
            user = {"phone": case.phone, **case.user}
            self._call(self.sim, "POST", "/_sim/users", json=user).raise_for_status()
        if case.fault is not None:
            fault = {"kind": case.fault, "path": VALIDATE_PATH, "order_id": case.validation_id}
            self.sim.post("/_sim/faults", json=fault).raise_for_status()  # once: a fault is consumed
        if case.held:
            script = {"order_id": case.validation_id, "outcome": "PENDING", "api": "validation"}
            self._call(self.sim, "POST", "/_sim/script", json=script).raise_for_status()

    def submit(self, case: ValidationCase) -> int:
        body = {"validation_id": case.validation_id, "phone": case.phone}
        return self._call(self.api, "POST", "/v1/payee-validations", json=body).status_code

    def view(self, case: ValidationCase) -> dict[str, Any]:
        answer = self._call(self.api, "GET", f"/v1/payee-validations/{case.validation_id}")
        if answer.status_code != 200:
            return {"status": f"HTTP {answer.status_code}", "penny_amount": None, "history": []}
        view: dict[str, Any] = answer.json()
        return view

    def views(self, cases: list[ValidationCase]) -> dict[str, dict[str, Any]]:
        return dict(zip((c.validation_id for c in cases), self._pool(self.view, cases), strict=True))

    def wait(self, check: Callable[[], bool], limit: float) -> bool:
        deadline = min(time.monotonic() + limit, self.started + REAL_TIME_LIMIT_SECONDS)
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(0.5)
        return check()

    def run(self) -> dict[str, Any]:
        cases = build_cases(self.prefix, self.first_phone)
        self._pool(self.prepare, cases)
        answers = Counter(self._pool(self.submit, cases))
        self.progress(f"validations: {len(cases)} submitted ({dict(answers)})")
        held = [c for c in cases if c.held]
        self.wait(lambda: all(v["status"] == "PENDING" for v in self.views(held).values()), 60)
        held_pending = {
            c.validation_id: v["status"] for c, v in zip(held, self.views(held).values(), strict=True)
        }
        for case in held:
            resolve = f"/_sim/orders/{case.validation_id}/resolve"
            self._call(self.sim, "POST", resolve, json={"outcome": "SUCCESS"})
        self.wait(lambda: all(v["status"] in FINAL for v in self.views(cases).values()), 90)
        views = self.views(cases)
        self.progress(f"validations: by status {dict(Counter(v['status'] for v in views.values()))}")
        return self.report(cases, views, answers, held_pending)

    def report(
        self,
        cases: list[ValidationCase],
        views: dict[str, dict[str, Any]],
        answers: Counter[int],
        held_pending: dict[str, str],
    ) -> dict[str, Any]:
        callbacks = self._call(self.sim, "GET", "/_sim/callbacks", params={"wait": "1"}).json()
        ids = {c.validation_id for c in cases}
        mine = [c for c in callbacks if _callback_order_id(c) in ids]
        forged = [c for c in mine if c["kind"] == "forged"]
        return {
            "total": len(cases),
            "submitted_answers": {str(status): n for status, n in sorted(answers.items())},
            "by_status": dict(sorted(Counter(v["status"] for v in views.values()).items())),
            "by_group": {
                group: dict(Counter(views[c.validation_id]["status"] for c in cases if c.group == group))
                for group in dict.fromkeys(c.group for c in cases)
            },
            "expected_mismatches": [
                {
                    "validation_id": c.validation_id,
                    "group": c.group,
                    "expected": c.expected,
                    "tijori": views[c.validation_id]["status"],
                }
                for c in cases
                if views[c.validation_id]["status"] != c.expected
            ],
            "non_final": sorted(i for i, v in views.items() if v["status"] not in FINAL),
            "held_pending_before_resolving": held_pending,
            "callbacks": {
                "lost": sum(1 for c in mine if c["kind"] == "dropped"),
                "forged_sent": len(forged),
                "forged_refused_401": sum(1 for c in forged if c["statusCode"] == 401),
            },
            "reconciliation": self.reconcile(cases, views),
            "validations_real_seconds": round(time.monotonic() - self.started, 1),
            "request_retries": dict(self.retries),
        }

    def reconcile(self, cases: list[ValidationCase], views: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Each status against the simulator's record; each penny against its ledger."""
        ledger = self._call(self.sim, "GET", "/_sim/ledger").json()
        ids = {c.validation_id for c in cases}
        in_ledger: dict[str, Decimal] = {}
        for entry in ledger:
            if entry["kind"] == "penny_drop" and entry.get("orderId") in ids:
                order_id = str(entry["orderId"])
                in_ledger[order_id] = in_ledger.get(order_id, Decimal("0")) + Decimal(str(entry["amount"]))
        mismatches: list[dict[str, Any]] = []
        recorded_total = Decimal("0.00")
        for case in cases:
            view = views[case.validation_id]
            truth = self._call(self.sim, "GET", f"/_sim/orders/{case.validation_id}").json()
            expected = EXPECTED_FOR_CODE.get(str(truth.get("statusCode")), "non-final")
            recorded = Decimal(view["penny_amount"]) if view.get("penny_amount") else Decimal("0.00")
            recorded_total += recorded
            moved = in_ledger.get(case.validation_id, Decimal("0.00"))
            if view["status"] != expected or recorded != moved:
                mismatches.append(
                    {
                        "validation_id": case.validation_id,
                        "tijori": view["status"],
                        "paytm": truth.get("statusCode"),
                        "penny_recorded": f"{recorded:.2f}",
                        "penny_in_ledger": f"{moved:.2f}",
                    }
                )
        in_sim = sum(in_ledger.values(), Decimal("0.00"))
        conservation = bool(self._call(self.sim, "GET", "/_sim/conservation").json().get("ok"))
        return {
            "pennies_recorded": f"{recorded_total:.2f}",
            "pennies_in_sim_ledger": f"{in_sim:.2f}",
            "balanced": not mismatches and recorded_total == in_sim and conservation,
            "mismatches": mismatches,
            "simulator_conservation_ok": conservation,
        }


def _callback_order_id(sent: dict[str, Any]) -> str | None:
    try:
        body = json.loads(sent["body"])
    except ValueError:
        return None
    result = body.get("result") if isinstance(body, dict) else None
    return str(result.get("orderId")) if isinstance(result, dict) else None


def run_validations(runtime: Any, progress: Callable[[str], None]) -> dict[str, Any]:
    """The demo's payee validations section, against a running LocalRuntime."""
    return ValidationsDemo(runtime, progress=progress).run()
