"""In-memory fakes of the payout logic's ports: the table, the queue, metrics, and a Paytm wallet
model with every outcome.

They keep the same conditional rules as the adapters (tests/unit/test_repository_contract.py runs
one table of cases against both this fake and the DynamoDB adapter on moto), so unit tests of the
settlement logic exercise the real decisions without AWS or HTTP.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tijori.adapters.payout_table import SWEPT_STATUSES
from tijori.payouts.lifecycle import PayoutStatus, check_transition, is_final
from tijori.payouts.models import Payout, Transition
from tijori.payouts.ports import (
    DueEntry,
    OutcomeDetails,
    PayoutAlreadyExistsError,
    StaleTransitionError,
)
from tijori.paytm.wallet_codes import WalletOutcome
from tijori.paytm.wallet_mapping import TxnStatus, WalletAnswer

START = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@dataclass
class Clock:
    """The one clock of a test: `clock()` is the table's time, `clock.wall()` the Lambda's."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def wall(self) -> float:
        return self.now.timestamp()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _with_details(changes: dict[str, object], details: OutcomeDetails | None) -> None:
    if details is None:
        return
    for name, value in (
        ("last_status_code", details.status_code),
        ("last_status_message", details.status_message),
        ("paytm_txn_id", details.paytm_txn_id),
    ):
        if value is not None:
            changes[name] = value


class InMemoryPayoutRepository:
    """PayoutRepository in a dict, with the DynamoDB adapter's conditions, under one lock."""

    def __init__(self) -> None:
        self.items: dict[str, Payout] = {}
        self.due: dict[str, int] = {}  # order id -> next check (epoch seconds): due buckets
        self.pending_since: dict[str, int] = {}  # order id -> pending clock start: pending buckets
        self.cursor: datetime | None = None
        self.unreadable: set[str] = set()  # items whose stored form no longer parses
        self.writes = 0
        self._lock = threading.RLock()

    def _in_index(self, order_id: str) -> bool:
        return order_id in self.due or order_id in self.pending_since

    def _leave_index(self, order_id: str) -> None:
        self.due.pop(order_id, None)
        self.pending_since.pop(order_id, None)

    def create(self, payout: Payout, *, first_check_at: datetime) -> None:
        with self._lock:
            if payout.order_id in self.items:
                raise PayoutAlreadyExistsError(payout.order_id)
            self.items[payout.order_id] = payout
            self.due[payout.order_id] = int(first_check_at.timestamp())
            self.writes += 1

    def get(self, order_id: str) -> Payout | None:
        with self._lock:
            if order_id in self.unreadable:
                raise ValueError(f"stored item {order_id} does not parse")
            return self.items.get(order_id)

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
        check_transition(expected, target)
        with self._lock:
            payout = self.items.get(order_id)
            if payout is None or payout.status is not expected:
                raise StaleTransitionError(f"{order_id} is not {expected}")
            if (
                unless_leased_at is not None
                and payout.lease_until is not None
                and payout.lease_until >= unless_leased_at
            ):
                raise StaleTransitionError(f"{order_id} is held by an attempt")
            changes: dict[str, object] = {
                "status": target,
                "updated_at": at,
                "history": (
                    *payout.history,
                    Transition(from_status=expected, to_status=target, at=at, reason=reason),
                ),
                "lease_until": lease_until,
            }
            if count_attempt:
                changes["attempts"] = payout.attempts + 1
            if first_send_at is not None and payout.first_sent_at is None:
                changes["first_sent_at"] = first_send_at
            _with_details(changes, details)
            self.items[order_id] = payout.model_copy(update=changes)
            if next_check_at is DueEntry.KEEP and target in SWEPT_STATUSES:
                pass
            else:
                self._leave_index(order_id)
            if next_check_at is DueEntry.KEEP:
                pass
            elif target is PayoutStatus.PENDING and pending_since is not None:
                self.pending_since[order_id] = int(pending_since.timestamp())
            elif target in SWEPT_STATUSES and next_check_at is not None:
                self.due[order_id] = int(next_check_at.timestamp())
            self.writes += 1
            return self.items[order_id]

    def take_over_attempt(
        self, order_id: str, *, wall_now: float, lease_until: float, first_send_at: datetime
    ) -> Payout | None:
        with self._lock:
            payout = self.items.get(order_id)
            if payout is None or payout.status is not PayoutStatus.PROCESSING:
                return None
            if payout.lease_until is not None and payout.lease_until >= wall_now:
                return None
            self.items[order_id] = payout.model_copy(
                update={
                    "lease_until": lease_until,
                    "attempts": payout.attempts + 1,
                    "first_sent_at": payout.first_sent_at or first_send_at,
                }
            )
            self.writes += 1
            return self.items[order_id]

    def record_check(
        self,
        order_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        details: OutcomeDetails | None,
        release_attempt: bool = False,
    ) -> None:
        with self._lock:
            payout = self.items.get(order_id)
            if payout is None or not self._in_index(order_id):
                if release_attempt:
                    self.release_attempt(order_id)
                return
            changes: dict[str, object] = {"status_checks": payout.status_checks + 1, "updated_at": at}
            if release_attempt:
                changes["lease_until"] = None
            _with_details(changes, details)
            self.items[order_id] = payout.model_copy(update=changes)
            self.pending_since.pop(order_id, None)
            self.due[order_id] = int(next_check_at.timestamp())
            self.writes += 1

    def release_attempt(self, order_id: str) -> None:
        with self._lock:
            payout = self.items.get(order_id)
            if payout is not None:
                self.items[order_id] = payout.model_copy(update={"lease_until": None})
                self.writes += 1

    def unmark_sent(self, order_id: str, *, at: datetime) -> None:
        with self._lock:
            payout = self.items.get(order_id)
            if payout is not None and payout.first_sent_at == at:
                self.items[order_id] = payout.model_copy(update={"first_sent_at": None})
                self.writes += 1

    def postpone_check(self, order_id: str, *, until: datetime) -> None:
        with self._lock:
            if self._in_index(order_id):
                self.pending_since.pop(order_id, None)
                self.due[order_id] = int(until.timestamp())
                self.writes += 1

    def leave_due_index(self, order_id: str) -> None:
        with self._lock:
            self._leave_index(order_id)
            self.writes += 1

    def file_as_pending(self, order_id: str, *, pending_since: datetime) -> None:
        with self._lock:
            payout = self.items.get(order_id)
            if payout is not None and payout.status is PayoutStatus.PENDING:
                self.due.pop(order_id, None)
                self.pending_since[order_id] = int(pending_since.timestamp())
                self.writes += 1

    def due_for_check(self, now: datetime, *, page_size: int) -> Iterator[Sequence[str]]:
        with self._lock:
            due = sorted(
                (when, order_id) for order_id, when in self.due.items() if when <= int(now.timestamp())
            )
        for start in range(0, len(due), page_size):
            yield [order_id for _, order_id in due[start : start + page_size]]

    def pending_since_within(
        self, windows: Sequence[tuple[datetime, datetime]], *, page_size: int
    ) -> Iterator[Sequence[str]]:
        for after, up_to in windows:
            low, high = int(after.timestamp()) + 1, int(up_to.timestamp())
            with self._lock:
                found = sorted(o for o, since in self.pending_since.items() if low <= since <= high)
            for start in range(0, len(found), page_size):
                yield found[start : start + page_size]

    def check_cursor(self) -> datetime | None:
        return self.cursor

    def advance_check_cursor(self, *, expected: datetime | None, to: datetime) -> bool:
        with self._lock:
            if self.cursor != expected:
                return False
            self.cursor = to
            self.writes += 1
            return True


@dataclass
class RecordingDispatcher:
    """PayoutDispatcher that remembers what was queued (the test delivers it, or not)."""

    queued: list[str] = field(default_factory=list)

    def dispatch(self, order_id: str) -> None:
        self.queued.append(order_id)


@dataclass
class CountingMetrics:
    counts: Counter[str] = field(default_factory=Counter)

    def count(self, name: str, value: int = 1) -> None:
        self.counts[name] += value


@dataclass
class PaytmRecord:
    """Paytm's record of one merchant order id."""

    amount: Decimal
    status: TxnStatus
    txn_id: str
    sso_id: str | None = None
    message: str = ""


class ScriptedWallet:
    """The wallet port as a Paytm model: answers are scripted per order id; whatever is not
    scripted follows a plain Paytm (credit succeeds; checkStatus reports the record).

    Every call is recorded, so a test asserts what Tijori asked of Paytm, not only the outcome."""

    def __init__(self) -> None:
        self.records: dict[str, PaytmRecord] = {}
        self.credit_script: dict[str, list[WalletAnswer]] = {}
        self.verify_script: dict[str, list[WalletAnswer]] = {}
        self.status_script: dict[str, list[WalletAnswer]] = {}
        self.calls: list[tuple[str, str]] = []  # (kind, order id): kind credit | verify | status
        self._lock = threading.Lock()
        self._txn = 1000

    def calls_for(self, order_id: str, kind: str | None = None) -> list[str]:
        return [k for k, o in self.calls if o == order_id and (kind is None or k == kind)]

    async def credit(self, payout: Payout, *, verify_only: bool, timeout: float) -> WalletAnswer:
        with self._lock:
            kind = "verify" if verify_only else "credit"
            self.calls.append((kind, payout.order_id))
            script = (self.verify_script if verify_only else self.credit_script).get(payout.order_id)
            if script:
                answer = script.pop(0)
                if not verify_only and answer.outcome in (WalletOutcome.SUCCESS, WalletOutcome.PENDING):
                    self._record(payout, TxnStatus(1 if answer.outcome is WalletOutcome.SUCCESS else 3))
                return answer
            if verify_only:
                return WalletAnswer(WalletOutcome.SUCCESS, "SUCCESS", "SUCCESS", verified=True)
            if payout.order_id in self.records:
                return WalletAnswer(WalletOutcome.AMBIGUOUS, "STUC_1007", "merchantOrderId already exists")
            record = self._record(payout, TxnStatus.SUCCESS)
            return WalletAnswer(WalletOutcome.SUCCESS, "SUCCESS", "SUCCESS", wallet_txn_id=record.txn_id)

    def _record(self, payout: Payout, status: TxnStatus) -> PaytmRecord:
        self._txn += 1
        record = PaytmRecord(payout.amount, status, str(self._txn), payout.wallet_payee.sso_id, status.name)
        self.records.setdefault(payout.order_id, record)
        return self.records[payout.order_id]

    async def check_status(self, order_id: str, *, timeout: float) -> WalletAnswer:
        with self._lock:
            self.calls.append(("status", order_id))
            script = self.status_script.get(order_id)
            if script:
                return script.pop(0)
            record = self.records.get(order_id)
            if record is None:
                return WalletAnswer(
                    WalletOutcome.NOT_FOUND, "STUC_1009", "sales to user credit txn not found"
                )
            return status_answer(record)


def status_answer(record: PaytmRecord) -> WalletAnswer:
    outcome = {
        TxnStatus.SUCCESS: WalletOutcome.SUCCESS,
        TxnStatus.FAILURE: WalletOutcome.FINAL_FAILURE,
        TxnStatus.PENDING: WalletOutcome.PENDING,
        TxnStatus.INIT: WalletOutcome.PENDING,
    }[record.status]
    return WalletAnswer(
        outcome,
        "SS_001",
        record.message,
        wallet_txn_id=record.txn_id,
        txn_status=record.status,
        refunded_back=record.message == "REFUNDED_BACK",
        txn_amount=record.amount,
        txn_sso_id=record.sso_id,
    )


def is_open(payout: Payout) -> bool:
    return not is_final(payout.status)
