"""When to look at a non-final payout again, and when to stop and ask a human.

Paytm settles a pending credit within 5 days (seed 000), or within `pendingDaysLimit` days when
the request gave one, counted from when it received the credit. Tijori cannot see that moment
(checkStatus carries no timestamp), so it counts from the first send that may have reached Paytm
(`Payout.first_sent_at`), which is never later. Most pendings resolve early (KYC completed,
account created the same day), so checks are dense at first and sparse later; `checks_over` counts
what the table below makes over a window, and a unit test pins it.
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
# A payout in NEEDS_REVIEW is still asked about this often, until Paytm gives a final answer.
REVIEW_CHECK_INTERVAL = timedelta(days=1)

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
    paytm_said: str | None = None  # the status answer this turn got, for operators


def pending_clock_start(payout: Payout) -> datetime | None:
    """Where Paytm's pending window starts for this payout; None while nothing may have reached it.

    Payouts stored before `first_sent_at` existed fall back to their intake time once pending."""
    if payout.first_sent_at is not None:
        return payout.first_sent_at
    if payout.status in (PayoutStatus.PENDING, PayoutStatus.NEEDS_REVIEW) or payout.was_pending:
        return payout.created_at
    return None


def settlement_deadline(payout: Payout) -> datetime | None:
    """Past this, a payout that is not final needs a human; None: no send has reached Paytm yet."""
    start = pending_clock_start(payout)
    if start is None:
        return None
    days = SEED_PENDING_DAYS if payout.pending_days_limit is None else payout.pending_days_limit
    return start + timedelta(days=days) + DEADLINE_SLACK


def next_wait(age: timedelta) -> timedelta:
    for younger_than, wait in BACKOFF_SCHEDULE:
        if age < younger_than:
            return wait
    return BACKOFF_SCHEDULE[-1][1]


def checks_over(window: timedelta) -> int:
    """How many status checks the backoff schedule makes over `window` from the first send."""
    age, checks = timedelta(0), 0
    while age < window:
        checks += 1
        age += next_wait(age)
    return checks
