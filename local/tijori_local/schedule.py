"""EventBridge schedule expressions: `rate(...)` and `cron(...)`, and the scheduled-event payload.

AWS cron has six fields: minutes hours day-of-month month day-of-week year, in UTC, with `?` in
one of the two day fields. Supported here: `*`, `?`, numbers, names (JAN-DEC, SUN-SAT), ranges
`a-b`, lists `a,b`, steps `*/n` and `a-b/n`. Not supported (rejected clearly): `L`, `W`, `#`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_MONTHS = {name: index + 1 for index, name in enumerate(_MONTH_NAMES)}
_DAYS = {name: index + 1 for index, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}


class ScheduleExpressionError(ValueError):
    pass


def _parse_field(
    text: str, low: int, high: int, names: dict[str, int] | None = None
) -> frozenset[int] | None:
    """The allowed values, or None for "any" (`*` or `?`)."""
    if text in ("*", "?"):
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(part, names)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ScheduleExpressionError(f"cron field value {part!r} out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleExpressionError(f"unsupported cron value {text!r}")
    return int(text)


@dataclass(frozen=True)
class Schedule:
    expression: str
    interval: timedelta | None = None
    minutes: frozenset[int] | None = None
    hours: frozenset[int] | None = None
    days_of_month: frozenset[int] | None = None
    months: frozenset[int] | None = None
    days_of_week: frozenset[int] | None = None  # 1 = Sunday, as AWS counts
    years: frozenset[int] | None = None

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        expression = expression.strip()
        rate = _RATE.match(expression)
        if rate:
            amount, unit = int(rate.group(1)), rate.group(2).rstrip("s")
            if amount < 1:
                raise ScheduleExpressionError(f"{expression}: the rate must be at least 1")
            return cls(expression=expression, interval=timedelta(seconds=amount * _UNIT_SECONDS[unit]))
        cron = _CRON.match(expression)
        if not cron:
            raise ScheduleExpressionError(f"{expression!r} is neither rate(...) nor cron(...)")
        fields = cron.group(1).split()
        if len(fields) != 6:
            raise ScheduleExpressionError(f"{expression}: cron needs 6 fields, got {len(fields)}")
        if any(mark in cron.group(1) for mark in ("L", "W", "#")):
            raise ScheduleExpressionError(f"{expression}: L, W and # are not supported locally")
        return cls(
            expression=expression,
            minutes=_parse_field(fields[0], 0, 59),
            hours=_parse_field(fields[1], 0, 23),
            days_of_month=_parse_field(fields[2], 1, 31),
            months=_parse_field(fields[3], 1, 12, _MONTHS),
            days_of_week=_parse_field(fields[4], 1, 7, _DAYS),
            years=_parse_field(fields[5], 1970, 2199),
        )

    def next_after(self, moment: datetime) -> datetime:
        """The first firing time strictly after `moment` (UTC)."""
        if self.interval is not None:
            return moment + self.interval
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(60 * 24 * 366 * 5):
            if self._matches(candidate):
                return candidate
            candidate += timedelta(minutes=1)
        raise ScheduleExpressionError(f"{self.expression} never fires within five years")

    def _matches(self, moment: datetime) -> bool:
        aws_weekday = (moment.isoweekday() % 7) + 1  # Sunday = 1
        checks = (
            (self.minutes, moment.minute),
            (self.hours, moment.hour),
            (self.days_of_month, moment.day),
            (self.months, moment.month),
            (self.days_of_week, aws_weekday),
            (self.years, moment.year),
        )
        return all(allowed is None or value in allowed for allowed, value in checks)


def scheduled_event(rule_arn: str, moment: datetime, region: str, account: str) -> dict[str, Any]:
    """The payload EventBridge sends a Lambda target for a schedule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
