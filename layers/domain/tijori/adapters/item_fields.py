"""Reading a DynamoDB item's optional fields back into the models' types, for every kind's table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

StepT = TypeVar("StepT")


def text_field(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None else str(value)


def time_field(item: Mapping[str, Any], name: str) -> datetime | None:
    value = item.get(name)
    return None if value is None else datetime.fromisoformat(str(value))


def money_field(item: Mapping[str, Any], name: str) -> Decimal | None:
    value = item.get(name)
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def history_steps(item: Mapping[str, Any], step: Callable[..., StepT]) -> tuple[StepT, ...]:
    """The item's `history` (tijori.lifecycle.store.history_entry) as the kind's step model."""
    return tuple(
        step(
            from_status=entry.get("from"),
            to_status=str(entry["to"]),
            at=datetime.fromisoformat(str(entry["at"])),
            reason=str(entry["reason"]),
        )
        for entry in item.get("history", [])
    )
