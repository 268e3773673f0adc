"""The per-phone limiter against the template's WalletLinksTable in moto: a rolling window, so a
burst straddling a window boundary is refused, and counters of one phone or action leave the
others alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from tests.conftest import REGION, LocalAccount
from tijori.adapters.wallet_link_table import DynamoDbPhoneRateLimiter

HOUR = 3600
BOUNDARY = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def limiter(aws_account: LocalAccount) -> DynamoDbPhoneRateLimiter:
    table = boto3.resource("dynamodb", region_name=REGION).Table(aws_account.stack.ref("WalletLinksTable"))
    return DynamoDbPhoneRateLimiter(table)


def _take(
    limiter: DynamoDbPhoneRateLimiter, at: datetime, *, phone: str = "9999900001", action: str = "otp"
) -> bool:
    return limiter.take(phone, action, limit=10, window_seconds=HOUR, now=at).allowed


def test_ten_attempts_just_before_a_boundary_leave_none_just_after_it(
    limiter: DynamoDbPhoneRateLimiter,
) -> None:
    before = BOUNDARY - timedelta(seconds=2)
    assert [_take(limiter, before) for _ in range(10)] == [True] * 10
    assert not _take(limiter, BOUNDARY + timedelta(seconds=1))
    refused = limiter.take(
        "9999900001", "otp", limit=10, window_seconds=HOUR, now=BOUNDARY + timedelta(seconds=1)
    )
    assert refused.retry_after_seconds == 359  # the carried ten fall to nine at 360 s past the boundary


def test_a_burst_split_across_a_boundary_is_bounded_by_the_rolling_window(
    limiter: DynamoDbPhoneRateLimiter,
) -> None:
    answers = [_take(limiter, BOUNDARY - timedelta(seconds=1)) for _ in range(6)]
    answers += [_take(limiter, BOUNDARY + timedelta(seconds=1)) for _ in range(9)]
    assert answers.count(True) == 10
    assert answers[10:] == [False] * 5


def test_the_previous_window_weighs_less_as_it_slides_out(limiter: DynamoDbPhoneRateLimiter) -> None:
    for _ in range(10):
        assert _take(limiter, BOUNDARY - timedelta(minutes=30))
    half_way = BOUNDARY + timedelta(minutes=30)  # the previous ten weigh five
    assert [_take(limiter, half_way) for _ in range(6)] == [True] * 5 + [False]
    assert _take(limiter, BOUNDARY + timedelta(hours=2))  # both windows slid out


def test_each_phone_and_action_has_its_own_allowance(limiter: DynamoDbPhoneRateLimiter) -> None:
    for _ in range(10):
        assert _take(limiter, BOUNDARY)
    assert not _take(limiter, BOUNDARY)
    assert _take(limiter, BOUNDARY, phone="9999900002")
    assert _take(limiter, BOUNDARY, action="link")
