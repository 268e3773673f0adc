"""A rolling window over two fixed counters (the sliding-window-counter method).

A fixed window alone resets at its boundary: ten wrong OTPs at 10:59:59 and ten more at 11:00:00
would all be allowed. Here the previous window's count still weighs on the current one in
proportion to how much of the rolling window still overlaps it, so a burst cannot straddle a
boundary. Pure integer arithmetic; the adapter keeps the two counters.
"""

from __future__ import annotations


def carried_over(previous_hits: int, elapsed: int, window_seconds: int) -> int:
    """How many of the previous window's hits still count, `elapsed` seconds into the current one
    (rounded up: the limit errs on the side of refusing)."""
    overlap = max(window_seconds - elapsed, 0)
    return -(-previous_hits * overlap // window_seconds)


def room_left(previous_hits: int, elapsed: int, limit: int, window_seconds: int) -> int:
    """How many hits the current window's counter may reach before the next is refused."""
    return limit - carried_over(previous_hits, elapsed, window_seconds)


def seconds_until_allowed(
    previous_hits: int, current_hits: int, elapsed: int, limit: int, window_seconds: int
) -> int:
    """After a refusal: the whole seconds until one more hit would be allowed (at least 1)."""
    left_in_window = window_seconds - elapsed
    if current_hits < limit:
        # Allowed once carried_over(previous) <= limit - 1 - current_hits.
        room = limit - 1 - current_hits
        if previous_hits == 0:
            return 1
        wait = left_in_window - room * window_seconds // previous_hits
        return max(wait, 1)
    # The current window is full on its own: wait for it to end, then for enough of it (then the
    # previous window) to slide out.
    after_boundary = window_seconds - (limit - 1) * window_seconds // current_hits
    return max(left_in_window + after_boundary, 1)
