"""A stateful model test of the payout settlement (issue item 20).

Hypothesis interleaves everything that happens to payouts in production: intake (new payouts,
identical replays, conflicting bodies), deliveries of the queue's messages (in any order, twice,
or never), worker crashes between any two calls to the outside, callbacks (a `check`), operator
rechecks, scheduled runs of the pending checks (that die at any call, item or run, or run short of
time), runs skipped for minutes to days, and a Paytm that answers with every outcome. Paytm is a
model that holds the truth per merchant order id (what was committed, for how much, where the
money is); Tijori is checked against it after every step, every run is checked not to move the
pending-check cursor past a check it neither did nor postponed, and a final drain lets only the
production mechanisms (queue deliveries and sparse scheduled runs) bring every payout to rest.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tests.fakes import Clock, InMemoryPayoutRepository
from tijori.payouts.intake import PayoutConflictError, submit_payout
from tijori.payouts.lifecycle import ALLOWED_TRANSITIONS, FINAL_STATUSES, PayoutStatus, is_final
from tijori.payouts.models import Payout, PayoutMode, PayoutRequest, Transition
from tijori.payouts.pending import CHECK_AGES, SEED_PENDING_DAYS
from tijori.payouts.ports import DueEntry, OutcomeDetails
from tijori.payouts.settlement import (
    ATTEMPT_LEASE_SECONDS,
    CallBudget,
    PayoutSettler,
    PaytmConfigurationError,
    RetryLaterError,
)
from tijori.paytm.wallet_codes import WalletOutcome
from tijori.paytm.wallet_mapping import TxnStatus, WalletAnswer, read_credit_answer, read_status_answer

S = PayoutStatus
MAX_PAYOUTS = 4
DRAIN_DAYS = 14


# ---- crashes ---------------------------------------------------------------------------------
class InjectedCrashError(Exception):
    """The worker died (or a call to the outside blew up) at a chosen point."""


class Scope(StrEnum):
    """What a crash takes down with it."""

    CALL = "call"  # only this call fails; the caller goes on (and handles the error)
    ITEM = "item"  # every later call for this order id in the step fails: an outage of that item
    PROCESS = "process"  # every later call of the step fails: the worker or run is dead, nothing
    # is released or postponed, an attempt's lease must run out


# The order id of the scheduled run's own calls (the index pages and the cursor).
RUN = "(run)"
RUN_OPS = ("due_page", "check_cursor", "pending_page", "advance_check_cursor")


@dataclass(frozen=True)
class Crash:
    """Raise at the `occurrence`-th call of `op` (a port method: "credit", "transition", ...)
    made for `order_id` in one step: before the call has its effect, or after it (the table
    wrote, Paytm committed; the answer is lost)."""

    op: str
    occurrence: int
    after_effect: bool
    scope: Scope
    order_id: str = ""


class Faults:
    """Counts each step's calls to the outside per (order id, port method) and fires the armed
    crash. Per order id, because the scheduled run handles items concurrently: the order of calls
    across items is not something to aim a crash with, within one item it is. Also counts every
    call of the step, which is what a run's time budget is spent on."""

    def __init__(self) -> None:
        self.plan: Crash | None = None
        self.calls: Counter[tuple[str, str]] = Counter()
        self.total = 0
        self.dead: set[str] = set()
        self.process_dead = False
        self.fired: list[str] = []

    def arm(self, crash: Crash | None) -> None:
        self.plan, self.calls, self.total, self.dead, self.process_dead = crash, Counter(), 0, set(), False

    def before(self, order_id: str, op: str) -> int:
        if self.process_dead or order_id in self.dead:
            raise InjectedCrashError(f"{op} {order_id}: dead")
        self.total += 1
        self.calls[order_id, op] += 1
        number = self.calls[order_id, op]
        self._maybe_fire(order_id, op, number, after_effect=False)
        return number

    def after(self, order_id: str, op: str, number: int) -> None:
        self._maybe_fire(order_id, op, number, after_effect=True)

    def _maybe_fire(self, order_id: str, op: str, number: int, *, after_effect: bool) -> None:
        plan = self.plan
        if plan is None or (plan.order_id, plan.op, plan.occurrence) != (order_id, op, number):
            return
        if plan.after_effect is not after_effect:
            return
        self.plan = None
        if plan.scope is Scope.ITEM:
            self.dead.add(order_id)
        elif plan.scope is Scope.PROCESS:
            self.process_dead = True
        when = "after" if after_effect else "before"
        self.fired.append(f"crash at {op} {when} its effect ({plan.scope.value})")
        raise InjectedCrashError(f"{op} {order_id}: crash {when} the effect")


class FaultyRepository(InMemoryPayoutRepository):
    """The in-memory table, with every call a crash point (before or after its write): the calls
    for one payout under its order id, the scheduled run's index page reads and cursor calls
    under RUN."""

    def __init__(self, faults: Faults) -> None:
        super().__init__()
        self.faults = faults

    def _gated(self, order_id: str, op: str, call: Callable[[], Any]) -> Any:
        number = self.faults.before(order_id, op)
        result = call()
        self.faults.after(order_id, op, number)
        return result

    def _gated_pages(self, op: str, pages: Iterator[Sequence[str]]) -> Iterator[Sequence[str]]:
        """Each page read (the last one finds no more) is one call to the table."""
        while True:
            page = self._gated(RUN, op, lambda: next(pages, None))
            if page is None:
                return
            yield page

    def create(self, payout: Payout, *, first_check_at: datetime) -> None:
        self._gated(
            payout.order_id,
            "create",
            lambda: super(FaultyRepository, self).create(payout, first_check_at=first_check_at),
        )

    def get(self, order_id: str) -> Payout | None:
        result: Payout | None = self._gated(
            order_id, "get", lambda: super(FaultyRepository, self).get(order_id)
        )
        return result

    def transition(
        self,
        order_id: str,
        *,
        expected: PayoutStatus,
        target: PayoutStatus,
        at: datetime,
        reason: str,
        next_check_at: datetime | DueEntry | None,
        count_attempt: bool = False,
        details: OutcomeDetails | None = None,
        lease_until: float | None = None,
        unless_leased_at: float | None = None,
        pending_since: datetime | None = None,
        first_send_at: datetime | None = None,
        read_back: bool = False,
    ) -> Payout:
        result: Payout = self._gated(
            order_id,
            "transition",
            lambda: super(FaultyRepository, self).transition(
                order_id,
                expected=expected,
                target=target,
                at=at,
                reason=reason,
                next_check_at=next_check_at,
                count_attempt=count_attempt,
                details=details,
                lease_until=lease_until,
                unless_leased_at=unless_leased_at,
                pending_since=pending_since,
                first_send_at=first_send_at,
                read_back=read_back,
            ),
        )
        return result

    def take_over_attempt(
        self, order_id: str, *, wall_now: float, lease_until: float, first_send_at: datetime
    ) -> Payout | None:
        result: Payout | None = self._gated(
            order_id,
            "take_over_attempt",
            lambda: super(FaultyRepository, self).take_over_attempt(
                order_id, wall_now=wall_now, lease_until=lease_until, first_send_at=first_send_at
            ),
        )
        return result

    def record_check(
        self,
        order_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        details: OutcomeDetails | None,
        release_attempt: bool = False,
    ) -> None:
        self._gated(
            order_id,
            "record_check",
            lambda: super(FaultyRepository, self).record_check(
                order_id,
                at=at,
                next_check_at=next_check_at,
                details=details,
                release_attempt=release_attempt,
            ),
        )

    def release_attempt(self, order_id: str) -> None:
        self._gated(
            order_id, "release_attempt", lambda: super(FaultyRepository, self).release_attempt(order_id)
        )

    def unmark_sent(self, order_id: str, *, at: datetime) -> None:
        self._gated(
            order_id, "unmark_sent", lambda: super(FaultyRepository, self).unmark_sent(order_id, at=at)
        )

    def postpone_check(self, order_id: str, *, until: datetime) -> None:
        self._gated(
            order_id,
            "postpone_check",
            lambda: super(FaultyRepository, self).postpone_check(order_id, until=until),
        )

    def leave_due_index(self, order_id: str) -> None:
        self._gated(
            order_id, "leave_due_index", lambda: super(FaultyRepository, self).leave_due_index(order_id)
        )

    def file_as_pending(self, order_id: str, *, pending_since: datetime) -> None:
        self._gated(
            order_id,
            "file_as_pending",
            lambda: super(FaultyRepository, self).file_as_pending(order_id, pending_since=pending_since),
        )

    def due_for_check(self, now: datetime, *, page_size: int) -> Iterator[Sequence[str]]:
        return self._gated_pages("due_page", super().due_for_check(now, page_size=page_size))

    def pending_since_within(
        self, windows: Sequence[tuple[datetime, datetime]], *, page_size: int
    ) -> Iterator[Sequence[str]]:
        return self._gated_pages("pending_page", super().pending_since_within(windows, page_size=page_size))

    def check_cursor(self) -> datetime | None:
        result: datetime | None = self._gated(
            RUN, "check_cursor", lambda: super(FaultyRepository, self).check_cursor()
        )
        return result

    def advance_check_cursor(self, *, expected: datetime | None, to: datetime) -> bool:
        result: bool = self._gated(
            RUN,
            "advance_check_cursor",
            lambda: super(FaultyRepository, self).advance_check_cursor(expected=expected, to=to),
        )
        return result


class Queue:
    """The payout queue as a multiset of messages the machine delivers from (or not)."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.messages: list[str] = []

    def dispatch(self, order_id: str) -> None:
        number = self.faults.before(order_id, "dispatch")
        self.messages.append(order_id)
        self.faults.after(order_id, "dispatch", number)


# ---- Paytm -----------------------------------------------------------------------------------
class CreditPlan(StrEnum):
    """What Paytm does with one salesToUserCredit (while it has no record of the order id)."""

    SUCCESS = "success"  # commits, credits the payee, answers SUCCESS
    PENDING = "pending"  # commits, holds the money, answers GE_1026; rolls back when its window closes
    PENDING_STUCK = "pending_stuck"  # as PENDING, but resolves only when a rule says so
    FINAL_FAILURE = "final_failure"  # GE_1027, no record, no money
    FINAL_FAILURE_RECORDED = "final_failure_recorded"  # GE_1027, a FAILURE record, no money
    INVALID_REQUEST = "invalid_request"  # GE_1007, no record
    TIMEOUT_COMMITTED = "timeout_committed"  # commits (credited), the answer is lost
    TIMEOUT_COMMITTED_PENDING = "timeout_committed_pending"  # commits (held), the answer is lost
    TIMEOUT_NOT_COMMITTED = "timeout_not_committed"  # never reached Paytm's ledger
    HTTP_5XX_NOT_COMMITTED = "http_5xx_not_committed"
    CONFIGURATION_ERROR = "configuration_error"  # GE_1008, no record


class VerifyPlan(StrEnum):
    TRUE = "true"
    FALSE = "false"
    NO_VERDICT = "no_verdict"  # a timeout: no answer at all
    REFUSED = "refused"  # GE_1027 FAILURE, no verdict needed
    CONFIGURATION_ERROR = "configuration_error"


class StatusPlan(StrEnum):
    """One checkStatus answer other than the truth."""

    CTS_0001 = "cts_0001"
    HTTP_5XX = "http_5xx"
    CONFIGURATION_ERROR = "configuration_error"
    NO_TRANSACTION = "no_transaction"  # SS_001 whose txnList does not hold the order


class Foreign(StrEnum):
    """Paytm already holds an order with this id that is not this payout."""

    OTHER_AMOUNT = "other_amount"
    OTHER_PAYEE = "other_payee"  # same amount, another ssoId (only for an sso_id payee)


@dataclass
class PaytmOrder:
    """Paytm's record of one merchantOrderId, and where its money is."""

    amount: Decimal
    state: TxnStatus
    message: str
    txn_id: str
    sso_id: str
    own: bool  # created by one of Tijori's sends (not a foreign order with the same id)
    rolls_back_at: datetime | None = None


def _doc(status: str, code: str, message: str, response: Any = None) -> dict[str, Any]:
    return {"status": status, "statusCode": code, "statusMessage": message, "response": response}


TIMEOUT = WalletAnswer(WalletOutcome.AMBIGUOUS, None, "no answer within 10.0 s")
HTTP_503 = WalletAnswer(WalletOutcome.AMBIGUOUS, None, "HTTP 503")
CONFIGURATION_DOC = _doc("FAILURE", "GE_1008", "Invalid HMAC Value")


class PaytmModel:
    """The wallet port as a Paytm with a ledger. Answers go through Tijori's real readers
    (`read_credit_answer`, `read_status_answer`), so the mapping is part of what is tested."""

    def __init__(self, clock: Clock, faults: Faults) -> None:
        self.clock = clock
        self.faults = faults
        self.orders: dict[str, PaytmOrder] = {}
        self.debited = Decimal(0)  # out of the merchant's sales sub-wallet
        self.commits: Counter[str] = Counter()  # Tijori's sends that moved money, per order id
        self.credit_plans: dict[str, list[CreditPlan]] = {}
        self.verify_plans: dict[str, list[VerifyPlan]] = {}
        self.status_plans: dict[str, list[StatusPlan]] = {}
        # What Tijori asked and was told, per order id: ("credit", plan) | ("status", outcome) | ...
        self.log: dict[str, list[tuple[str, str]]] = {}
        self.sends_onto_a_record: list[str] = []
        self._txn = 0

    # ---- the ledger ----
    def _commit(self, order_id: str, amount: Decimal, state: TxnStatus, message: str, **extra: Any) -> None:
        self._txn += 1
        self.orders[order_id] = PaytmOrder(amount, state, message, f"W{self._txn}", **extra)
        self.debited += amount

    def add_foreign(self, payout: PayoutRequest, kind: Foreign, state: TxnStatus) -> None:
        amount = payout.amount + 1 if kind is Foreign.OTHER_AMOUNT else payout.amount
        self._commit(payout.order_id, amount, state, state.name, sso_id="FOREIGN9", own=False)

    def money(self) -> tuple[Decimal, Decimal, Decimal]:
        """(with payees, refunded to the sub-wallet, held pending)."""
        sums = {TxnStatus.SUCCESS: Decimal(0), TxnStatus.FAILURE: Decimal(0), TxnStatus.PENDING: Decimal(0)}
        for order in self.orders.values():
            sums[order.state] += order.amount
        return sums[TxnStatus.SUCCESS], sums[TxnStatus.FAILURE], sums[TxnStatus.PENDING]

    def own(self, order_id: str) -> PaytmOrder | None:
        order = self.orders.get(order_id)
        return order if order is not None and order.own else None

    def resolve(self, order_id: str, *, success: bool) -> None:
        order = self.orders[order_id]
        assert order.state is TxnStatus.PENDING
        order.state = TxnStatus.SUCCESS if success else TxnStatus.FAILURE
        order.message = "SUCCESS" if success else "REFUNDED_BACK"
        order.rolls_back_at = None

    def time_passes(self) -> None:
        """Paytm rolls a pending credit back to the sub-wallet when its window closes."""
        for order_id, order in self.orders.items():
            if order.rolls_back_at is not None and self.clock() >= order.rolls_back_at:
                self.resolve(order_id, success=False)

    # ---- the wallet port ----
    async def credit(self, payout: Payout, *, verify_only: bool, timeout: float) -> WalletAnswer:
        order_id = payout.order_id
        op = "verify" if verify_only else "credit"
        number = self.faults.before(order_id, op)
        answer = self._verify(payout) if verify_only else self._credit(payout)
        self.faults.after(order_id, op, number)
        return answer

    def _verify(self, payout: Payout) -> WalletAnswer:
        plans = self.verify_plans.get(payout.order_id)
        plan = plans.pop(0) if plans else VerifyPlan.TRUE
        self.log.setdefault(payout.order_id, []).append(("verify", plan.value))
        if plan is VerifyPlan.NO_VERDICT:
            return TIMEOUT
        if plan is VerifyPlan.REFUSED:
            return read_credit_answer(_doc("FAILURE", "GE_1027", "User doesn't exist"))
        if plan is VerifyPlan.CONFIGURATION_ERROR:
            return read_credit_answer(CONFIGURATION_DOC)
        return read_credit_answer(_doc("SUCCESS", "SUCCESS", "SUCCESS", plan is VerifyPlan.TRUE))

    def _credit(self, payout: Payout) -> WalletAnswer:
        order_id = payout.order_id
        plans = self.credit_plans.get(order_id)
        plan = plans.pop(0) if plans else CreditPlan.SUCCESS
        self.log.setdefault(order_id, []).append(("credit", plan.value))
        if order_id in self.orders:
            # Paytm refuses a second order with the same id; Tijori must never have sent it if the
            # record is its own (checked by an invariant).
            if self.orders[order_id].own:
                self.sends_onto_a_record.append(order_id)
            return read_credit_answer(_doc("FAILURE", "STUC_1007", "merchantOrderId already exists"))
        sso_id = payout.wallet_payee.sso_id or "PAYEE1"
        now = self.clock()
        days = SEED_PENDING_DAYS if payout.pending_days_limit is None else payout.pending_days_limit
        if plan in (CreditPlan.SUCCESS, CreditPlan.TIMEOUT_COMMITTED):
            self._commit(order_id, payout.amount, TxnStatus.SUCCESS, "SUCCESS", sso_id=sso_id, own=True)
        elif plan in (CreditPlan.PENDING, CreditPlan.PENDING_STUCK, CreditPlan.TIMEOUT_COMMITTED_PENDING):
            rolls_back_at = None if plan is CreditPlan.PENDING_STUCK else now + timedelta(days=days)
            self._commit(
                order_id,
                payout.amount,
                TxnStatus.PENDING,
                "PENDING",
                sso_id=sso_id,
                own=True,
                rolls_back_at=rolls_back_at,
            )
        elif plan is CreditPlan.FINAL_FAILURE_RECORDED:
            self._txn += 1
            self.orders[order_id] = PaytmOrder(
                payout.amount, TxnStatus.FAILURE, "User doesn't exist", f"W{self._txn}", sso_id, own=True
            )
            self.debited += payout.amount  # debited and refunded at once: counts as refunded
        if order_id in self.orders:
            self.commits[order_id] += 1
        txn = self.orders[order_id].txn_id if order_id in self.orders else None
        answers = {
            CreditPlan.SUCCESS: _doc("SUCCESS", "SUCCESS", "SUCCESS", {"walletSysTransactionId": txn}),
            CreditPlan.PENDING: _doc("PENDING", "GE_1026", "User wallet is in inactive mode.", None),
            CreditPlan.PENDING_STUCK: _doc("PENDING", "RWL_0001", "Wallet limit reached", None),
            CreditPlan.FINAL_FAILURE: _doc("FAILURE", "GE_1027", "User doesn't exist"),
            CreditPlan.FINAL_FAILURE_RECORDED: _doc("FAILURE", "GE_1027", "User doesn't exist"),
            CreditPlan.INVALID_REQUEST: _doc("FAILURE", "GE_1007", "Invalid Transaction Amount"),
            CreditPlan.CONFIGURATION_ERROR: CONFIGURATION_DOC,
        }
        if plan in answers:
            return read_credit_answer(answers[plan])
        return HTTP_503 if plan is CreditPlan.HTTP_5XX_NOT_COMMITTED else TIMEOUT

    async def check_status(self, order_id: str, *, timeout: float) -> WalletAnswer:
        number = self.faults.before(order_id, "check_status")
        answer = self._status(order_id)
        self.faults.after(order_id, "check_status", number)
        # Logged only once Tijori has the answer: a NOT_FOUND it never read allows no resend.
        self.log.setdefault(order_id, []).append(("status", answer.outcome.value))
        return answer

    def _status(self, order_id: str) -> WalletAnswer:
        plans = self.status_plans.get(order_id)
        plan = plans.pop(0) if plans else None
        if plan is StatusPlan.CTS_0001:
            return read_status_answer(_doc("FAILURE", "CTS_0001", "Invalid request type"), order_id)
        if plan is StatusPlan.HTTP_5XX:
            return HTTP_503
        if plan is StatusPlan.CONFIGURATION_ERROR:
            return read_status_answer(CONFIGURATION_DOC, order_id)
        if plan is StatusPlan.NO_TRANSACTION:
            return read_status_answer(_doc("SUCCESS", "SS_001", "SUCCESS", {"txnList": []}), order_id)
        order = self.orders.get(order_id)
        if order is None:
            return read_status_answer(
                _doc("FAILURE", "STUC_1009", "sales to user credit txn not found"), order_id
            )
        txn = {
            "merchantOrderId": order_id,
            "txnGuid": order.txn_id,
            "status": str(order.state.value),
            "txnAmount": order.amount,
            "message": order.message,
            "ssoId": order.sso_id,
        }
        return read_status_answer(_doc("SUCCESS", "SS_001", "SUCCESS", {"txnList": [txn]}), order_id)


# ---- the machine -----------------------------------------------------------------------------
@dataclass(frozen=True)
class PayoutSpec:
    """A new payout, and what Paytm will do with its first sends."""

    amount: str
    mode: PayoutMode
    by_sso: bool
    pending_days_limit: int | None
    foreign: Foreign | None  # Paytm already holds another order with this id
    foreign_state: TxnStatus
    credit_plans: tuple[CreditPlan, ...]  # then SUCCESS
    verify_plans: tuple[VerifyPlan, ...]  # then true


PAYOUT_SPECS = st.builds(
    PayoutSpec,
    amount=st.sampled_from(["1.00", "25.00", "99.99", "5000.50"]),
    mode=st.sampled_from(list(PayoutMode)),
    by_sso=st.booleans(),
    pending_days_limit=st.sampled_from([None, 0, 2]),
    foreign=st.one_of(st.none(), st.none(), st.none(), st.sampled_from(list(Foreign))),
    foreign_state=st.sampled_from([TxnStatus.SUCCESS, TxnStatus.PENDING, TxnStatus.FAILURE]),
    credit_plans=st.lists(st.sampled_from(list(CreditPlan)), max_size=3).map(tuple),
    verify_plans=st.lists(st.sampled_from(list(VerifyPlan)), max_size=2).map(tuple),
)


def crashes(*ops: str, most: int = 2) -> st.SearchStrategy[Crash]:
    """A crash at a call this kind of step makes (more often at Paytm and status writes)."""
    return st.builds(
        Crash,
        op=st.sampled_from(ops),
        occurrence=st.sampled_from([1, 1, *range(1, most + 1)]),
        after_effect=st.booleans(),
        scope=st.sampled_from(list(Scope)),
    )


def maybe(crash: st.SearchStrategy[Crash]) -> st.SearchStrategy[Crash | None]:
    return st.one_of(st.none(), crash)


ATTEMPT_CRASHES = maybe(
    crashes(
        *["credit", "check_status", "transition"] * 3,
        *["verify", "get", "take_over_attempt", "unmark_sent", "release_attempt", "record_check"],
    )
)
CHECK_CRASHES = maybe(crashes(*["check_status", "transition"] * 2, "get", "record_check", "dispatch"))
# A scheduled run: at a call for one item (the run catches it, logs it and postpones the item,
# unless the whole process is dead), or at one of the run's own calls (the run dies).
RUN_CRASHES = st.one_of(
    st.none(),
    crashes(
        *["get", "check_status"] * 3,
        *["transition", "record_check", "dispatch", "postpone_check", "leave_due_index", "file_as_pending"],
    ),
    crashes(*RUN_OPS, "pending_page", "advance_check_cursor", most=3),
)
INTAKE_CRASHES = maybe(crashes("create", "get", "dispatch"))
EXPECTED_ERRORS = (InjectedCrashError, RetryLaterError, PaytmConfigurationError)
ADVANCES = st.sampled_from(
    [
        timedelta(seconds=30),
        timedelta(seconds=ATTEMPT_LEASE_SECONDS + 1),
        timedelta(minutes=16),
        timedelta(hours=1),
        timedelta(hours=7),
        timedelta(days=1),
        timedelta(days=3),
        timedelta(days=7),
    ]
)
# A run's time: each call to the outside costs SECONDS_PER_CALL of it; a run stops starting
# pages when it has too little left (14 s and less: none at all), leaving the cursor behind.
RUN_SECONDS = st.sampled_from([600.0, 60.0, 60.0, 30.0, 20.0, 14.0])
SECONDS_PER_CALL = 1.0
PLENTY_OF_TIME = 10_000.0


class SettlementMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.faults = Faults()
        self.repository = FaultyRepository(self.faults)
        self.queue = Queue(self.faults)
        self.paytm = PaytmModel(self.clock, self.faults)
        self.run_failures: list[str] = []
        self.settler = PayoutSettler(
            repository=self.repository,
            wallet=self.paytm,
            dispatcher=self.queue,
            clock=self.clock,
            wall_clock=self.clock.wall,
            check_delay_seconds=0,
            log_failure=lambda order_id, problem: self.run_failures.append(problem),
        )
        self.requests: dict[str, PayoutRequest] = {}
        self.histories: dict[str, tuple[Transition, ...]] = {}
        self.runner = asyncio.Runner()
        # One worker thread: the port calls of a run's concurrent items then happen in one order
        # for one example, so a failing example replays (and shrinks) exactly.
        self.runner.get_loop().set_default_executor(ThreadPoolExecutor(max_workers=1))

    # ---- helpers ----
    def _run(self, crash: Crash | None, order_id: str, action: Callable[[], Any]) -> Any:
        """One step of one worker: arm the crash for it, and accept only the errors a worker may
        end with (anything else is a bug and fails the test)."""
        self.faults.arm(
            None
            if crash is None
            else Crash(crash.op, crash.occurrence, crash.after_effect, crash.scope, order_id)
        )
        try:
            return action()
        except EXPECTED_ERRORS as error:
            return error
        finally:
            self.faults.arm(None)
            for fired in self.faults.fired:
                event(fired)  # here, not where it fired: that may be a worker thread
            self.faults.fired.clear()

    def _payouts(self) -> dict[str, Payout]:
        return dict(self.repository.items)

    def _existing(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(sorted(self.repository.items)), label="order_id")

    def _request(self, order_id: str, **changes: Any) -> PayoutRequest:
        body = self.requests[order_id].model_dump(mode="json")
        body.update(changes)
        return PayoutRequest.model_validate(body)

    def _advance(self, delta: timedelta) -> None:
        self.clock.now += delta
        self.paytm.time_passes()

    # ---- intake ----
    @initialize(payouts=st.lists(PAYOUT_SPECS, min_size=1, max_size=MAX_PAYOUTS - 1))
    def first_payouts(self, payouts: list[PayoutSpec]) -> None:
        # The schedule runs from before the first payout: its first run records the cursor.
        self._scheduled_run(50, PLENTY_OF_TIME, None, RUN)
        for spec in payouts:
            self._new_payout(spec, None)

    @precondition(lambda self: len(self.requests) < MAX_PAYOUTS)
    @rule(spec=PAYOUT_SPECS, crash=INTAKE_CRASHES)
    def new_payout(self, spec: PayoutSpec, crash: Crash | None) -> None:
        self._new_payout(spec, crash)

    def _new_payout(self, spec: PayoutSpec, crash: Crash | None) -> None:
        order_id = f"ORD-{len(self.requests) + 1}"
        payee = {"sso_id": f"USER{len(self.requests) + 1}"} if spec.by_sso else {"phone": "9876543210"}
        request = PayoutRequest.model_validate(
            {
                "order_id": order_id,
                "amount": spec.amount,
                "payee": payee,
                "mode": spec.mode.value,
                "pending_days_limit": spec.pending_days_limit,
            }
        )
        self.requests[order_id] = request
        foreign = spec.foreign
        if foreign is Foreign.OTHER_AMOUNT or (foreign is Foreign.OTHER_PAYEE and spec.by_sso):
            self.paytm.add_foreign(request, foreign, spec.foreign_state)
        self.paytm.credit_plans[order_id] = list(spec.credit_plans)
        self.paytm.verify_plans[order_id] = list(spec.verify_plans)
        self._submit(request, crash)

    def _submit(self, request: PayoutRequest, crash: Crash | None) -> Any:
        return self._run(
            crash,
            request.order_id,
            lambda: submit_payout(
                request, repository=self.repository, dispatcher=self.queue, now=self.clock()
            ),
        )

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), crash=INTAKE_CRASHES)
    def identical_replay(self, data: st.DataObject, crash: Crash | None) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.requests)), label="order_id")
        before = self.repository.items.get(order_id)
        queued = len(self.queue.messages)
        result = self._submit(self.requests[order_id], crash)
        if isinstance(result, Exception):
            return
        assert result.created is (before is None)
        if before is not None:
            assert result.payout.request_fingerprint == before.request_fingerprint
            # Queued again only while it is still waiting for its first attempt.
            assert len(self.queue.messages) - queued == (1 if before.status is S.ACCEPTED else 0)

    @precondition(lambda self: self.repository.items)
    @rule(data=st.data(), change=st.sampled_from(["amount", "mode", "payee"]))
    def conflicting_body(self, data: st.DataObject, change: str) -> None:
        order_id = self._existing(data)
        stored = self.repository.items[order_id]
        other_mode = PayoutMode.ANY_USER if stored.mode is not PayoutMode.ANY_USER else "existing_user"
        changes: dict[str, dict[str, Any]] = {
            "amount": {"amount": f"{stored.amount + 1:.2f}"},
            "mode": {"mode": other_mode},
            "payee": {"payee": {"email": "someone@example.com"}},
        }
        queued = list(self.queue.messages)
        with pytest.raises(PayoutConflictError):
            self._submit(self._request(order_id, **changes[change]), None)
        assert self.repository.items[order_id] == stored
        assert self.queue.messages == queued

    # ---- the payout function ----
    @precondition(lambda self: self.queue.messages)
    @rule(
        data=st.data(),
        keep_a_copy=st.booleans(),
        remaining_seconds=st.sampled_from([30.0, 12.0]),
        crash=ATTEMPT_CRASHES,
    )
    def deliver(
        self, data: st.DataObject, keep_a_copy: bool, remaining_seconds: float, crash: Crash | None
    ) -> None:
        index = data.draw(st.integers(0, len(self.queue.messages) - 1), label="message")
        order_id = self.queue.messages.pop(index)
        result = self._deliver(order_id, remaining_seconds, crash)
        if keep_a_copy or isinstance(result, Exception):
            # A duplicate delivery later, or SQS redelivering a message whose handler failed.
            self.queue.messages.append(order_id)

    def _deliver(self, order_id: str, remaining_seconds: float, crash: Crash | None) -> Any:
        budget = CallBudget(lambda: remaining_seconds)
        return self._run(crash, order_id, lambda: self.runner.run(self.settler.attempt(order_id, budget)))

    # ---- callbacks, operators, the scheduled run ----
    @precondition(lambda self: self.repository.items)
    @rule(data=st.data(), crash=CHECK_CRASHES)
    def check(self, data: st.DataObject, crash: Crash | None) -> None:
        """A verified callback asking for a check (one check of one payout, out of schedule)."""
        order_id = self._existing(data)
        self._run(crash, order_id, lambda: self.runner.run(self.settler.check(order_id, timeout=5)))

    @precondition(lambda self: self.repository.items)
    @rule(data=st.data(), crash=CHECK_CRASHES)
    def operator_recheck(self, data: st.DataObject, crash: Crash | None) -> None:
        order_id = self._existing(data)
        self._run(crash, order_id, lambda: self.runner.run(self.settler.recheck(order_id, timeout=5)))

    @rule(
        data=st.data(),
        a_minute_later=st.booleans(),
        page_size=st.sampled_from([1, 2, 50]),
        seconds=RUN_SECONDS,
        crash=RUN_CRASHES,
    )
    def scheduled_run(
        self, data: st.DataObject, a_minute_later: bool, page_size: int, seconds: float, crash: Crash | None
    ) -> None:
        """One execution of the pending-checks schedule (the runs between it and the last one
        were skipped, unless it is the next minute's): it may die at any call, or run short of
        time."""
        if a_minute_later:
            self._advance(timedelta(minutes=1))
        victim = RUN
        if crash is not None and crash.op not in RUN_OPS:
            # Aim at what the run will touch: due items and pending payouts (else any payout).
            touched = sorted(
                {o for o, when in self.repository.due.items() if when <= int(self.clock().timestamp())}
                | set(self.repository.pending_since)
            )
            victim = data.draw(st.sampled_from(touched or sorted(self.repository.items)), label="victim")
        self._scheduled_run(page_size, seconds, crash, victim)

    def _scheduled_run(self, page_size: int, seconds: float, crash: Crash | None, victim: str) -> Any:
        """Run it, and check what a run must leave behind whatever happened to it."""
        now, cursor_before = self.clock(), self.repository.cursor
        filed = dict(self.repository.pending_since)
        stored = {order_id: self.repository.items[order_id] for order_id in filed}
        asked = {order_id: self._status_calls(order_id) for order_id in filed}
        budget = CallBudget(lambda: seconds - SECONDS_PER_CALL * self.faults.total)
        result = self._run(
            crash,
            victim,
            lambda: self.runner.run(self.settler.run_scheduled_checks(page_size=page_size, budget=budget)),
        )
        cursor = self.repository.cursor
        assert cursor is not None
        # The run itself dies only when its own calls fail or its process is dead; a failure of
        # one item is caught, logged and the item postponed.
        if isinstance(result, Exception):
            assert isinstance(result, InjectedCrashError), repr(result)
            assert crash is not None, repr(result)
            assert crash.op in RUN_OPS or crash.scope is Scope.PROCESS, repr(result)
            event("run: died")
        else:
            assert result["cursor"] == cursor.isoformat()
            assert result["more"] is (cursor < now)
            event("run: out of time, the cursor left behind" if result["more"] else "run: caught up")
        for problem in self.run_failures:
            assert problem.startswith(("InjectedCrashError", "could not postpone: InjectedCrashError")), (
                problem
            )
        self.run_failures.clear()
        # The cursor only moves forward, never past now, and never past a check it did not do: a
        # PENDING payout that reached a check age within the stretch the cursor moved over was
        # asked about, or postponed to the due part (which checks it later).
        assert cursor_before is None or cursor_before <= cursor <= now
        for order_id, since in filed.items():
            start = datetime.fromtimestamp(since, UTC)
            passed = [age for age in CHECK_AGES if (cursor_before or cursor) < start + age <= cursor]
            if passed:
                assert self._status_calls(order_id) > asked[order_id] or order_id in self.repository.due, (
                    f"the cursor moved past {order_id}'s check at {passed[0]} without checking it "
                    f"or postponing it ({result!r})"
                )
            # A routine check of a still-pending payout writes nothing.
            if self.repository.pending_since.get(order_id) == since:
                assert self.repository.items[order_id] == stored[order_id], order_id
        return result

    def _status_calls(self, order_id: str) -> int:
        return sum(kind == "status" for kind, _ in self.paytm.log.get(order_id, []))

    @rule(delta=ADVANCES)
    def time_passes(self, delta: timedelta) -> None:
        """Time passes with no scheduled run (the schedule was disabled, or every run failed)."""
        self._advance(delta)

    # ---- Paytm ----
    @precondition(lambda self: any(o.state is TxnStatus.PENDING for o in self.paytm.orders.values()))
    @rule(data=st.data(), success=st.booleans())
    def paytm_resolves_pending(self, data: st.DataObject, success: bool) -> None:
        pending = sorted(k for k, o in self.paytm.orders.items() if o.state is TxnStatus.PENDING)
        self.paytm.resolve(data.draw(st.sampled_from(pending), label="order_id"), success=success)

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), plans=st.lists(st.sampled_from(list(StatusPlan)), min_size=1, max_size=3))
    def paytm_status_misbehaves(self, data: st.DataObject, plans: list[StatusPlan]) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.requests)), label="order_id")
        self.paytm.status_plans.setdefault(order_id, []).extend(plans)

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), plans=st.lists(st.sampled_from(list(CreditPlan)), min_size=1, max_size=2))
    def paytm_credit_will_answer(self, data: st.DataObject, plans: list[CreditPlan]) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.requests)), label="order_id")
        self.paytm.credit_plans.setdefault(order_id, []).extend(plans)

    # ---- invariants ----
    @invariant()
    def money_is_conserved(self) -> None:
        with_payees, refunded, held = self.paytm.money()
        assert self.paytm.debited == with_payees + refunded + held
        assert all(count <= 1 for count in self.paytm.commits.values()), self.paytm.commits

    @invariant()
    def nothing_is_sent_twice(self) -> None:
        assert not self.paytm.sends_onto_a_record, (
            f"Tijori sent a credit for an order Paytm already holds: {self.paytm.sends_onto_a_record}"
        )
        for order_id, log in self.paytm.log.items():
            since_last_send: list[str] | None = None
            for kind, said in log:
                if kind == "credit":
                    if since_last_send is not None:
                        assert WalletOutcome.NOT_FOUND.value in since_last_send, (
                            f"{order_id}: a credit was sent again without a NOT_FOUND status since the "
                            f"previous send: {log}"
                        )
                    since_last_send = []
                elif kind == "status" and since_last_send is not None:
                    since_last_send.append(said)

    @invariant()
    def status_agrees_with_paytm(self) -> None:
        for order_id, payout in self._payouts().items():
            own = self.paytm.own(order_id)
            if payout.status is S.SUCCESS:
                assert own is not None, f"{order_id} is SUCCESS but Paytm holds no credit of it"
                assert own.state is TxnStatus.SUCCESS, (order_id, own)
                assert own.amount == payout.amount
            if payout.status in (S.FAILED, S.REVERSED):
                assert own is None or own.state is TxnStatus.FAILURE, (
                    f"{order_id} is {payout.status} while Paytm holds its money: {own}"
                )
            if payout.status is S.REVERSED:
                assert own is not None
                assert own.message == "REFUNDED_BACK"

    @invariant()
    def history_only_moves_forward(self) -> None:
        for order_id, payout in self._payouts().items():
            history = payout.history
            assert history[0].from_status is None
            assert history[0].to_status is S.ACCEPTED
            for previous, step in itertools.pairwise(history):
                assert step.from_status is previous.to_status
                assert step.to_status in ALLOWED_TRANSITIONS[previous.to_status], step
            assert payout.status is history[-1].to_status
            seen = self.histories.get(order_id, ())
            assert history[: len(seen)] == seen, f"{order_id}: history rewritten"
            self.histories[order_id] = history

    # ---- the end: only production's own mechanisms bring every payout to rest ----
    def teardown(self) -> None:
        try:
            self._drain()
        finally:
            self.runner.close()

    def _next_event(self, until: datetime) -> datetime:
        """The next moment a scheduled run has something to do, or Paytm moves money: runs are
        sparse, the clock jumps there (the cursor catches up with whatever lies between)."""
        now, cursor = self.clock(), self.repository.cursor
        assert cursor == now
        moments = [until]
        moments += [datetime.fromtimestamp(when, UTC) for when in self.repository.due.values()]
        for since in self.repository.pending_since.values():
            start = datetime.fromtimestamp(since, UTC)
            moments += [start + age for age in CHECK_AGES if start + age > cursor][:1]
        moments += [o.rolls_back_at for o in self.paytm.orders.values() if o.rolls_back_at is not None]
        return min(moment for moment in moments if moment > now)

    def _drain(self) -> None:
        self.faults.arm(None)
        for plans in (self.paytm.credit_plans, self.paytm.verify_plans, self.paytm.status_plans):
            plans.clear()  # Paytm's problems are over; its truth is unchanged
        until = self.clock() + timedelta(days=DRAIN_DAYS)
        runs = 0
        while True:
            for _ in range(50):
                if not self.queue.messages:
                    break
                order_id = self.queue.messages.pop(0)
                if isinstance(self._deliver(order_id, 30.0, None), Exception):
                    self.queue.messages.append(order_id)
            done = self._scheduled_run(50, PLENTY_OF_TIME, None, RUN)
            runs += 1
            assert not isinstance(done, Exception), done
            assert not done["more"], done
            self.money_is_conserved()
            self.nothing_is_sent_twice()
            self.status_agrees_with_paytm()
            self.history_only_moves_forward()
            if self.queue.messages:
                continue  # deliver what the run queued, then run again at the same time
            if self.clock() >= until or all(is_final(p.status) for p in self._payouts().values()):
                break
            self._advance(self._next_event(until) - self.clock())
        event(f"drain: {min(runs // 10 * 10, 50)}+ runs")
        for order_id, payout in self._payouts().items():
            assert payout.status in FINAL_STATUSES | {S.NEEDS_REVIEW}, f"{order_id} left {payout.status}"
            own = self.paytm.own(order_id)
            record = self.paytm.orders.get(order_id)
            sent = any(kind == "credit" for kind, _ in self.paytm.log.get(order_id, []))
            if own is not None and own.state is TxnStatus.SUCCESS:
                expected = {S.SUCCESS}
            elif own is not None and own.state is TxnStatus.FAILURE:
                expected = {S.FAILED, S.REVERSED}
            elif own is not None:  # still pending at Paytm, past every window
                expected = {S.NEEDS_REVIEW}
            elif record is not None:  # a foreign order with this id
                expected = {S.NEEDS_REVIEW} if sent else {S.FAILED, S.NEEDS_REVIEW}
            else:
                # Nothing at Paytm: refused, or never sent. A check that hears NOT_FOUND queues
                # the resend and applies no deadline, so review with nothing at Paytm is left
                # for one reason only: the deadline passed while Paytm's status call gave no
                # answer (a human asks Paytm; the daily check hears NOT_FOUND and decides
                # nothing).
                expected = {S.FAILED, S.NEEDS_REVIEW}
                if payout.status is S.NEEDS_REVIEW:
                    reason = next(t.reason for t in reversed(payout.history) if t.to_status is S.NEEDS_REVIEW)
                    assert reason.startswith("not final by the settlement deadline"), (order_id, reason)
                    assert "STUC_1009" not in reason, (order_id, reason)
                    event("end: NEEDS_REVIEW with nothing at Paytm (no answer at the deadline)")
            assert payout.status in expected, (order_id, payout.status, record, self.paytm.log.get(order_id))
            # What the runs reached (pytest --hypothesis-show-statistics).
            where = (
                "nothing" if record is None else ("own " if record.own else "foreign ") + record.state.name
            )
            event(f"end: {payout.status.value} with {where} at Paytm")
            credits = sum(kind == "credit" for kind, _ in self.paytm.log.get(order_id, []))
            if credits > 1:
                event("a credit was sent again after NOT_FOUND")
            if any(t.to_status is S.NEEDS_REVIEW for t in payout.history) and is_final(payout.status):
                event("settled after NEEDS_REVIEW")


SettlementMachine.TestCase.settings = settings(
    max_examples=1000,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSettlementStateful = SettlementMachine.TestCase
