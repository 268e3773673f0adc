"""The simulator's clock: real time, optionally compressed, plus a manual offset.

Paytm's pending rules run over days (seed 000: up to 5 days). Tests advance the clock by hand;
the local runtime compresses time instead (`time_scale=7200` makes 5 simulated days pass in a
minute). Simulated time starts at the real time the clock is created.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["SimClock"]

_LATEST = datetime(9000, 1, 1, tzinfo=UTC).timestamp()
"""Simulated time stays well inside what `datetime` can represent."""


class SimClock:
    """`now() = start + (real elapsed) * time_scale + offset`, never going backwards."""

    def __init__(self, *, time_scale: float = 1.0, real_time: Callable[[], float] = time.time) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self._real_time = real_time
        self._start_real = real_time()
        self._time_scale = time_scale
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def time_scale(self) -> float:
        return self._time_scale

    def timestamp(self) -> float:
        """Simulated seconds since the epoch."""
        with self._lock:
            elapsed = self._real_time() - self._start_real
            return self._start_real + elapsed * self._time_scale + self._offset

    def now(self) -> datetime:
        """Simulated time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp(), tz=UTC)

    def advance(self, *, hours: float = 0.0, days: float = 0.0, seconds: float = 0.0) -> datetime:
        """Move simulated time forward (never back) and return the new time."""
        delta = timedelta(days=days, hours=hours, seconds=seconds).total_seconds()
        if delta < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            elapsed = self._real_time() - self._start_real
            target = self._start_real + elapsed * self._time_scale + self._offset + delta
            if not target < _LATEST:
                raise ValueError("the clock cannot go that far (past the year 9000)")
            self._offset += delta
        return self.now()

    def real_seconds_for(self, simulated_seconds: float) -> float:
        """How long to really wait for `simulated_seconds` to pass (0 when time is frozen)."""
        if self._time_scale == 0:
            return float("inf")
        return simulated_seconds / self._time_scale
