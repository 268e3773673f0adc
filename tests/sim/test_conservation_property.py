"""Property: whatever mix of credits, user changes, faults and clock moves, money is conserved and
no order is credited twice.

Two machines: one drives `SimState` directly (many examples, cheap), one drives the real HTTP
server with faults armed (fewer examples: each starts a server); the HTTP one also initiates PG
payments, completes their checkouts, refunds them in parts (never above what was captured, pending
refunds included), scripts refunds to stay pending or fail and settles pending ones either way, and
sends VERIFY and checkStatus calls (which never move money).
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, multiple, rule

from tijori_local.sim.client import SimClient, example_credentials, sales_to_user_credit_body
from tijori_local.sim.clock import SimClock
from tijori_local.sim.pg_api import initiate_body, signed_json_data, signed_request
from tijori_local.sim.server import SimServer
from tijori_local.sim.state import BusinessError, CreditRequest, CreditStatus, Script, SimState

CREDENTIALS = example_credentials()
PHONES = ["7000000001", "7000000002", "7000000003", "7000000004"]
ORDER_IDS = [f"P-{n}" for n in range(12)]
PG_ORDER_IDS = [f"PG-{n}" for n in range(3)]
REF_NUMBERS = st.integers(0, 12)
"""REFIDs REF-0..REF-12: few enough that scripts, refunds and settlements meet the same REFID."""
REFUND_AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("60"), places=2)

phones = st.sampled_from(PHONES)
order_ids = st.sampled_from(ORDER_IDS)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
pending_days = st.sampled_from([None, 0, 1, 2, 5])
limits = st.fixed_dictionaries(
    {},
    optional={
        "per_txn": st.sampled_from(["100", "1000", None]),
        "max_balance": st.sampled_from(["500", "10000", None]),
        "monthly_credit": st.sampled_from(["1000", "20000", None]),
        "monthly_txn_count": st.sampled_from([1, 3, None]),
    },
)
user_changes = st.fixed_dictionaries(
    {"phone": phones},
    optional={
        "kyc": st.booleans(),
        "wallet_exists": st.booleans(),
        "mobile_verified": st.booleans(),
        "email_verified": st.booleans(),
        "limits": limits,
        "balance": st.sampled_from(["0", "50", "900"]),
    },
)


def assert_conserved(state: SimState) -> None:
    report = state.conservation()
    assert report["ok"], report["problems"]
    credited = [e.order_id for e in state.ledger if e.kind == "credit"]
    assert len(credited) == len(set(credited)), "an order was credited twice"
    for credit in state.credits.values():
        if credit.status == CreditStatus.SUCCESS:
            assert credit.order_id in credited


class StateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = SimClock(time_scale=0)
        self.state = SimState(CREDENTIALS, self.clock, sub_wallet_balance=Decimal("20000.00"))

    @rule(changes=user_changes)
    def change_user(self, changes: dict[str, Any]) -> None:
        self.state.upsert_user(changes)

    @rule(
        order_id=order_ids,
        phone=phones,
        amount=amounts,
        new_users=st.booleans(),
        days=pending_days,
        verified=st.sampled_from([None, "1", "2", "3"]),
    )
    def credit(
        self,
        order_id: str,
        phone: str,
        amount: Decimal,
        new_users: bool,
        days: int | None,
        verified: str | None,
    ) -> None:
        request = CreditRequest(
            order_id=order_id,
            sales_wallet_guid=CREDENTIALS.wallet.sales_wallet_guid,
            sales_wallet_name=None,
            payee_kind="phone",
            payee=phone,
            amount=amount,
            applied_to_new_users=new_users,
            apply_verified_user=verified,
            pending_days=days,
            metadata=None,
        )
        existed = order_id in self.state.credits
        scripted = self.state.scripts.get(order_id)
        scripted_failure = scripted is not None and scripted.outcome == "FAILURE"
        refused: str | None = None
        try:
            self.state.sales_to_user_credit(request)
        except BusinessError as exc:
            refused = exc.code
        if refused is None:
            assert not existed
        else:
            assert existed or refused == "MWL_2001" or scripted_failure, refused

    @rule(hours=st.integers(min_value=1, max_value=72))
    def advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)
        self.state.resolve_pending()

    @rule(balance=st.sampled_from(["0", "100", "20000"]))
    def top_up(self, balance: str) -> None:
        self.state.set_balance(f"merchant:{CREDENTIALS.wallet.sales_wallet_guid}", Decimal(balance))

    @rule(order_id=order_ids, outcome=st.sampled_from(["SUCCESS", "REFUNDED_BACK"]))
    def force(self, order_id: str, outcome: str) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.state.force_resolve(order_id, outcome)

    @rule(order_id=order_ids, outcome=st.sampled_from(["SUCCESS", "PENDING", "FAILURE", "REFUNDED_BACK"]))
    def script(self, order_id: str, outcome: str) -> None:
        self.state.scripts[order_id] = Script(outcome)

    @invariant()
    def money_is_conserved(self) -> None:
        assert_conserved(self.state)


TestStateConservation = StateMachine.TestCase
TestStateConservation.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

FAULTS = st.sampled_from(
    [
        {"kind": "http_500"},
        {"kind": "http_500", "commit": True},
        {"kind": "non_json", "commit": True},
        {"kind": "error_text"},
        {"kind": "timeout_after_commit", "drop": True},
        {"kind": "latency", "latency_ms": 5},
    ]
)


class HttpMachine(RuleBasedStateMachine):
    pending_refunds = Bundle("pending_refunds")
    """REFIDs of refunds the simulator left pending (until a settle rule consumes them)."""

    def __init__(self) -> None:
        super().__init__()
        self.server = SimServer(CREDENTIALS, time_scale=0, sub_wallet_balance=Decimal("20000.00")).start()
        self.client = SimClient(self.server.url, CREDENTIALS, timeout=5.0)
        self.seen_success: set[str] = set()

    def teardown(self) -> None:
        self.client.close()
        self.server.stop()

    @rule(changes=user_changes)
    def change_user(self, changes: dict[str, Any]) -> None:
        self.client.user(**changes)

    @rule(order_id=order_ids, phone=phones, amount=amounts, new_users=st.booleans(), days=pending_days)
    def credit(self, order_id: str, phone: str, amount: Decimal, new_users: bool, days: int | None) -> None:
        body = sales_to_user_credit_body(
            CREDENTIALS,
            order_id,
            payeePhoneNumber=phone,
            amount=str(amount),
            appliedToNewUsers="Y" if new_users else "N",
            pendingDaysLimit=None if days is None else str(days),
            applyVerifiedUser=None,
        )
        try:
            response = self.client.wallet_post("/wallet-web/salesToUserCredit", body)
        except httpx.HTTPError:
            return  # dropped: ambiguous, like for Tijori
        if response.status_code == 200 and response.headers["content-type"].startswith("application/json"):
            answer = response.json()
            if answer["status"] == "SUCCESS":
                self.seen_success.add(order_id)

    @rule(fault=FAULTS, order_id=st.none() | order_ids)
    def arm_fault(self, fault: dict[str, Any], order_id: str | None) -> None:
        self.client.fault(path="/wallet-web/salesToUserCredit", order_id=order_id, **fault)

    @rule(hours=st.integers(min_value=1, max_value=72))
    def advance(self, hours: int) -> None:
        self.client.advance(hours=hours)

    @rule(minutes=st.sampled_from([1, 10, 20]))
    def advance_minutes(self, minutes: int) -> None:
        self.client.advance(hours=minutes / 60)

    @rule(order_id=st.sampled_from(PG_ORDER_IDS), amount=st.sampled_from(["10.00", "50.00", "99.99"]))
    def pg_initiate(self, order_id: str, amount: str) -> None:
        body = initiate_body(CREDENTIALS.mid, order_id, txnAmount={"value": amount, "currency": "INR"})
        response = self.client.http.post(
            "/theia/api/v1/initiateTransaction",
            params={"mid": CREDENTIALS.mid, "orderId": order_id},
            content=signed_request(body, self.client.pg_key),
        )
        assert response.status_code == 200
        code = response.json()["body"]["resultInfo"]["resultCode"]
        assert code in {"0000", "0002", "2023", "1006"}, code

    @rule(order_id=st.sampled_from(PG_ORDER_IDS), outcome=st.sampled_from(["SUCCESS", "FAILURE", "PENDING"]))
    def pg_checkout(self, order_id: str, outcome: str) -> None:
        response = self.client.http.post(f"/_sim/pg/checkout/{order_id}", json={"outcome": outcome})
        assert response.status_code in (200, 404, 409), response.text

    @rule(order_id=st.sampled_from(PG_ORDER_IDS), amount=st.sampled_from(["10.00", "50.00", "99.99"]))
    def pg_pay(self, order_id: str, amount: str) -> None:
        """Initiate and pay at once (before any clock move can expire the txnToken), so that
        refunds, pending ones included, have captured money to work on."""
        self.pg_initiate(order_id, amount)
        self.pg_checkout(order_id, "SUCCESS")

    @rule(
        target=pending_refunds,
        order_id=st.sampled_from(PG_ORDER_IDS),
        amount=REFUND_AMOUNTS,
        ref=REF_NUMBERS,
        scripted=st.sampled_from([None, None, "PENDING", "FAILURE"]),
    )
    def pg_refund(self, order_id: str, amount: Decimal, ref: int, scripted: str | None) -> Any:
        ref_id = f"REF-{ref}"
        if scripted is not None:
            scripting = self.client.http.post(f"/_sim/pg/refunds/{ref_id}/script", json={"outcome": scripted})
            assert scripting.status_code in (200, 409), scripting.text  # 409: the REFID is taken
        found = self.client.http.get(f"/_sim/orders/{order_id}")
        txn_id = found.json().get("txnId", "1") if found.status_code == 200 else "1"
        before = Decimal(found.json()["refunded"]) if found.status_code == 200 else Decimal(0)
        held = Decimal(found.json()["refundPending"]) if found.status_code == 200 else Decimal(0)
        data = {
            "MID": CREDENTIALS.mid,
            "TXNID": txn_id,
            "ORDERID": order_id,
            "REFUNDAMOUNT": str(amount),
            "TXNTYPE": "REFUND",
            "REFID": ref_id,
        }
        response = self.client.http.post(
            "/refund/HANDLER_INTERNAL/REFUND",
            data={"JsonData": signed_json_data(data, self.client.pg_key, "CHECKSUM")},
        )
        assert response.status_code == 200
        answer = response.json()
        if answer["RESPCODE"] in ("10", "601", "602"):
            order = self.client.control("GET", f"orders/{order_id}")
            assert order["status"] == "TXN_SUCCESS"
            moved = amount if answer["RESPCODE"] == "10" else Decimal(0)
            assert Decimal(order["refunded"]) == before + moved
            assert Decimal(order["refundPending"]) == held + (amount if answer["RESPCODE"] == "601" else 0)
            assert Decimal(order["refunded"]) + Decimal(order["refundPending"]) <= Decimal(order["amount"])
        if answer["RESPCODE"] == "601":
            assert answer["STATUS"] == "TXN_PENDING"
            return ref_id
        return multiple()

    @rule(ref_id=consumes(pending_refunds), outcome=st.sampled_from(["SUCCESS", "FAILURE"]))
    def pg_settle_refund(self, ref_id: str, outcome: str) -> None:
        response = self.client.http.post(f"/_sim/pg/refunds/{ref_id}/settle", json={"outcome": outcome})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == ("TXN_SUCCESS" if outcome == "SUCCESS" else "TXN_FAILURE")
        again = self.client.http.post(f"/_sim/pg/refunds/{ref_id}/settle", json={"outcome": outcome})
        assert again.status_code == 409  # settled once only

    @rule(order_id=st.sampled_from(PG_ORDER_IDS), kind=st.sampled_from(["refund_pending", "refund_failure"]))
    def pg_arm_refund_fault(self, order_id: str, kind: str) -> None:
        self.client.fault(kind, path="/refund/HANDLER_INTERNAL/REFUND", order_id=order_id)

    @rule(order_id=order_ids, phone=phones, verified=st.sampled_from([None, "1", "2", "3"]))
    def verify(self, order_id: str, phone: str, verified: str | None) -> None:
        before = self.client.balances()
        body = sales_to_user_credit_body(
            CREDENTIALS, order_id, requestType="VERIFY", payeePhoneNumber=phone, applyVerifiedUser=verified
        )
        try:
            response = self.client.wallet_post("/wallet-web/salesToUserCredit", body)
        except httpx.HTTPError:
            response = None  # a fault armed for the path (dropped connection)
        if response is not None and response.headers["content-type"].startswith("application/json"):
            answer = response.json()
            assert answer["response"] in (True, False, None)
        assert self.client.balances() == before

    @rule(order_id=order_ids)
    def check_status(self, order_id: str) -> None:
        try:
            answer = self.client.check_status(order_id)
        except httpx.HTTPError:
            return
        if answer["statusCode"] == "SS_001":
            (entry,) = answer["response"]["txnList"]
            assert (entry["status"], entry["message"]) in {
                (1, "SUCCESS"),
                (2, "REFUNDED_BACK"),
                (3, "PENDING"),
            }
        else:
            assert answer["statusCode"] == "STUC_1009"

    @invariant()
    def money_is_conserved(self) -> None:
        for order in self.client.control("GET", "orders"):
            if order.get("api") == "pg":
                captured = Decimal(order["amount"]) if order["status"] == "TXN_SUCCESS" else Decimal(0)
                assert Decimal(order["refunded"]) + Decimal(order["refundPending"]) <= captured, order
                successful = [r for r in order["refunds"] if r["status"] == "TXN_SUCCESS"]
                assert Decimal(order["refunded"]) == sum(
                    (Decimal(r["amount"]) for r in successful), Decimal(0)
                )
        report = self.client.conservation()
        assert report["ok"], report["problems"]
        credited = [e["orderId"] for e in self.client.control("GET", "ledger") if e["kind"] == "credit"]
        assert len(credited) == len(set(credited)), "an order was credited twice"
        assert self.seen_success <= set(credited)
        assert_conserved(self.server.state)


TestHttpConservation = HttpMachine.TestCase
TestHttpConservation.settings = settings(
    max_examples=25, stateful_step_count=35, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
