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

from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout

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
    configuration_problem: str | None = None


def settlement_deadline(payout: Payout) -> datetime:
    days = SEED_PENDING_DAYS if payout.pending_days_limit is None else payout.pending_days_limit
    return payout.created_at + timedelta(days=days) + DEADLINE_SLACK


def next_wait(age: timedelta) -> timedelta:
    for younger_than, wait in BACKOFF_SCHEDULE:
        if age < younger_than:
            return wait
    return BACKOFF_SCHEDULE[-1][1]
