"""`make demo`, auto-debit (seed 002): wallet links by OTP and charges on them through the real API
against a running LocalRuntime, reconciled with the simulator's ledger.

Cases: link and charge; a wrong OTP then the right one; a balance short, money added through
Paytm's add-money form (the one-time URL, posted to the simulator's processTransaction, paid at
its checkout), then the charge; a charge after revoke (refused, nothing sent); a token that
Paytm ended (the customer signed out everywhere: the charge FAILED, the link EXPIRED); charges
whose answer is lost after the debit (timeout, HTTP 500) or lost before Paytm took them (HTTP 500,
nothing committed): each debited once; an insufficient balance (FAILED, add money named); partial
refunds of charges.

Reconciliation: the customers' wallet debits by withdraw in the simulator's ledger equal Tijori's
PAID charges, order by order; refunds of charges equal the simulator's refunds.

The flow helpers (`link_wallet`, `add_money`, `charge`) are shared with tests/e2e.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import httpx

DIRECT_PAY = "/order/directPay"
STATUS = "/merchant-status/getTxnStatus"
CHARGE_FINAL = {"PAID", "FAILED", "NEEDS_REVIEW"}
REFUND_FINAL = {"SUCCESS", "FAILED", "NEEDS_REVIEW"}
_runs = itertools.count(1)


# ---- flows (shared with the e2e tests) ---------------------------------------------------------
def latest_otp(sim: httpx.Client, phone: str) -> str:
    answer = sim.get("/_sim/autodebit/sms", params={"phone": phone})
    answer.raise_for_status()
    return str(answer.json()["otp"])


def ask_link(api: httpx.Client, link_id: str, phone: str, email: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"link_id": link_id, "phone": phone}
    if email:
        body["email"] = email
    return api.post("/v1/wallet-links", json=body)


def link_wallet(api: httpx.Client, sim: httpx.Client, link_id: str, phone: str) -> dict[str, Any]:
    """Ask a link, read the OTP off the customer's phone (the simulator's SMS inbox), submit it."""
    asked = ask_link(api, link_id, phone)
    assert asked.status_code == 201, asked.text
    verified = api.post(f"/v1/wallet-links/{link_id}/otp", json={"otp": latest_otp(sim, phone)})
    assert verified.status_code == 200, verified.text
    view: dict[str, Any] = verified.json()
    return view


# A request the local API did not answer, or answered 5xx (a dependency refused under load), is
# sent again: every submission here is idempotent (the same id and body answer the stored item).
REQUEST_TRIES = 5


def post_again_if_unanswered(api: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    for attempt in range(1, REQUEST_TRIES + 1):
        try:
            answer = api.post(path, json=body)
        except httpx.TransportError:
            if attempt == REQUEST_TRIES:
                raise
            time.sleep(attempt)
            continue
        if answer.status_code < 500 or attempt == REQUEST_TRIES:
            return answer
        time.sleep(attempt)
    raise AssertionError("unreachable")


def charge(api: httpx.Client, order_id: str, link_id: str, amount: str) -> httpx.Response:
    body = {
        "order_id": order_id,
        "amount": amount,
        "currency": "INR",
        "method": {"type": "linked_wallet", "link_id": link_id},
    }
    return post_again_if_unanswered(api, "/v1/payments", body)


def payment_view(api: httpx.Client, order_id: str) -> dict[str, Any]:
    view: dict[str, Any] = api.get(f"/v1/payments/{order_id}").json()
    return view


def wait_payment(api: httpx.Client, order_id: str, statuses: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view = payment_view(api, order_id)
        if view.get("status") in statuses or time.monotonic() > deadline:
            return view
        time.sleep(0.2)


class _HiddenForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.action = values.get("action")
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[str(values["name"])] = values.get("value") or ""


def open_form(url: str) -> tuple[httpx.Response, str | None, dict[str, str]]:
    """What the customer's browser gets from a one-time add-money URL (no merchant credentials)."""
    page = httpx.get(url, timeout=60)
    parsed = _HiddenForm()
    parsed.feed(page.text)
    return page, parsed.action, parsed.fields


def add_money(
    api: httpx.Client, sim: httpx.Client, link_id: str, order_id: str, amount: str
) -> dict[str, Any]:
    """The add-money order, its form opened and posted as the customer's browser would, paid at
    Paytm's checkout (the simulator's), then confirmed by Tijori: the order's view, PAID."""
    issued = api.post(f"/v1/wallet-links/{link_id}/add-money", json={"order_id": order_id, "amount": amount})
    assert issued.status_code == 201, issued.text
    page, action, fields = open_form(str(issued.json()["form_url"]))
    assert page.status_code == 200, page.text
    assert action, page.text
    posted = httpx.post(action, data=fields, timeout=60)
    assert posted.status_code == 200, posted.text
    sim.post(
        f"/_sim/pg/checkout/{order_id}", json={"outcome": "SUCCESS", "payment_mode": "PPI"}
    ).raise_for_status()
    return wait_payment(api, order_id, {"PAID", "FAILED", "EXPIRED", "NEEDS_REVIEW"})


def ledger(sim: httpx.Client, order_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = sim.get("/_sim/ledger", params={"order_id": order_id}).json()
    return entries


def withdrawn(sim: httpx.Client, order_id: str) -> Decimal:
    """What the simulator's ledger debited from a customer's wallet for this order."""
    return sum(
        (Decimal(str(e["amount"])) for e in ledger(sim, order_id) if e["kind"] == "withdraw"), Decimal(0)
    )


def end_sessions(sim: httpx.Client, phone: str) -> None:
    """The customer signs out of every session at Paytm (seed 002: a token "can expire" so)."""
    sim.post("/_sim/autodebit/sessions/end", json={"phone": phone}).raise_for_status()


def paytm_calls(sim: httpx.Client, order_id: str) -> list[str]:
    sequence: list[str] = sim.get("/_sim/requests", params={"order_id": order_id}).json()["sequence"]
    return sequence


# ---- the demo ----------------------------------------------------------------------------------
@dataclass
class ChargeCase:
    group: str
    order_id: str
    link_id: str
    amount: str
    expected: str
    fault: dict[str, Any] | None = None
    refunds: list[str] = field(default_factory=list)


class AutoDebitDemo:
    def __init__(self, runtime: Any, *, token: str, progress: Callable[[str], None]) -> None:
        self.api = httpx.Client(
            base_url=runtime.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        self.sim = httpx.Client(base_url=str(runtime.sim_url), timeout=60)
        self.progress = progress
        run = next(_runs)
        self._prefix = f"AD{run}"
        self._phones = itertools.count(8_100_000_000 + run * 10_000)
        self._numbers = itertools.count(1)
        self.links: list[str] = []
        self.phones: dict[str, str] = {}
        self.refused_after_revoke: list[dict[str, Any]] = []

    def customer(self, balance: str) -> str:
        phone = str(next(self._phones))
        self.sim.post(
            "/_sim/users", json={"phone": phone, "balance": balance, "kyc": True}
        ).raise_for_status()
        return phone

    def new_link(self, balance: str, *, wrong_otp_first: bool = False) -> str:
        link_id = f"{self._prefix}L{next(self._numbers):03d}"
        phone = self.customer(balance)
        if wrong_otp_first:
            asked = ask_link(self.api, link_id, phone)
            assert asked.status_code == 201, asked.text
            right = latest_otp(self.sim, phone)
            wrong = f"{(int(right) + 1) % 1_000_000:06d}"
            refused = self.api.post(f"/v1/wallet-links/{link_id}/otp", json={"otp": wrong})
            assert refused.status_code == 422, refused.text
            verified = self.api.post(f"/v1/wallet-links/{link_id}/otp", json={"otp": right})
            assert verified.status_code == 200, verified.text
        else:
            link_wallet(self.api, self.sim, link_id, phone)
        self.links.append(link_id)
        self.phones[link_id] = phone
        return link_id

    def order(self) -> str:
        return f"{self._prefix}C{next(self._numbers):03d}"

    def run(self) -> dict[str, Any]:
        self.progress("auto-debit: linking 20+ wallets by OTP (some with a wrong OTP first)")
        cases: list[ChargeCase] = []

        def add(group: str, link_id: str, amount: str, expected: str, **extra: Any) -> ChargeCase:
            case = ChargeCase(group, self.order(), link_id, amount, expected, **extra)
            cases.append(case)
            return case

        for index in range(10):
            link_id = self.new_link("5000.00", wrong_otp_first=index % 4 == 0)
            for amount in ("120.00", "75.50", "310.25"):
                add("linked and charged", link_id, amount, "PAID")
        refunded = [c for c in cases[:6]]
        for case in refunded:
            case.refunds = ["20.00", "15.50"] if case.amount != "75.50" else ["30.00"]
        for kind, commit in (("timeout_after_commit", True), ("http_500", True), ("http_500", False)):
            link_id = self.new_link("3000.00")
            for _ in range(3):
                group = f"{kind}{' after the debit' if commit else ' before Paytm took it'}"
                fault = {"kind": kind, "path": DIRECT_PAY, "delay_seconds": 12, "commit": commit}
                add(group, link_id, "99.00", "PAID", fault=fault)
        short = self.new_link("50.00")
        add("insufficient balance", short, "400.00", "FAILED")
        topped = self.new_link("100.00")
        topped_up: list[str] = []
        revoked = self.new_link("1000.00")
        ended = self.new_link("1000.00")
        self.progress(
            f"auto-debit: {len(self.links)} links; the balance short of 400.00 on {topped}, adding money"
        )
        balance = self.api.get(f"/v1/wallet-links/{topped}/balance", params={"amount": "400.00"}).json()
        added = add_money(
            self.api,
            self.sim,
            topped,
            f"{self._prefix}AM{next(self._numbers):03d}",
            balance["add_money_amount"],
        )
        topped_up.append(added["order_id"])
        add("balance short, money added, then charged", topped, "400.00", "PAID")
        for _ in range(4):
            extra = self.new_link("800.00")
            for amount in ("45.00", "55.00"):
                add("linked and charged", extra, amount, "PAID")
        # A revoked link: refused at intake, nothing sent.
        self.api.delete(f"/v1/wallet-links/{revoked}").raise_for_status()
        for _ in range(2):
            order_id = self.order()
            answer = charge(self.api, order_id, revoked, "10.00")
            self.refused_after_revoke.append(
                {
                    "order_id": order_id,
                    "status": answer.status_code,
                    "paytm_calls": len(paytm_calls(self.sim, order_id)),
                }
            )
        # The customer ended every session at Paytm: the charge FAILED, the link EXPIRED.
        end_sessions(self.sim, self.phones[ended])
        add("token ended at Paytm", ended, "25.00", "FAILED")

        self.progress(f"auto-debit: {len(cases)} charges")
        for case in cases:
            if case.fault is not None:
                self.sim.post(
                    "/_sim/faults", json={**case.fault, "order_id": case.order_id}
                ).raise_for_status()
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda c: charge(self.api, c.order_id, c.link_id, c.amount), cases))
        not_accepted = [
            (c.order_id, a.status_code) for c, a in zip(cases, answers, strict=True) if a.status_code != 202
        ]
        views = {c.order_id: wait_payment(self.api, c.order_id, CHARGE_FINAL, timeout=120) for c in cases}
        self.progress("auto-debit: partial refunds of charges")
        refunds: dict[str, dict[str, Any]] = {}
        for case in cases:
            for number, amount in enumerate(case.refunds, 1):
                refund_id = f"{case.order_id}R{number}"
                answer = post_again_if_unanswered(
                    self.api,
                    f"/v1/payments/{case.order_id}/refunds",
                    {"refund_id": refund_id, "amount": amount},
                )
                if answer.status_code != 202:
                    raise RuntimeError(
                        f"refund {refund_id} of {case.order_id}: {answer.status_code} {answer.text}"
                    )
                refunds[refund_id] = {"order_id": case.order_id, "amount": amount}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            refund_views = {
                rid: self.api.get(f"/v1/payments/{r['order_id']}/refunds/{rid}").json()
                for rid, r in refunds.items()
            }
            if all(v.get("status") in REFUND_FINAL for v in refund_views.values()):
                break
            time.sleep(0.5)
        views = {c.order_id: payment_view(self.api, c.order_id) for c in cases}
        return {
            "wallet_links": self.links_report(),
            "charges": self.report(cases, views, refund_views, not_accepted, topped_up),
        }

    def links_report(self) -> dict[str, Any]:
        statuses = Counter(
            self.api.get(f"/v1/wallet-links/{link_id}").json()["status"] for link_id in self.links
        )
        return {"total": len(self.links), "by_status": dict(sorted(statuses.items()))}

    def report(
        self,
        cases: list[ChargeCase],
        views: dict[str, dict[str, Any]],
        refund_views: dict[str, dict[str, Any]],
        not_accepted: list[tuple[str, int]],
        topped_up: list[str],
    ) -> dict[str, Any]:
        by_status = Counter(v["status"] for v in views.values())
        unexpected = [
            {
                "order_id": c.order_id,
                "group": c.group,
                "expected": c.expected,
                "status": views[c.order_id]["status"],
            }
            for c in cases
            if views[c.order_id]["status"] != c.expected
        ]
        # What really moved, per order (the simulator's ledger: withdraws from customers' wallets and
        # the refunds back into them) against what Tijori says was paid and refunded.
        moved = {
            str(row["orderId"]): row
            for row in self.sim.get("/_sim/autodebit/ledger").json()["orders"]
            if str(row["orderId"]) in views
        }
        mismatches = []
        paid = refunded = debited = credited_back = Decimal(0)
        for order_id, view in views.items():
            tijori_paid = Decimal(view["paid_amount"]) if view["status"] == "PAID" else Decimal(0)
            tijori_refunded = Decimal(view["refunded_amount"] or "0")
            row = moved.get(order_id, {"withdrawn": "0", "refunded": "0"})
            wallet_debited, wallet_credited = Decimal(str(row["withdrawn"])), Decimal(str(row["refunded"]))
            paid, refunded = paid + tijori_paid, refunded + tijori_refunded
            debited, credited_back = debited + wallet_debited, credited_back + wallet_credited
            if (tijori_paid, tijori_refunded) != (wallet_debited, wallet_credited):
                mismatches.append(
                    {
                        "order_id": order_id,
                        "tijori_paid": f"{tijori_paid:.2f}",
                        "wallet_debited": f"{wallet_debited:.2f}",
                        "tijori_refunded": f"{tijori_refunded:.2f}",
                        "wallet_refunded": f"{wallet_credited:.2f}",
                    }
                )
        directpays = {order_id: paytm_calls(self.sim, order_id).count(DIRECT_PAY) for order_id in views}
        return {
            "total": len(cases),
            "by_status": dict(sorted(by_status.items())),
            "by_group": dict(sorted(Counter(c.group for c in cases).items())),
            "not_accepted": not_accepted,
            "unexpected_outcomes": unexpected,
            "directpay_calls": dict(sorted(Counter(directpays.values()).items())),
            "refused_after_revoke": self.refused_after_revoke,
            "add_money_orders": topped_up,
            "refunds": {
                "total": len(refund_views),
                "by_status": dict(Counter(v.get("status") for v in refund_views.values())),
            },
            "reconciliation": {
                "paid_charges": f"{paid:.2f}",
                "wallet_debits": f"{debited:.2f}",
                "refunded": f"{refunded:.2f}",
                "wallet_refunds": f"{credited_back:.2f}",
                "mismatches": mismatches,
                "balanced": paid == debited and refunded == credited_back and not mismatches,
            },
        }
