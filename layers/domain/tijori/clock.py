"""Time, in one place, so that the domain takes `now` as a value and tests can fix it."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
