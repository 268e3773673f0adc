"""The lifecycle table, masking, and the pending backoff schedule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from tijori.payouts.lifecycle import (
    ALLOWED_TRANSITIONS,
    FINAL_STATUSES,
    IllegalTransitionError,
    PayoutStatus,
    check_transition,
)
from tijori.payouts.masking import mask_email, mask_phone
from tijori.payouts.models import Payout, PayoutRequest
from tijori.payouts.pending import (
    CHECK_AGES,
    DEADLINE_SLACK,
    SEED_PENDING_DAYS,
    checks_over,
    next_wait,
    settlement_deadline,
)

S = PayoutStatus


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.ACCEPTED, S.PROCESSING, True),
        (S.PROCESSING, S.PENDING, True),
        (S.PROCESSING, S.SUCCESS, True),
        (S.PENDING, S.REVERSED, True),
        (S.PENDING, S.NEEDS_REVIEW, True),
        (S.NEEDS_REVIEW, S.SUCCESS, True),
        (S.ACCEPTED, S.SUCCESS, False),
        (S.PENDING, S.PROCESSING, False),
        (S.SUCCESS, S.FAILED, False),
        (S.FAILED, S.SUCCESS, False),
        (S.REVERSED, S.PENDING, False),
        (S.PROCESSING, S.ACCEPTED, False),
    ],
)
def test_transition_table(current: PayoutStatus, target: PayoutStatus, allowed: bool) -> None:
    if allowed:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransitionError):
            check_transition(current, target)


def test_final_statuses_have_no_way_out() -> None:
    assert all(not ALLOWED_TRANSITIONS[status] for status in FINAL_STATUSES)
    assert set(ALLOWED_TRANSITIONS) == set(PayoutStatus)


@pytest.mark.parametrize(
    ("mask", "value", "masked"),
    [
        (mask_phone, "9876543210", "********10"),
        (mask_email, "priya.sharma@example.in", "p***@example.in"),
        (mask_email, "nodomain", "***"),
    ],
)
def test_masking(mask: Callable[[str], str], value: str, masked: str) -> None:
    assert mask(value) == masked


@pytest.mark.parametrize(
    ("age", "wait"),
    [
        (timedelta(0), timedelta(minutes=1)),
        (timedelta(minutes=1), timedelta(minutes=1)),
        (timedelta(minutes=30), timedelta(minutes=26)),
        (timedelta(hours=3), timedelta(hours=1, minutes=42)),
        (timedelta(hours=20), timedelta(hours=4)),
        (timedelta(days=4), timedelta(days=1)),
        (timedelta(days=7), timedelta(days=1)),  # past the last age: a review, checked daily
    ],
)
def test_the_next_check_comes_at_the_next_check_age(age: timedelta, wait: timedelta) -> None:
    assert next_wait(age) == wait


@pytest.mark.parametrize(
    ("window", "checks"),
    [(timedelta(hours=1), 6), (timedelta(days=1), 10), (timedelta(days=5), 14), (timedelta(days=6), 15)],
)
def test_the_check_ages_make_exactly_the_checks_the_readme_promises(window: timedelta, checks: int) -> None:
    # README "Pending checks and their cost": 6 checks in the first hour, 10 in the first day, 14
    # within the seed's 5-day window and 15 with the deadline check, against 1,440 for a fixed
    # 5-minute poll.
    assert checks_over(window) == checks
    assert CHECK_AGES[0] == timedelta(minutes=1)


def test_every_possible_deadline_is_a_check_age() -> None:
    # pendingDaysLimit 0..5 plus the day of slack: the deadline is itself a check.
    for days in range(SEED_PENDING_DAYS + 1):
        assert timedelta(days=days) + DEADLINE_SLACK in CHECK_AGES


def test_check_ages_rise_and_never_ratio_more_than_two_and_a_half() -> None:
    assert list(CHECK_AGES) == sorted(set(CHECK_AGES))
    assert all(later / earlier <= 2.5 for earlier, later in pairwise(CHECK_AGES))


@pytest.mark.parametrize(("limit", "days"), [(None, 6), (0, 1), (2, 3)])
def test_settlement_deadline_is_seed_window_plus_a_day_from_the_first_send(
    limit: int | None, days: int
) -> None:
    created = datetime(2026, 11, 22, tzinfo=UTC)
    sent = created + timedelta(days=2)
    request = PayoutRequest.model_validate(
        {"order_id": "O1", "amount": "1.00", "payee": {"phone": "9876543210"}, "pending_days_limit": limit}
    )
    accepted = Payout.accept(request, created)
    assert settlement_deadline(accepted) is None  # nothing has reached Paytm: no window yet
    sent_payout = accepted.model_copy(update={"first_sent_at": sent, "status": PayoutStatus.PENDING})
    assert settlement_deadline(sent_payout) == sent + timedelta(days=days)
