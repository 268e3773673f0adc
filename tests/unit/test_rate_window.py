"""The rolling per-phone window (issue 13 rule 5) as pure arithmetic: what the previous window
still weighs, how much room is left, and the Retry-After after a refusal."""

from __future__ import annotations

import pytest

from tijori.wallet_links.rate_window import carried_over, room_left, seconds_until_allowed

HOUR = 3600


@pytest.mark.parametrize(
    ("previous_hits", "elapsed", "carried"),
    [
        (0, 0, 0),
        (10, 0, 10),  # at the boundary the whole previous window still overlaps
        (10, 1, 10),  # 9.997 rounds up: the limit errs on refusing
        (10, 1800, 5),
        (10, 1801, 5),  # 4.997 rounds up
        (10, 3240, 1),
        (10, 3599, 1),
        (10, 3600, 0),
        (3, 2400, 1),
    ],
)
def test_the_previous_window_weighs_by_how_much_of_it_still_overlaps(
    previous_hits: int, elapsed: int, carried: int
) -> None:
    assert carried_over(previous_hits, elapsed, HOUR) == carried


@pytest.mark.parametrize(
    ("previous_hits", "elapsed", "limit", "room"),
    [
        (0, 0, 10, 10),
        (10, 0, 10, 0),  # ten just before the boundary: none just after it
        (10, 1800, 10, 5),
        (4, 0, 5, 1),
        (9, 3599, 10, 9),
    ],
)
def test_room_left_in_the_current_window_subtracts_what_is_carried(
    previous_hits: int, elapsed: int, limit: int, room: int
) -> None:
    assert room_left(previous_hits, elapsed, limit, HOUR) == room


@pytest.mark.parametrize(
    ("previous_hits", "current_hits", "elapsed", "limit", "wait"),
    [
        # the previous window's weight must fall to limit - 1 - current
        (10, 0, 0, 10, 360),  # carried 10 -> 9 after 360 s
        (10, 5, 1800, 10, 360),  # carried 5 -> 4 at elapsed 2160
        (10, 9, 0, 10, HOUR),  # nothing of it may remain: the window's end
        (0, 3, 100, 10, 1),  # refused by a racing writer only: try again at once
        # the current window is full on its own: its end, then its weight falls to limit - 1
        (0, 10, 600, 10, 3000 + 360),
        (0, 5, 0, 5, HOUR + 720),
    ],
)
def test_retry_after_is_when_one_more_hit_would_be_allowed(
    previous_hits: int, current_hits: int, elapsed: int, limit: int, wait: int
) -> None:
    assert seconds_until_allowed(previous_hits, current_hits, elapsed, limit, HOUR) == wait


@pytest.mark.parametrize(
    ("previous_hits", "current_hits", "elapsed", "limit"),
    [(10, 0, 0, 10), (10, 5, 1800, 10), (0, 10, 600, 10), (7, 3, 77, 10), (5, 5, 3599, 5), (2, 5, 10, 5)],
)
def test_at_the_retry_after_moment_one_more_is_allowed_and_not_a_second_before(
    previous_hits: int, current_hits: int, elapsed: int, limit: int
) -> None:
    def allowed_after(seconds: int) -> bool:
        moment = elapsed + seconds
        if moment < HOUR:
            return current_hits < room_left(previous_hits, moment, limit, HOUR)
        return room_left(current_hits, moment - HOUR, limit, HOUR) > 0

    wait = seconds_until_allowed(previous_hits, current_hits, elapsed, limit, HOUR)
    assert allowed_after(wait)
    assert not allowed_after(wait - 1)
