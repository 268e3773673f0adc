"""Events to the merchant: every final transition announced on the stack's event bus, at least once.

How no final transition is left unannounced, and none announced before it is committed:
1. The conditional write that makes an item final also marks it `event_pending` (the event's id)
   and files it in the due index `ANNOUNCE_GRACE` on, instead of taking it out
   (`LifecycleTable.transition_update`).
2. Once that write is committed, the writer publishes the event and then clears the mark and
   leaves the index, in one write conditional on the mark (`LifecycleTable.announce`).
3. A writer that died between 1 and 2, or whose publish failed, leaves the mark: the scheduled
   run finds the item due, and the kind's sweep, which takes a final item out of the index with
   `leave_due_index`, publishes it first (and on failure the item stays due, postponed).
The event id is derived from the kind, the id and the final status, so every publish of one
transition carries the same id: a consumer deduplicates on `detail.event_id` (EventBridge's own
envelope `id` differs on each publish).

NEEDS_REVIEW is not announced: it is not final (a later answer from Paytm settles it, and that
final transition is announced); operators hear of it from the `...NeedingReview` metrics and
`tijori payouts list --status NEEDS_REVIEW`.

A kind plugs in with a `KindEvents`: its detail-type for each final status (the table must name
every final status of its StatusTable, and nothing else) and its GET view of a stored item.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Generic, Protocol

from tijori.lifecycle.states import StatusT, StatusTable

EVENT_SOURCE = "tijori"
# A final item whose event is not out yet is due this long after its transition: the writer
# publishes within milliseconds, and the sweep only steps in for one that did not.
ANNOUNCE_GRACE = timedelta(minutes=1)
# The item attribute that holds the id of an event not yet published.
EVENT_PENDING = "event_pending"
# Fixed for ever: event ids already published are derived from it.
_EVENT_ID_NAMESPACE = uuid.UUID("6f1d3c2e-5b7a-4e8f-9a0b-74696a6f7269")


def event_id(kind: str, item_id: str, status: StrEnum | str) -> str:
    """The id of the event announcing that `kind` `item_id` reached `status`: the same on every
    publish (a final status is reached once)."""
    value = status.value if isinstance(status, StrEnum) else status
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{kind}/{item_id}/{value}"))


@dataclass(frozen=True)
class MerchantEvent:
    """One event for the bus: `source` is always EVENT_SOURCE."""

    detail_type: str
    detail: Mapping[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.detail["event_id"])


class EventNotPublishedError(Exception):
    """The bus did not take the event (an error, or PutEvents reported the entry failed)."""


class EventPublisher(Protocol):
    def publish(self, event: MerchantEvent) -> None:
        """Put the event on the bus; EventNotPublishedError if it was not taken."""


@dataclass(frozen=True)
class KindEvents(Generic[StatusT]):
    """What a kind tells the engine: the detail-type of each final status, and its resource as the
    GET shows it, from a stored item."""

    kind: str
    detail_types: Mapping[StatusT, str]
    view: Callable[[Mapping[str, Any]], dict[str, Any]]

    def check_covers(self, lifecycle: StatusTable[StatusT]) -> None:
        if set(self.detail_types) != set(lifecycle.finals):
            raise ValueError(
                f"{self.kind}: the event table must name every final status and only those: "
                f"{sorted(self.detail_types)} != {sorted(lifecycle.finals)}"
            )

    def announces(self, status: StatusT) -> bool:
        return status in self.detail_types

    def event_of(self, item: Mapping[str, Any], item_id: str) -> MerchantEvent:
        """The event of a stored final item, under the id it was marked with."""
        status = next(s for s in self.detail_types if s.value == item["status"])
        marked = item.get(EVENT_PENDING)
        identifier = str(marked) if marked else event_id(self.kind, item_id, status)
        return MerchantEvent(self.detail_types[status], {**self.view(item), "event_id": identifier})


def _ignore(item_id: str, problem: str) -> None:
    return None


@dataclass(frozen=True)
class MerchantEvents:
    """Where final transitions go: the bus's publisher, and who hears of an event the writer could
    not publish (the scheduled run publishes it later)."""

    publisher: EventPublisher
    on_unpublished: Callable[[str, str], None] = _ignore
