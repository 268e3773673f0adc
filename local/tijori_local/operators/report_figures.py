"""The report's figures, computed from plain records (report_records): pure, table-tested.

- final statuses per day, per kind (the day an item reached its final status, UTC);
- time to final status: from intake to the final transition, in buckets from a minute to days;
- pending payouts by age against Paytm's 5-day window (seed 000), each against its own window
  (`pending_days_limit`), measured at the stack's own clock;
- status checks per item that was pending: the checks recorded on the item plus the kind's fixed
  check ages its pending spell passed (a routine check of a pending item writes nothing, by
  design: tijori.payouts.pending), so this is what the schedule asked, not a count Paytm keeps;
- failures by Paytm's code with the code's meaning from the family's catalogue;
- items in NEEDS_REVIEW with the reason they were put there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from tijori.lifecycle.outcomes import CodeCatalogue
from tijori.payments.rules import PAYMENT_CHECK_AGES, REFUND_CHECK_AGES
from tijori.payouts.pending import CHECK_AGES, SEED_PENDING_DAYS
from tijori.paytm.autodebit_codes import WITHDRAW_CATALOGUE
from tijori.paytm.payouts_codes import PAYOUTS_CATALOGUE
from tijori.paytm.pg_codes import (
    INITIATE_CATALOGUE,
    REFUND_CATALOGUE,
    REFUND_STATUS_CATALOGUE,
    STATUS_REQUEST_CATALOGUE,
    TXN_CATALOGUE,
)
from tijori.paytm.prepaid_codes import PREPAID_CATALOGUE
from tijori.paytm.wallet_codes import CHECK_STATUS_CATALOGUE, WALLET_CATALOGUE
from tijori.validations.rules import VALIDATION_CHECK_AGES
from tijori_local.operators.report_records import (
    NEEDS_REVIEW,
    PENDING,
    ItemRecord,
    Kind,
    StackSnapshot,
)

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
SEED_WINDOW = timedelta(days=SEED_PENDING_DAYS)

# Final statuses that mean the money did not reach its destination (or came back).
FAILURE_STATUSES: dict[Kind, frozenset[str]] = {
    Kind.PAYOUT: frozenset({"FAILED", "REVERSED"}),
    Kind.PREPAID_LOAD: frozenset({"FAILED"}),
    Kind.PAYMENT: frozenset({"FAILED", "EXPIRED"}),
    Kind.REFUND: frozenset({"FAILED"}),
    Kind.VALIDATION: frozenset({"INVALID", "FAILED"}),
}

# Where each kind's codes come from, the answer's own family first.
CATALOGUES: dict[Kind, tuple[CodeCatalogue, ...]] = {
    Kind.PAYOUT: (WALLET_CATALOGUE, CHECK_STATUS_CATALOGUE),
    Kind.PREPAID_LOAD: (PREPAID_CATALOGUE,),
    # Charges on linked wallets (seed 002) keep directPay's code when it refused them.
    Kind.PAYMENT: (TXN_CATALOGUE, INITIATE_CATALOGUE, STATUS_REQUEST_CATALOGUE, WITHDRAW_CATALOGUE),
    Kind.REFUND: (REFUND_CATALOGUE, REFUND_STATUS_CATALOGUE),
    Kind.VALIDATION: (PAYOUTS_CATALOGUE,),
}

# The fixed ages at which the scheduled run checks a pending item of each kind (prepaid loads
# have no status API, seed 003: never pending).
CHECK_AGES_OF: dict[Kind, tuple[timedelta, ...]] = {
    Kind.PAYOUT: CHECK_AGES,
    Kind.PAYMENT: PAYMENT_CHECK_AGES,
    Kind.REFUND: REFUND_CHECK_AGES,
    Kind.VALIDATION: VALIDATION_CHECK_AGES,
}

# (label, upper bound exclusive; None: no bound)
TIME_TO_FINAL_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("< 1 min", MINUTE),
    ("1-5 min", 5 * MINUTE),
    ("5-15 min", 15 * MINUTE),
    ("15-60 min", HOUR),
    ("1-6 h", 6 * HOUR),
    ("6-24 h", DAY),
    ("1-2 d", 2 * DAY),
    ("2-5 d", 5 * DAY),
    ("5-6 d", 6 * DAY),
    (">= 6 d", None),
)
PENDING_AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("< 1 d", DAY),
    ("1-2 d", 2 * DAY),
    ("2-3 d", 3 * DAY),
    ("3-4 d", 4 * DAY),
    ("4-5 d", 5 * DAY),
    ("5-6 d", 6 * DAY),
    (">= 6 d", None),
)


def bucket_of(elapsed: timedelta, buckets: Sequence[tuple[str, timedelta | None]]) -> str:
    for label, below in buckets:
        if below is None or elapsed < below:
            return label
    raise ValueError("the last bucket must have no bound")


# ---- final statuses per day --------------------------------------------------------------------
@dataclass(frozen=True)
class DailyFinals:
    """One kind: `counts[status][i]` items reached `status` on `days[i]` (every day from the first
    to the last, empty days included, so gaps show)."""

    kind: Kind
    days: tuple[date, ...]
    counts: dict[str, tuple[int, ...]]

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.counts.values())


def finals_per_day(records: Sequence[ItemRecord]) -> list[DailyFinals]:
    """Per kind present, in Kind order; kinds with no final item are left out."""
    figures = []
    for kind in Kind:
        by_day: Counter[tuple[date, str]] = Counter()
        for record in records:
            final_at = record.final_at
            if record.kind is kind and final_at is not None:
                by_day[(final_at.date(), record.status)] += 1
        if not by_day:
            continue
        first, last = min(day for day, _ in by_day), max(day for day, _ in by_day)
        days = tuple(first + timedelta(days=n) for n in range((last - first).days + 1))
        statuses = sorted({status for _, status in by_day})
        counts = {status: tuple(by_day[(day, status)] for day in days) for status in statuses}
        figures.append(DailyFinals(kind=kind, days=days, counts=counts))
    return figures


# ---- time to final status ----------------------------------------------------------------------
@dataclass(frozen=True)
class TimeToFinal:
    """One kind: how many items took each bucket's time from intake to their final status."""

    kind: Kind
    counts: tuple[int, ...]  # one per TIME_TO_FINAL_BUCKETS
    median: timedelta
    p90: timedelta
    longest: timedelta


def _quantile(sorted_values: Sequence[timedelta], q: float) -> timedelta:
    """The nearest-rank quantile: a value that occurred, never an interpolation."""
    rank = max(1, -(-len(sorted_values) * q // 1))  # ceil(n q), at least 1
    return sorted_values[int(rank) - 1]


def time_to_final(records: Sequence[ItemRecord]) -> list[TimeToFinal]:
    figures = []
    labels = [label for label, _ in TIME_TO_FINAL_BUCKETS]
    for kind in Kind:
        took = sorted(
            max(final_at - r.created_at, timedelta(0))
            for r in records
            if r.kind is kind and (final_at := r.final_at) is not None
        )
        if not took:
            continue
        counted = Counter(bucket_of(elapsed, TIME_TO_FINAL_BUCKETS) for elapsed in took)
        figures.append(
            TimeToFinal(
                kind=kind,
                counts=tuple(counted[label] for label in labels),
                median=_quantile(took, 0.5),
                p90=_quantile(took, 0.9),
                longest=took[-1],
            )
        )
    return figures


# ---- pending payouts by age --------------------------------------------------------------------
@dataclass(frozen=True)
class PendingPayout:
    order_id: str
    age: timedelta  # since its pending clock started (the first send that may have reached Paytm)
    window: timedelta  # Paytm's pending window for it: pending_days_limit, or the seed's 5 days

    @property
    def past_window(self) -> bool:
        return self.age >= self.window


@dataclass(frozen=True)
class PendingAges:
    payouts: tuple[PendingPayout, ...]
    within_window: tuple[int, ...]  # per PENDING_AGE_BUCKETS
    past_window: tuple[int, ...]


def pending_payouts_by_age(snapshots: Sequence[StackSnapshot]) -> PendingAges:
    pending = []
    for snapshot in snapshots:
        for record in snapshot.items:
            if record.kind is Kind.PAYOUT and record.status == PENDING:
                start = record.pending_clock_start or record.created_at
                days = SEED_PENDING_DAYS if record.pending_days_limit is None else record.pending_days_limit
                pending.append(
                    PendingPayout(
                        order_id=record.item_id,
                        age=max(snapshot.as_of - start, timedelta(0)),
                        window=timedelta(days=days),
                    )
                )
    pending.sort(key=lambda payout: payout.age, reverse=True)
    labels = [label for label, _ in PENDING_AGE_BUCKETS]
    within = Counter(bucket_of(p.age, PENDING_AGE_BUCKETS) for p in pending if not p.past_window)
    past = Counter(bucket_of(p.age, PENDING_AGE_BUCKETS) for p in pending if p.past_window)
    return PendingAges(
        payouts=tuple(pending),
        within_window=tuple(within[label] for label in labels),
        past_window=tuple(past[label] for label in labels),
    )


# ---- status checks per pending item --------------------------------------------------------------
def checks_made(record: ItemRecord, as_of: datetime) -> int:
    """Status checks of an item that was pending: those recorded on it, plus the kind's fixed
    check ages reached while it was pending (up to when it left PENDING, or `as_of`)."""
    start = record.pending_clock_start
    if start is None:
        return record.status_checks
    end = record.left_pending_at or as_of
    spell = end - start
    return record.status_checks + sum(
        1 for check_age in CHECK_AGES_OF.get(record.kind, ()) if check_age <= spell
    )


@dataclass(frozen=True)
class ChecksPerPending:
    """`still_pending[n]` / `settled[n]`: items (per kind) that got n status checks."""

    still_pending: dict[Kind, Counter[int]]
    settled: dict[Kind, Counter[int]]

    @property
    def items(self) -> int:
        return sum(sum(c.values()) for c in (*self.still_pending.values(), *self.settled.values()))


def checks_per_pending_item(snapshots: Sequence[StackSnapshot]) -> ChecksPerPending:
    still: dict[Kind, Counter[int]] = {}
    settled: dict[Kind, Counter[int]] = {}
    for snapshot in snapshots:
        for record in snapshot.items:
            if record.kind in CHECK_AGES_OF and record.was_pending:
                into = still if record.status == PENDING else settled
                into.setdefault(record.kind, Counter())[checks_made(record, snapshot.as_of)] += 1
    return ChecksPerPending(still_pending=still, settled=settled)


# ---- failures by Paytm's code ------------------------------------------------------------------
def meaning_of(kind: Kind, code: str) -> str | None:
    """The code's meaning from the kind's catalogues (the documents' own words)."""
    for catalogue in CATALOGUES[kind]:
        meaning = catalogue.meaning_of(code)
        if meaning:
            return meaning
    return None


@dataclass(frozen=True)
class FailureRow:
    kind: Kind
    code: str | None  # None: no Paytm code (Tijori's own decision, e.g. a VERIFY that said false)
    count: int
    statuses: dict[str, int]
    meaning: str  # from the catalogue; else Paytm's own message, or Tijori's reason, said as such
    amount: Decimal

    @property
    def label(self) -> str:
        return f"{self.code or 'no code'} ({self.kind.value})"


def _reason_head(reason: str) -> str:
    """A reason without its particulars (ids, amounts in brackets), so like failures group."""
    return reason.split(" (")[0].strip()


def failures_by_code(records: Sequence[ItemRecord]) -> list[FailureRow]:
    """Final failures grouped by kind and Paytm's last code (or, with no code, Tijori's reason),
    most frequent first."""
    groups: dict[tuple[Kind, str | None, str], list[ItemRecord]] = {}
    for record in records:
        if record.status in FAILURE_STATUSES[record.kind]:
            code = (record.paytm_code or "").strip().upper() or None
            reason = "" if code else _reason_head(record.history[-1].reason if record.history else "")
            groups.setdefault((record.kind, code, reason), []).append(record)
    rows = []
    for (kind, code, reason), members in groups.items():
        if code is None:
            meaning = f"no Paytm code; Tijori's reason: {reason or 'none recorded'}"
        elif catalogued := meaning_of(kind, code):
            meaning = catalogued
        else:
            said = next((m.paytm_message for m in members if m.paytm_message), None)
            known = any(code in catalogue for catalogue in CATALOGUES[kind])
            meaning = "the documents give this code no meaning" if known else "not in the catalogue"
            meaning += f"; Paytm said: {said}" if said else ""
        rows.append(
            FailureRow(
                kind=kind,
                code=code,
                count=len(members),
                statuses=dict(sorted(Counter(m.status for m in members).items())),
                meaning=meaning,
                amount=sum((m.amount or Decimal(0) for m in members), Decimal(0)),
            )
        )
    rows.sort(key=lambda row: (-row.count, row.kind.value, row.code is None, row.code or ""))
    return rows


# ---- NEEDS_REVIEW ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewRow:
    kind: Kind
    item_id: str
    amount: Decimal | None
    since: datetime | None  # when it was first put in review
    reason: str  # why, in the words of the transition that put it there
    latest: str | None  # the latest review note (a later final answer that did not match), if any
    paytm_code: str | None
    meaning: str | None


def needs_review(records: Sequence[ItemRecord]) -> list[ReviewRow]:
    """Every item in NEEDS_REVIEW, longest in review first."""
    rows = []
    for record in records:
        if record.status != NEEDS_REVIEW:
            continue
        into = [step for step in record.history if step.to_status == NEEDS_REVIEW]
        code = record.paytm_code
        rows.append(
            ReviewRow(
                kind=record.kind,
                item_id=record.item_id,
                amount=record.amount,
                since=into[0].at if into else None,
                reason=into[0].reason if into else "no transition recorded",
                latest=into[-1].reason if len(into) > 1 else None,
                paytm_code=code,
                meaning=meaning_of(record.kind, code) if code else None,
            )
        )
    rows.sort(key=lambda row: (row.since is None, row.since or datetime.max, row.item_id))
    return rows
