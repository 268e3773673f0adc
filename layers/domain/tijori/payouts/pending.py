"""When to look at a non-final payout again, and when to stop and ask a human.

Paytm settles a pending credit within 5 days (seed 000), or within `pendingDaysLimit` days when
the request gave one. Most pendings resolve early (KYC completed, account created the same day),
so checks are dense at first and sparse later: the table below makes about 40 checks over 5 days,
against 1,440 for a fixed 5-minute poll, and still sees an early resolution within minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tijori.payouts.lifecycle import PayoutStatus, is_final
from tijori.payouts.models import Payout
from tijori.payouts.ports import PayoutRepository, StaleTransitionError
from tijori.payouts.processing import UnknownPayoutError

SEED_PENDING_DAYS = 5
# Paytm's own rollback runs after the pending window closes; a day of slack before NEEDS_REVIEW
# keeps a late but normal REFUNDED_BACK from being escalated.
DEADLINE_SLACK = timedelta(days=1)

# (while the payout is younger than this, wait this long between checks)
BACKOFF_SCHEDULE: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(minutes=10), timedelta(minutes=1)),
    (timedelta(hours=1), timedelta(minutes=10)),
    (timedelta(hours=6), timedelta(minutes=30)),
    (timedelta(days=1), timedelta(hours=2)),
    (timedelta.max, timedelta(hours=6)),
)


class CheckOutcome(StrEnum):
    FINAL = "final"
    WAIT = "wait"
    NEEDS_REVIEW = "needs_review"


@dataclass(frozen=True)
class PendingCheck:
    outcome: CheckOutcome
    status: PayoutStatus
    wait_seconds: int = 0


def settlement_deadline(payout: Payout) -> datetime:
    days = SEED_PENDING_DAYS if payout.pending_days_limit is None else payout.pending_days_limit
    return payout.created_at + timedelta(days=days) + DEADLINE_SLACK


def next_wait(age: timedelta) -> timedelta:
    for younger_than, wait in BACKOFF_SCHEDULE:
        if age < younger_than:
            return wait
    return BACKOFF_SCHEDULE[-1][1]


def check_pending_payout(order_id: str, *, repository: PayoutRepository, now: datetime) -> PendingCheck:
    """One turn of the pending-retry loop for a payout, from what Tijori has recorded.

    Final -> stop. Past the settlement deadline and still not final -> NEEDS_REVIEW (the money's
    whereabouts are unknown; a human decides, never an automatic FAILED). Otherwise wait for the
    next turn, never past the deadline.
    """
    payout = repository.get(order_id)
    if payout is None:
        raise UnknownPayoutError(order_id)
    if is_final(payout.status) or payout.status is PayoutStatus.NEEDS_REVIEW:
        outcome = CheckOutcome.FINAL if is_final(payout.status) else CheckOutcome.NEEDS_REVIEW
        return PendingCheck(outcome=outcome, status=payout.status)
    deadline = settlement_deadline(payout)
    if now >= deadline:
        try:
            payout = repository.transition(
                order_id,
                expected=payout.status,
                target=PayoutStatus.NEEDS_REVIEW,
                at=now,
                reason=f"not final by the settlement deadline {deadline.isoformat()}",
                next_check_at=None,
            )
        except StaleTransitionError:
            # Another writer moved it meanwhile: look again on the next turn.
            return PendingCheck(outcome=CheckOutcome.WAIT, status=payout.status, wait_seconds=1)
        return PendingCheck(outcome=CheckOutcome.NEEDS_REVIEW, status=payout.status)
    wait = min(next_wait(now - payout.created_at), deadline - now)
    return PendingCheck(
        outcome=CheckOutcome.WAIT, status=payout.status, wait_seconds=max(1, int(wait.total_seconds()))
    )
