"""What the report knows of one stored item, read from its table's item: plain records.

Each kind's table keeps its own shape (tijori.adapters.*_table); this module maps an item to one
`ItemRecord` the same for every kind, so the figures (report_figures) and the page
(report_page) never see DynamoDB. An item that cannot be read (no status, an unknown status, no
creation time) is counted as unreadable, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from tijori.payments.lifecycle import PAYMENT_LIFECYCLE, REFUND_LIFECYCLE
from tijori.payouts.lifecycle import PAYOUT_LIFECYCLE
from tijori.validations.lifecycle import VALIDATION_LIFECYCLE

PENDING = "PENDING"
NEEDS_REVIEW = "NEEDS_REVIEW"


class Kind(StrEnum):
    """What an item is; prepaid loads share PayoutsTable with wallet payouts (`rail`)."""

    PAYOUT = "payouts"
    PREPAID_LOAD = "prepaid loads"
    PAYMENT = "payments"
    REFUND = "refunds"
    VALIDATION = "validations"


# The final statuses of each kind, from its own status table (a status with nowhere to go).
FINAL_STATUSES: dict[Kind, frozenset[str]] = {
    Kind.PAYOUT: frozenset(s.value for s in PAYOUT_LIFECYCLE.finals),
    Kind.PREPAID_LOAD: frozenset(s.value for s in PAYOUT_LIFECYCLE.finals),
    Kind.PAYMENT: frozenset(s.value for s in PAYMENT_LIFECYCLE.finals),
    Kind.REFUND: frozenset(s.value for s in REFUND_LIFECYCLE.finals),
    Kind.VALIDATION: frozenset(s.value for s in VALIDATION_LIFECYCLE.finals),
}
KNOWN_STATUSES: dict[Kind, frozenset[str]] = {
    Kind.PAYOUT: frozenset(s.value for s in PAYOUT_LIFECYCLE.allowed),
    Kind.PREPAID_LOAD: frozenset(s.value for s in PAYOUT_LIFECYCLE.allowed),
    Kind.PAYMENT: frozenset(s.value for s in PAYMENT_LIFECYCLE.allowed),
    Kind.REFUND: frozenset(s.value for s in REFUND_LIFECYCLE.allowed),
    Kind.VALIDATION: frozenset(s.value for s in VALIDATION_LIFECYCLE.allowed),
}


@dataclass(frozen=True)
class Step:
    """One transition of an item's history."""

    to_status: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class ItemRecord:
    kind: Kind
    item_id: str
    status: str
    amount: Decimal | None
    created_at: datetime
    history: tuple[Step, ...] = ()
    status_checks: int = 0  # checks recorded on the item (a routine pending check writes nothing)
    # Where the kind's pending check ages count from, for an item that was ever pending.
    pending_clock_start: datetime | None = None
    pending_days_limit: int | None = None  # a wallet payout's own window (None: seed 000's 5 days)
    paytm_code: str | None = None  # Paytm's last code for the item
    paytm_message: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES[self.kind]

    @property
    def final_at(self) -> datetime | None:
        """When it reached its final status (the last transition's time); None while open."""
        if not self.is_final or not self.history:
            return None
        return self.history[-1].at

    @property
    def was_pending(self) -> bool:
        return any(step.to_status == PENDING for step in self.history)

    @property
    def left_pending_at(self) -> datetime | None:
        """When it moved on from its last PENDING spell; None if it never was, or still is."""
        left: datetime | None = None
        for earlier, later in zip(self.history, self.history[1:], strict=False):
            if earlier.to_status == PENDING and later.to_status != PENDING:
                left = later.at
        return None if self.status == PENDING else left


@dataclass(frozen=True)
class QueueDepth:
    """A dead-letter queue's messages; `error` says why it could not be read (depth unknown)."""

    name: str
    visible: int = 0
    in_flight: int = 0
    error: str | None = None

    @property
    def total(self) -> int:
        return self.visible + self.in_flight


@dataclass(frozen=True)
class StackSnapshot:
    """One stack's items as read at `as_of` (the stack's own clock: the wall clock in AWS, the
    simulated clock of a local runtime that compresses time)."""

    label: str
    as_of: datetime
    items: tuple[ItemRecord, ...]
    dlq: QueueDepth | None
    unreadable: int = 0
    missing_tables: tuple[str, ...] = field(default=())


def _text(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return None if value is None or value == "" else str(value)


def _time(item: Mapping[str, Any], name: str) -> datetime | None:
    value = _text(item, name)
    return None if value is None else datetime.fromisoformat(value)


def _money(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _history(item: Mapping[str, Any]) -> tuple[Step, ...]:
    return tuple(
        Step(
            to_status=str(entry["to"]),
            at=datetime.fromisoformat(str(entry["at"])),
            reason=str(entry["reason"]),
        )
        for entry in item.get("history") or []
    )


def kind_of_payouts_item(item: Mapping[str, Any]) -> Kind:
    return Kind.PREPAID_LOAD if item.get("rail") == "prepaid" else Kind.PAYOUT


def record_of(kind: Kind, item: Mapping[str, Any]) -> ItemRecord | None:
    """The record of one table item; None for an item this report cannot read (the tables'
    control items, such as the pending-checks cursor, carry no status and are not items)."""
    key = {Kind.REFUND: "refund_id", Kind.VALIDATION: "validation_id"}.get(kind, "order_id")
    status, created_at = _text(item, "status"), _text(item, "created_at")
    if status is None or created_at is None or status not in KNOWN_STATUSES[kind]:
        return None
    try:
        history = _history(item)
        created = datetime.fromisoformat(created_at)
        pending_since = _time(item, "pending_since")
        first_sent_at = _time(item, "first_sent_at")
    except (KeyError, ValueError):
        return None
    ever_pending = any(step.to_status == PENDING for step in history)
    if kind is Kind.PAYOUT:
        # A payout's pending clock: the first send that may have reached Paytm (payouts.pending).
        clock = (first_sent_at or created) if ever_pending else None
    else:
        clock = pending_since if ever_pending else None
    if ever_pending and clock is None:
        clock = next(step.at for step in history if step.to_status == PENDING)
    limit = item.get("pending_days_limit")
    code_attribute = "paytm_code" if kind is Kind.VALIDATION else "last_status_code"
    return ItemRecord(
        kind=kind,
        item_id=str(item[key]),
        status=status,
        amount=_money(item.get("amount", item.get("penny_amount"))),
        created_at=created,
        history=history,
        status_checks=int(item.get("status_checks") or 0),
        pending_clock_start=clock,
        pending_days_limit=None if limit is None else int(limit),
        paytm_code=_text(item, code_attribute),
        paytm_message=_text(item, "last_status_message") or _text(item, "paytm_status"),
    )


def since_filter(records: tuple[ItemRecord, ...], since: datetime | None) -> tuple[ItemRecord, ...]:
    """Items created at or after `since`, and every item still open whatever its age (pending and
    in-review items are what an operator acts on)."""
    if since is None:
        return records
    return tuple(r for r in records if r.created_at >= since or not r.is_final)
