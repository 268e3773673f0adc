"""When to look at a non-final payout again, and when to stop and ask a human.

Paytm settles a pending credit within 5 days (seed 000), or within `pendingDaysLimit` days when
the request gave one, counted from when it received the credit. Tijori cannot see that moment
(checkStatus carries no timestamp), so it counts from the first send that may have reached Paytm
(`Payout.first_sent_at`), which is never later.

A pending payout is checked at fixed ages from that moment, `CHECK_AGES`: roughly doubling for the
first day (most pendings resolve early: KYC completed, account created the same day), then once a
day, up to the deadline of the longest window. Because the ages are fixed, the scheduled run finds
the payouts due for a check by querying the due index for those whose pending clock started one
such age ago, and a check that changes nothing writes nothing: a pending payout costs reads, not
writes, until it settles. The daily ages are also every possible deadline (`pendingDaysLimit` 0-5
plus a day of slack), so the deadline is itself a check.
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

# The ages (since the pending clock started) at which a pending payout is checked: 15 in all over
# the seed's window and its deadline, against 1,440 for a fixed 5-minute poll.
CHECK_AGES: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=11),
    timedelta(minutes=25),
    timedelta(minutes=56),
    timedelta(hours=2, minutes=6),
    timedelta(hours=4, minutes=42),
    timedelta(hours=10, minutes=30),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=3),
    timedelta(days=4),
    timedelta(days=5),
    timedelta(days=6),
)
# A payout whose outcome is unknown (PROCESSING after an ambiguous answer) is checked this soon.
UNKNOWN_OUTCOME_FIRST_CHECK = timedelta(minutes=1)


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


def next_check_age(age: timedelta) -> timedelta | None:
    """The first check age after `age`; None past the last one."""
    for check_age in CHECK_AGES:
        if check_age > age:
            return check_age
    return None


def next_wait(age: timedelta) -> timedelta:
    """How long until the next check of a payout whose pending clock is `age` old (a day past the
    last check age: by then it is a review, checked daily)."""
    check_age = next_check_age(age)
    return REVIEW_CHECK_INTERVAL if check_age is None else check_age - age


def checks_over(window: timedelta) -> int:
    """How many status checks a pending payout gets within `window` of its pending clock."""
    return sum(1 for check_age in CHECK_AGES if check_age <= window)
