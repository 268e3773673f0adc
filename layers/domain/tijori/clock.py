"""Time, in one place, so that the domain takes `now` as a value.

In Lambda this is the wall clock. The local runtime compresses time (`--time-scale`) for the
simulator, Step Functions Wait states and the schedule alike, and installs the same compressed
clock here, so that Tijori's deadlines move at the pace Paytm's simulated days do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _wall_clock() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = _wall_clock


def utc_now() -> datetime:
    return _clock()


def install_clock(clock: Callable[[], datetime] | None) -> Callable[[], datetime]:
    """Replace the clock (None: the wall clock) and return the one it replaces, to restore it.
    Only the local runtime does this."""
    global _clock
    previous, _clock = _clock, clock or _wall_clock
    return previous
