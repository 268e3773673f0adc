"""The pending-credit index: settling costs what is due or changed, never a scan of everything
pending, and settles exactly as re-evaluating every pending credit at every evaluation did.

`FullScanState` is the simulator's settlement as it was before the index (every pending credit,
oldest first, at every evaluation point; deadlines found by sorting them all). Scenarios and a
property machine drive it and the indexed `SimState` side by side and require the same ledger,
the same credits (status, code, isLimitPending, resolvedAt) and the same balances after every step.
`SimState.pending_evaluations` counts re-evaluations, so the tests assert cost without timing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from paytm_signing import MerchantCredentials
from tijori_local.sim.client import SimClient, example_credentials, sales_to_user_credit_body
from tijori_local.sim.clock import SimClock
from tijori_local.sim.server import SimServer
from tijori_local.sim.state import (
    IST,
    BusinessError,
    CreditRequest,
    CreditStatus,
    PayeeKind,
    SalesCredit,
    Script,
    SimState,
    _next_month_start,
)

CREDENTIALS = example_credentials()


class FullScanState(SimState):
    """The settlement before the index: every pending credit is re-evaluated at every evaluation."""

    def resolve_pending(self) -> int:
        with self.lock:
            now = self.clock.now()
            settled = 0
            at = max(self._evaluated_at, min((c.created_at for c in self._pending.values()), default=now))
            while self._pending:
                boundary = _next_month_start(at)
                if boundary > now:
                    break
                settled += self._full_refund_due(boundary)
                settled += self._full_release(boundary)
                at = boundary
            settled += self._full_refund_due(now)
            settled += self._full_release(now)
            self._evaluated_at = max(self._evaluated_at, now)
            return settled

    def _full_refund_due(self, until: datetime) -> int:
        due = sorted((c for c in self._pending.values() if c.deadline <= until), key=lambda c: c.deadline)
        for credit in due:
            self._settle_refund(credit, credit.deadline)
        return len(due)

    def _full_release(self, at: datetime) -> int:
        settled = 0
        for credit in list(self._pending.values()):
            if credit.forced_pending:
                continue
            blocked = self._blocking_reason(credit, at)
            if blocked is None:
                user = self.find_user(credit.payee_kind, credit.payee)
                assert user is not None
                self._settle_success(credit, user, at)
                settled += 1
            else:
                credit.code, credit.is_limit_pending, _ = blocked
        return settled


def frozen_clock(start: datetime) -> SimClock:
    return SimClock(time_scale=0, real_time=lambda: start.timestamp())


def snapshot(state: SimState) -> tuple[Any, ...]:
    """Everything settlement can change, in a comparable form."""
    ledger = [(e.seq, e.at, e.order_id, e.amount, e.source, e.target, e.kind) for e in state.ledger]
    credits = {
        c.order_id: (c.status, c.message, c.code, c.is_limit_pending, c.sso_id, c.resolved_at)
        for c in state.credits.values()
    }
    return ledger, credits, dict(state.balances)


def request(
    order_id: str,
    payee: str,
    amount: str = "10",
    *,
    kind: PayeeKind = "phone",
    new_users: bool = True,
    days: int | None = None,
    verified: str | None = None,
) -> CreditRequest:
    return CreditRequest(
        order_id=order_id,
        sales_wallet_guid=CREDENTIALS.wallet.sales_wallet_guid,
        sales_wallet_name=None,
        payee_kind=kind,
        payee=payee,
        amount=Decimal(amount),
        applied_to_new_users=new_users,
        apply_verified_user=verified,
        pending_days=days,
        metadata=None,
    )


class Twins:
    """The indexed state and the full-scan state, fed the same calls, compared after each."""

    def __init__(self, start: datetime, sub_wallet_balance: Decimal = Decimal("10000000.00")) -> None:
        self.clocks = [frozen_clock(start), frozen_clock(start)]
        self.indexed = SimState(CREDENTIALS, self.clocks[0], sub_wallet_balance=sub_wallet_balance)
        self.reference = FullScanState(CREDENTIALS, self.clocks[1], sub_wallet_balance=sub_wallet_balance)

    def do(self, action: Callable[[SimState], Any]) -> Any:
        """Run `action` on both states; both must answer (or raise) alike and end up alike."""
        results = []
        for state in (self.indexed, self.reference):
            try:
                results.append(("ok", _comparable(action(state))))
            except (BusinessError, KeyError, ValueError) as exc:
                results.append(("raised", repr(exc)))
        assert results[0] == results[1]
        assert snapshot(self.indexed) == snapshot(self.reference)
        return results[0]

    def call(self, method: str, *args: Any) -> Any:
        """`state.<method>(*args)` on both, as `do`."""
        return self.do(lambda state: getattr(state, method)(*args))

    def script(self, order_id: str, outcome: str) -> None:
        for state in (self.indexed, self.reference):
            state.scripts[order_id] = Script(outcome)

    def advance(self, **delta: float) -> Any:
        for clock in self.clocks:
            clock.advance(**delta)
        return self.do(lambda state: state.resolve_pending())

    def credits(self, prefix: str) -> list[SalesCredit]:
        return [c for order_id, c in self.indexed.credits.items() if order_id.startswith(prefix)]


def _comparable(value: Any) -> Any:
    if isinstance(value, SalesCredit):
        return (value.order_id, value.status, value.code, value.resolved_at)
    if isinstance(value, int | str | Decimal | type(None)):
        return value
    return type(value).__name__


def statuses(credits: list[SalesCredit]) -> set[CreditStatus]:
    return {credit.status for credit in credits}


def test_each_release_event_settles_its_own_pending_credits_among_many() -> None:
    """~560 pending credits blocked for different reasons; each event releases exactly the credits
    it unblocks (re-evaluating only those), as the full scan would, down to the ledger."""
    twins = Twins(datetime(2024, 1, 30, 9, 0, tzinfo=IST))
    state = twins.indexed
    users: dict[str, dict[str, Any]] = {
        "7000000002": {"wallet_exists": False},
        "7000000003": {"kyc": False},
        "7000000004": {"limits": {"per_txn": "5"}},
        "7000000005": {"limits": {"monthly_credit": "100"}},
        "7000000006": {"kyc": False},
        "7000000007": {"email": "seven@example.com", "email_verified": False},
    }
    for phone, changes in users.items():
        twins.call("upsert_user", {"phone": phone, **changes})
    # The monthly limit is used up this month, so E's credits pend on RWL_1001.
    twins.do(lambda s: s.sales_to_user_credit(request("FULL-E", "7000000005", "100")))
    groups = {
        "A": (100, "6000000", "STUC_1001"),  # nobody has these phones (appliedToNewUsers Y)
        "B": (100, "7000000002", "WA_1004"),  # the user has no wallet
        "C": (100, "7000000003", "GE_1026"),  # no KYC
        "D": (100, "7000000004", "RWL_0003"),  # above the per-transaction limit
        "E": (50, "7000000005", "RWL_1001"),  # monthly credit limit reached
        "G": (100, "7000000006", "GE_1026"),  # never fixed: 1-day window
        "V": (10, "7000000007", "STUC_1011"),  # email not verified (applyVerifiedUser 2)
    }
    for group, (count, payee, _) in groups.items():
        for n in range(count):
            phone = f"{payee}{n:03d}" if group == "A" else payee
            days, verified = (1 if group == "G" else None), ("2" if group == "V" else None)
            twins.call(
                "sales_to_user_credit", request(f"{group}-{n:03d}", phone, days=days, verified=verified)
            )
    for n in range(5):
        twins.script(f"S-{n}", "PENDING")
        twins.call("sales_to_user_credit", request(f"S-{n}", "7000000003"))
    for group, (_, _, code) in groups.items():
        assert {(c.status, c.code) for c in twins.credits(f"{group}-")} == {(CreditStatus.PENDING, code)}
    assert len(state._pending) == 565

    def event(action: Callable[[SimState], Any]) -> int:
        before = state.pending_evaluations
        twins.do(action)
        assert state.conservation()["ok"]
        return state.pending_evaluations - before

    # A user appears for one unknown phone: that one credit is evaluated and credited.
    assert event(lambda s: s.upsert_user({"phone": "6000000042"})) == 1
    assert [c.order_id for c in twins.credits("A-") if c.status == CreditStatus.SUCCESS] == ["A-042"]
    # B's wallet is created, C's KYC done, D's per-transaction limit raised, V's email verified.
    assert event(lambda s: s.upsert_user({"phone": "7000000002", "wallet_exists": True})) == 100
    assert statuses(twins.credits("B-")) == {CreditStatus.SUCCESS}
    assert event(lambda s: s.upsert_user({"phone": "7000000003", "kyc": True})) == 100
    assert statuses(twins.credits("C-")) == {CreditStatus.SUCCESS}
    assert statuses(twins.credits("S-")) == {CreditStatus.PENDING}  # scripted: not released
    assert event(lambda s: s.upsert_user({"phone": "7000000004", "limits": {"per_txn": "1000"}})) == 100
    assert statuses(twins.credits("D-")) == {CreditStatus.SUCCESS}
    assert event(lambda s: s.upsert_user({"phone": "7000000007", "email_verified": True})) == 10
    assert statuses(twins.credits("V-")) == {CreditStatus.SUCCESS}
    # Nothing else was touched on the way.
    assert {c.code for c in twins.credits("E-")} == {"RWL_1001"}
    assert statuses(twins.credits("G-")) == {CreditStatus.PENDING}

    # A day later G's window ends: refunded each at its deadline, nothing re-evaluated.
    before = state.pending_evaluations
    twins.advance(days=1)
    assert state.pending_evaluations == before
    for credit in twins.credits("G-"):
        assert (credit.status, credit.resolved_at) == (CreditStatus.FAILURE, credit.deadline)

    # The month boundary (midnight IST) resets E's monthly limit: 10 of its 50 credits fit, in
    # arrival order, credited at the boundary; the other 40 stay RWL_1001. Only E is evaluated.
    before = state.pending_evaluations
    twins.advance(days=1)
    boundary = datetime(2024, 2, 1, tzinfo=IST)
    released = [c for c in twins.credits("E-") if c.status == CreditStatus.SUCCESS]
    assert [c.order_id for c in released] == [f"E-{n:03d}" for n in range(10)]
    assert {c.resolved_at for c in released} == {boundary}
    assert {(c.status, c.code) for c in twins.credits("E-") if c not in released} == {
        (CreditStatus.PENDING, "RWL_1001")
    }
    assert state.pending_evaluations - before <= 2 * 50

    # The 5-day window ends for all that is left: refunded at their own deadlines.
    twins.advance(days=4)
    assert not state._pending
    for credit in state.credits.values():
        if credit.status == CreditStatus.FAILURE:
            assert credit.resolved_at in (credit.deadline, credit.created_at)
    assert state.conservation()["ok"]


def test_a_request_does_not_touch_unrelated_pending_credits() -> None:
    """5,000 credits pending for 5,000 unknown phones and 1,000 for one user without KYC: other
    payees' credits, status checks, user changes, clock moves and a month boundary re-evaluate
    none of them; that user's KYC re-evaluates exactly its 1,000."""
    state = SimState(CREDENTIALS, frozen_clock(datetime(2024, 3, 28, 12, 0, tzinfo=IST)))
    state.upsert_user({"phone": "7000000001", "kyc": False})
    state.upsert_user({"phone": "7777777777"})
    for n in range(5000):
        state.sales_to_user_credit(request(f"NEW-{n}", str(6_000_000_000 + n), "1"))
    for n in range(1000):
        state.sales_to_user_credit(request(f"KYC-{n}", "7000000001", "1"))
    assert len(state._pending) == 6000
    before = state.pending_evaluations

    for n in range(50):
        assert state.sales_to_user_credit(request(f"OK-{n}", "7777777777")).status == CreditStatus.SUCCESS
        assert state.find_credit("merchanttxnid", f"NEW-{n}") is not None
        state.resolve_pending()
    state.upsert_user({"phone": "7777777777", "balance": "5", "limits": {"monthly_credit": "100000"}})
    state.upsert_user({"phone": "8000000000", "kyc": False})
    state.sales_to_user_credit(request("KYC-late", "7000000001", "1"))  # evaluated as it arrives
    state.clock.advance(hours=1)
    state.resolve_pending()
    state.clock.advance(days=4)  # across the end of March (IST); no credit is limit-pending
    state.resolve_pending()
    assert state.pending_evaluations == before
    assert len(state._pending) == 6001

    state.upsert_user({"phone": "7000000001", "kyc": True})
    assert state.pending_evaluations - before == 1001
    assert statuses([c for c in state.credits.values() if c.order_id.startswith("KYC-")]) == {
        CreditStatus.SUCCESS
    }
    assert {(c.status, c.code) for c in state.credits.values() if c.order_id.startswith("NEW-")} == {
        (CreditStatus.PENDING, "STUC_1001")
    }
    assert state.conservation()["ok"]


def test_an_http_request_does_not_touch_unrelated_pending_credits(credentials: MerchantCredentials) -> None:
    """The same through the server (every request settles first): a credit to another payee and a
    checkStatus re-evaluate none of 300 pending credits."""
    with SimServer(credentials, time_scale=0) as sim:
        client = SimClient(sim.url, credentials)
        try:
            client.user(phone="7777777777", email="u@example.com")
            for n in range(300):
                sim.state.sales_to_user_credit(request(f"HOLD-{n}", str(6_000_000_000 + n), "1"))
            before = sim.state.pending_evaluations
            body = sales_to_user_credit_body(credentials, "OTHER-1")
            assert client.wallet_post("/wallet-web/salesToUserCredit", body).json()["status"] == "SUCCESS"
            assert client.check_status("HOLD-7")["response"]["txnList"][0]["status"] == 3
            assert sim.state.pending_evaluations == before
            client.user(phone="6000000007")  # the payee of HOLD-7 appears
            assert sim.state.pending_evaluations == before + 1
            assert client.check_status("HOLD-7")["response"]["txnList"][0]["status"] == 1
        finally:
            client.close()


def test_a_phone_changing_hands_moves_its_pending_credits_with_it() -> None:
    """Whom a phone or an email finds changes when a user's phone or email changes: the credits
    pending for the old and the new address are both re-evaluated (and match the full scan)."""
    twins = Twins(datetime(2024, 1, 31, 12, 0, tzinfo=IST))
    twins.do(lambda s: s.upsert_user({"sso_id": "S1", "phone": "7000000001", "kyc": False}))
    twins.do(lambda s: s.upsert_user({"sso_id": "S2", "phone": "7000000002"}))
    for n in range(3):
        twins.call("sales_to_user_credit", request(f"P1-{n}", "7000000001"))
        twins.call("sales_to_user_credit", request(f"P9-{n}", "7000000009"))
        twins.call("sales_to_user_credit", request(f"M-{n}", "Me@Example.com", kind="email"))
    # S1 takes a new phone: 7000000001 finds nobody now (STUC_1001), 7000000009 finds S1 (no KYC).
    twins.do(lambda s: s.upsert_user({"sso_id": "S1", "phone": "7000000009"}))
    assert {c.code for c in twins.credits("P1-")} == {"STUC_1001"}
    assert {c.code for c in twins.credits("P9-")} == {"GE_1026"}
    # S2 takes the old phone and an email in another case: both sets of credits go to S2.
    twins.do(lambda s: s.upsert_user({"sso_id": "S2", "phone": "7000000001", "email": "ME@example.COM"}))
    assert statuses(twins.credits("P1-")) == {CreditStatus.SUCCESS}
    assert statuses(twins.credits("M-")) == {CreditStatus.SUCCESS}
    twins.do(lambda s: s.upsert_user({"sso_id": "S1", "kyc": True}))
    assert statuses(twins.credits("P9-")) == {CreditStatus.SUCCESS}


def test_a_balance_moved_by_another_api_releases_a_max_balance_credit() -> None:
    """Money leaving a user's wallet by any movement (a withdrawal, here) is an input of the
    max-balance limit: the credit pending on RWL_1000 is released at the next evaluation."""
    twins = Twins(datetime(2024, 5, 10, 12, 0, tzinfo=IST))
    twins.do(lambda s: s.upsert_user({"sso_id": "S1", "phone": "7000000001", "balance": "95"}))
    twins.do(lambda s: s.upsert_user({"sso_id": "S1", "limits": {"max_balance": "100"}}))
    twins.do(lambda s: s.sales_to_user_credit(request("MAX-1", "7000000001")))
    assert [c.code for c in twins.credits("MAX-")] == ["RWL_1000"]
    twins.do(lambda s: s.move("user:S1", "pg:merchant", Decimal("50"), order_id="W-1", kind="withdraw"))
    twins.do(lambda s: s.resolve_pending())
    assert statuses(twins.credits("MAX-")) == {CreditStatus.SUCCESS}


def test_a_release_relabels_the_younger_credits_of_its_user_in_the_same_pass() -> None:
    """A credit released through one address (a phone that now finds another user) changes that
    user's month totals: a younger credit pending for the same user under another address (its
    ssoId) is re-labelled in the same pass, as the full scan in arrival order does."""
    twins = Twins(datetime(2024, 7, 10, 12, 0, tzinfo=IST))
    twins.do(lambda s: s.upsert_user({"sso_id": "U2", "phone": "7000000001", "kyc": False}))
    limits = {"monthly_credit": "100", "monthly_txn_count": 2}
    twins.do(lambda s: s.upsert_user({"sso_id": "U", "phone": "7000000001", "limits": limits}))
    twins.call("sales_to_user_credit", request("FIRST", "U", "90", kind="ssoId"))
    twins.call("sales_to_user_credit", request("BY-PHONE", "7000000001", "5"))  # finds U2: no KYC
    twins.call("sales_to_user_credit", request("BY-SSO", "U", "20", kind="ssoId"))  # 90 + 20 > 100
    assert [c.code for c in twins.credits("BY-")] == ["GE_1026", "RWL_1001"]
    # U2 gives the phone up: it finds U now; BY-PHONE fits U's limits (95, 2 credits) ...
    twins.do(lambda s: s.upsert_user({"sso_id": "U2", "phone": "7000000002"}))
    by_phone, by_sso = twins.credits("BY-")
    assert (by_phone.status, by_phone.sso_id) == (CreditStatus.SUCCESS, "U")
    # ... and BY-SSO is now over the monthly count (checked before the monthly amount).
    assert (by_sso.status, by_sso.code) == (CreditStatus.PENDING, "RWL_0004")


# -- property: the index settles exactly as the full scan, whatever happens -------------------------

PHONES = ["7000000001", "7000000002", "7000000003", "6000000001", "6000000002"]
EMAILS = ["a@example.com", "B@example.com", "b@EXAMPLE.com"]
SSO_IDS = ["S1", "S2", "S3"]
STARTS = [
    datetime(2024, 1, 29, 18, 0, tzinfo=IST),
    datetime(2024, 2, 28, 23, 30, tzinfo=IST),
    datetime(2024, 12, 31, 22, 0, tzinfo=IST),
]

payees = st.one_of(
    st.tuples(st.just("phone"), st.sampled_from(PHONES)),
    st.tuples(st.just("email"), st.sampled_from(EMAILS)),
    st.tuples(st.just("ssoId"), st.sampled_from(SSO_IDS)),
)
limits = st.fixed_dictionaries(
    {},
    optional={
        "per_txn": st.sampled_from(["100", "1000", None]),
        "max_balance": st.sampled_from(["500", "3000", None]),
        "monthly_credit": st.sampled_from(["300", "2000", None]),
        "monthly_txn_count": st.sampled_from([0, 1, 3, None]),
    },
)
user_changes = st.fixed_dictionaries(
    {"sso_id": st.sampled_from(SSO_IDS)},
    optional={
        "phone": st.sampled_from([*PHONES, None]),
        "email": st.sampled_from([*EMAILS, None]),
        "kyc": st.booleans(),
        "wallet_exists": st.booleans(),
        "mobile_verified": st.booleans(),
        "email_verified": st.booleans(),
        "limits": limits,
        "balance": st.sampled_from(["0", "50", "900", "2500"]),
    },
)


class IndexedMatchesFullScan(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.twins: Twins | None = None
        self.next_order = 0

    @initialize(start=st.sampled_from(STARTS))
    def start(self, start: datetime) -> None:
        self.twins = Twins(start, sub_wallet_balance=Decimal("50000.00"))

    @property
    def both(self) -> Twins:
        assert self.twins is not None
        return self.twins

    @rule(changes=user_changes)
    def change_user(self, changes: dict[str, Any]) -> None:
        self.both.do(lambda s: s.upsert_user(dict(changes)))

    @rule(
        payee=payees,
        amount=st.sampled_from(["1", "60", "250", "999.99", "1500"]),
        new_users=st.booleans(),
        days=st.sampled_from([None, 0, 1, 2, 5, 9]),
        verified=st.sampled_from([None, "1", "2", "3"]),
        repeat=st.integers(min_value=1, max_value=4),
    )
    def credit(
        self,
        payee: tuple[PayeeKind, str],
        amount: str,
        new_users: bool,
        days: int | None,
        verified: str | None,
        repeat: int,
    ) -> None:
        for _ in range(repeat):
            order_id = f"O-{self.next_order}"
            self.next_order += 1
            credit = request(
                order_id, payee[1], amount, kind=payee[0], new_users=new_users, days=days, verified=verified
            )
            self.both.call("sales_to_user_credit", credit)

    @rule(hours=st.sampled_from([1, 5, 23, 24, 30, 72, 24 * 33]))
    def advance(self, hours: int) -> None:
        self.both.advance(hours=hours)

    @rule(sso_id=st.sampled_from(SSO_IDS), amount=st.sampled_from(["10", "400"]))
    def withdraw(self, sso_id: str, amount: str) -> None:
        def action(s: SimState) -> None:
            s.move(f"user:{sso_id}", "pg:merchant", Decimal(amount), order_id=None, kind="withdraw")

        self.both.do(action)

    @rule(balance=st.sampled_from(["0", "500", "50000"]))
    def top_up(self, balance: str) -> None:
        guid = CREDENTIALS.wallet.sales_wallet_guid
        self.both.do(lambda s: s.set_balance(f"merchant:{guid}", Decimal(balance)))

    @rule(pick=st.integers(min_value=0, max_value=120), outcome=st.sampled_from(["SUCCESS", "REFUNDED_BACK"]))
    def force(self, pick: int, outcome: str) -> None:
        order_id = f"O-{pick}"  # often unknown or settled: both must refuse alike (compared in `do`)
        self.both.do(lambda s: s.force_resolve(order_id, outcome))

    @rule(outcome=st.sampled_from(["SUCCESS", "PENDING", "FAILURE", "REFUNDED_BACK"]))
    def script_next(self, outcome: str) -> None:
        self.both.script(f"O-{self.next_order}", outcome)  # the next credit's

    @invariant()
    def conserved(self) -> None:
        if self.twins is not None:
            assert self.twins.indexed.conservation()["ok"]


TestIndexedMatchesFullScan = IndexedMatchesFullScan.TestCase
TestIndexedMatchesFullScan.settings = settings(
    max_examples=120, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def test_the_full_scan_reference_is_the_old_settlement() -> None:
    """Sanity for the reference itself: it pends, releases and refunds like the simulator."""
    twins = Twins(datetime(2024, 6, 1, 12, 0, tzinfo=IST))
    twins.do(lambda s: s.sales_to_user_credit(request("R-1", "7000000001")))
    twins.do(lambda s: s.sales_to_user_credit(request("R-2", "7000000002")))
    twins.do(lambda s: s.upsert_user({"phone": "7000000001"}))
    twins.advance(days=6)
    assert [c.status for c in twins.credits("R-")] == [CreditStatus.SUCCESS, CreditStatus.FAILURE]
    assert twins.credits("R-2")[0].resolved_at == datetime(2024, 6, 1, 12, 0, tzinfo=IST) + timedelta(days=5)
