"""What a reconciliation concludes about one item: Tijori's stored status and amount against what
Paytm's status API says, as explicit tables (tests/unit/test_reconciliation_rules.py runs them
row by row).

Two steps. Each kind's status table puts Tijori's status in a stance (paid, not paid, still open,
in review); then one table decides each stance against Paytm's state. An amount that differs from
Paytm's record is a mismatch on its own, whatever the statuses say. Nothing here changes an item:
an operator reads the mismatches and decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from tijori.payments.lifecycle import PaymentStatus, RefundStatus
from tijori.payouts.lifecycle import PayoutStatus

# A due item whose next check is overdue by more than this is not being caught up by Tijori's own
# scheduled runs (they run every minute), so "Tijori behind" is a mismatch for it.
CATCH_UP_GRACE = timedelta(hours=1)


class ReconciledKind(StrEnum):
    PAYOUTS = "payouts"
    PAYMENTS = "payments"
    REFUNDS = "refunds"


class PaytmState(StrEnum):
    """Paytm's record, in the words the comparison needs."""

    PAID = "PAID"  # wallet credit SUCCESS, TXN_SUCCESS, refund TXN_SUCCESS
    NOT_PAID = "NOT_PAID"  # failed, refunded back (reversed) or declined: no money moved
    PENDING = "PENDING"  # Paytm has the order and has not settled it
    NOT_FOUND = "NOT_FOUND"  # Paytm knows no such order (STUC_1009, 334, 631)
    NO_ANSWER = "NO_ANSWER"  # the status request failed: nothing is known


class Stance(StrEnum):
    """Tijori's status, as the comparison reads it."""

    PAID = "PAID"
    NOT_PAID = "NOT_PAID"
    OPEN = "OPEN"  # not final: Tijori's own checks are still to settle it
    IN_REVIEW = "IN_REVIEW"  # NEEDS_REVIEW: a human already owns it


class Verdict(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    CATCHING_UP = "CATCHING_UP"  # Paytm is ahead of an open item that Tijori is still checking
    IN_REVIEW = "IN_REVIEW"  # NEEDS_REVIEW at Tijori: not counted again as a mismatch
    UNANSWERED = "UNANSWERED"  # no usable status answer: the item is not reconciled
    NO_STATUS_API = "NO_STATUS_API"  # prepaid loads (seed 003 has no status API): never asked


PAYOUT_STANCES: dict[str, Stance] = {
    PayoutStatus.ACCEPTED: Stance.OPEN,
    PayoutStatus.PROCESSING: Stance.OPEN,
    PayoutStatus.PENDING: Stance.OPEN,
    PayoutStatus.SUCCESS: Stance.PAID,
    PayoutStatus.FAILED: Stance.NOT_PAID,
    PayoutStatus.REVERSED: Stance.NOT_PAID,  # credited, then rolled back: Paytm says FAILURE
    PayoutStatus.NEEDS_REVIEW: Stance.IN_REVIEW,
}
PAYMENT_STANCES: dict[str, Stance] = {
    PaymentStatus.ACCEPTED: Stance.OPEN,
    PaymentStatus.PROCESSING: Stance.OPEN,
    PaymentStatus.CREATED: Stance.OPEN,
    PaymentStatus.PENDING: Stance.OPEN,
    PaymentStatus.PAID: Stance.PAID,
    PaymentStatus.FAILED: Stance.NOT_PAID,
    PaymentStatus.EXPIRED: Stance.NOT_PAID,
    PaymentStatus.NEEDS_REVIEW: Stance.IN_REVIEW,
}
REFUND_STANCES: dict[str, Stance] = {
    RefundStatus.ACCEPTED: Stance.OPEN,
    RefundStatus.PROCESSING: Stance.OPEN,
    RefundStatus.PENDING: Stance.OPEN,
    RefundStatus.SUCCESS: Stance.PAID,
    RefundStatus.FAILED: Stance.NOT_PAID,
    RefundStatus.NEEDS_REVIEW: Stance.IN_REVIEW,
}
STANCES: dict[ReconciledKind, dict[str, Stance]] = {
    ReconciledKind.PAYOUTS: PAYOUT_STANCES,
    ReconciledKind.PAYMENTS: PAYMENT_STANCES,
    ReconciledKind.REFUNDS: REFUND_STANCES,
}


class Judgement(StrEnum):
    """What the status table says; BEHIND becomes a verdict once the item's checks are known."""

    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    # Paytm is final (or knows no such order) while Tijori still has the item open: CATCHING_UP
    # while Tijori's own checks will reach the item, else the mismatch "Tijori behind".
    BEHIND = "BEHIND"
    IN_REVIEW = "IN_REVIEW"
    UNANSWERED = "UNANSWERED"


@dataclass(frozen=True)
class Rule:
    judgement: Judgement
    mismatch: str | None = None  # the mismatch's name, for a MISMATCH

    def __post_init__(self) -> None:
        if (self.judgement is Judgement.MISMATCH) != (self.mismatch is not None):
            raise ValueError("a mismatch rule names its mismatch, and only a mismatch rule does")


STATUS_RULES: dict[tuple[Stance, PaytmState], Rule] = {
    (Stance.PAID, PaytmState.PAID): Rule(Judgement.MATCH),
    (Stance.PAID, PaytmState.NOT_PAID): Rule(Judgement.MISMATCH, "paid at Tijori, not paid at Paytm"),
    (Stance.PAID, PaytmState.PENDING): Rule(Judgement.MISMATCH, "paid at Tijori, pending at Paytm"),
    (Stance.PAID, PaytmState.NOT_FOUND): Rule(Judgement.MISMATCH, "paid at Tijori, unknown to Paytm"),
    (Stance.NOT_PAID, PaytmState.PAID): Rule(Judgement.MISMATCH, "paid at Paytm, {status} at Tijori"),
    (Stance.NOT_PAID, PaytmState.NOT_PAID): Rule(Judgement.MATCH),
    (Stance.NOT_PAID, PaytmState.PENDING): Rule(Judgement.MISMATCH, "pending at Paytm, {status} at Tijori"),
    # Refused before Paytm took it (a VERIFY answered false, a token that expired unused).
    (Stance.NOT_PAID, PaytmState.NOT_FOUND): Rule(Judgement.MATCH),
    (Stance.OPEN, PaytmState.PAID): Rule(Judgement.BEHIND),
    (Stance.OPEN, PaytmState.NOT_PAID): Rule(Judgement.BEHIND),
    (Stance.OPEN, PaytmState.PENDING): Rule(Judgement.MATCH),
    (Stance.OPEN, PaytmState.NOT_FOUND): Rule(Judgement.BEHIND),  # not sent yet, or its resend is queued
    (Stance.IN_REVIEW, PaytmState.PAID): Rule(Judgement.IN_REVIEW),
    (Stance.IN_REVIEW, PaytmState.NOT_PAID): Rule(Judgement.IN_REVIEW),
    (Stance.IN_REVIEW, PaytmState.PENDING): Rule(Judgement.IN_REVIEW),
    (Stance.IN_REVIEW, PaytmState.NOT_FOUND): Rule(Judgement.IN_REVIEW),
    **{(stance, PaytmState.NO_ANSWER): Rule(Judgement.UNANSWERED) for stance in Stance},
}


@dataclass(frozen=True)
class ItemOnRecord:
    """Tijori's side of one item, as stored. `due_at` / `pending_clock`: where the item stands in
    its kind's due index (tijori/lifecycle/store.py): due for a check at `due_at`, or filed by its
    pending clock (checked at its kind's check ages); neither when Tijori no longer checks it."""

    kind: ReconciledKind
    item_id: str
    status: str
    amount: Decimal
    created_at: datetime
    order_id: str  # Paytm's order id (a refund's payment)
    due_at: datetime | None = None
    pending_clock: bool = False
    has_status_api: bool = True


@dataclass(frozen=True)
class PaytmRecord:
    """Paytm's side: its state, the amount on its record (None if it carries none) and its words."""

    state: PaytmState
    amount: Decimal | None = None
    status: str | None = None  # Paytm's own status literal
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    mismatches: tuple[str, ...] = ()


def is_being_checked(item: ItemOnRecord, now: datetime) -> bool:
    """Tijori's own checks will reach this item: filed by its pending clock, or due no more than
    CATCH_UP_GRACE ago."""
    return item.pending_clock or (item.due_at is not None and item.due_at >= now - CATCH_UP_GRACE)


def compare(item: ItemOnRecord, paytm: PaytmRecord, now: datetime) -> Finding:
    stance = STANCES[item.kind][item.status]
    rule = STATUS_RULES[(stance, paytm.state)]
    if rule.judgement in (Judgement.UNANSWERED, Judgement.IN_REVIEW):
        return Finding(Verdict(rule.judgement.value))
    mismatches: list[str] = []
    verdict: Verdict
    if rule.judgement is Judgement.BEHIND:
        if is_being_checked(item, now):
            verdict = Verdict.CATCHING_UP
        else:
            verdict = Verdict.MISMATCH
            mismatches.append(f"Tijori behind: {paytm.state.value} at Paytm, {item.status} at Tijori")
    else:
        verdict = Verdict(rule.judgement.value)
        if rule.mismatch is not None:
            mismatches.append(rule.mismatch.format(status=item.status))
    if paytm.amount is not None and paytm.amount != item.amount:
        verdict = Verdict.MISMATCH
        mismatches.append(f"amount differs: {paytm.amount} INR at Paytm, {item.amount:.2f} INR at Tijori")
    return Finding(verdict, tuple(mismatches))
