"""The lifecycle's DynamoDB mechanics, the same for every kind (one table per kind).

Every kind's item carries:
- `status` and `history` (a list of transitions), changed together in one conditional update from
  the expected previous status (`LifecycleTable.transition`): never backwards, never out of a final
  status, and a writer that lost the race learns it (StaleTransitionError);
- `sweep_bucket` + `next_check_at` (epoch seconds), present only while the item may still need a
  status check, so the sparse GSI `DueForCheck` holds exactly those. Two kinds of bucket, each
  sharded by a hash of the item's id (no single index partition takes every write):
  - `due-<n>`: `next_check_at` is when to look next; the scheduled run reads every shard page by
    page for what is overdue;
  - `pending-<n>` (the kind's pending status): `next_check_at` is when its pending clock started,
    written once; the scheduled run finds the items that reached one of the kind's fixed check
    ages since its last run by querying for those whose clock started one such age ago, so a
    routine check writes nothing;
- one control item per table, id `#pending-checks-cursor` (never a valid id): up to when the
  scheduled runs have checked the table's pending items;
- `event_pending` (an event id) on a final item whose event to the merchant is not out yet: such
  an item stays in the due index until it is (tijori.lifecycle.announcements).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, Generic

from botocore.exceptions import BotoCoreError, ClientError

from tijori.lifecycle.announcements import (
    ANNOUNCE_GRACE,
    EVENT_PENDING,
    EventNotPublishedError,
    KindEvents,
    MerchantEvents,
    event_id,
)
from tijori.lifecycle.states import StatusT, StatusTable

DUE_FOR_CHECK_INDEX = "DueForCheck"
SWEEP_SHARDS = 8
# Fewer: pending items are written to the index only twice each, and every run queries each
# pending shard once per check age.
PENDING_SHARDS = 2
# Items written before the index was sharded carry this bucket; the scheduled run still reads it.
LEGACY_SWEEP_BUCKET = "open"
SWEEP_BUCKETS = (*(f"due-{shard}" for shard in range(SWEEP_SHARDS)), LEGACY_SWEEP_BUCKET)
PENDING_BUCKETS = tuple(f"pending-{shard}" for shard in range(PENDING_SHARDS))
CHECK_CURSOR_KEY = "#pending-checks-cursor"


class StaleTransitionError(Exception):
    """The item was not in the expected status any more (another writer got there first), or an
    attempt holds it and the writer is not that attempt."""


class AlreadyExistsError(Exception):
    """An item with this id is already stored."""


class DueEntry(Enum):
    """`transition(next_check_at=DueEntry.KEEP)`: leave the item's due-index entry as it is (one
    index write less, e.g. when a claim follows intake within seconds)."""

    KEEP = "keep"


@dataclass
class UpdateParts:
    """What a kind adds to a lifecycle write: SET clauses, REMOVE names, their values, and an extra
    condition joined with AND."""

    sets: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    condition: str | None = None

    def set(self, attribute: str, value: Any) -> None:
        self.sets.append(f"{attribute} = :{attribute}")
        self.values[f":{attribute}"] = value


def _shard(item_id: str, shards: int) -> int:
    digest = hashlib.sha256(item_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % shards


def sweep_bucket(item_id: str) -> str:
    """The due-index shard of an id: stable, and spread evenly by a hash."""
    return f"due-{_shard(item_id, SWEEP_SHARDS)}"


def pending_bucket(item_id: str) -> str:
    """The shard of a pending item, filed by when its pending clock started."""
    return f"pending-{_shard(item_id, PENDING_SHARDS)}"


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def lease_seconds(wall_clock: float) -> Decimal:
    """A wall-clock time as DynamoDB keeps a lease: a number to the millisecond."""
    return Decimal(str(round(wall_clock, 3)))


def history_entry(previous: StrEnum | None, target: StrEnum, at: datetime, reason: str) -> dict[str, Any]:
    return {
        "from": previous.value if previous is not None else None,
        "to": target.value,
        "at": at.isoformat(),
        "reason": reason,
    }


def is_conditional_failure(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def update_if(table: Any, **arguments: Any) -> dict[str, Any] | None:
    """`table.update_item(**arguments)` whose ConditionExpression may not hold: its answer, or None
    when the condition failed (any other error is raised)."""
    try:
        return dict(table.update_item(**arguments))
    except ClientError as error:
        if is_conditional_failure(error):
            return None
        raise


class LifecycleTable(Generic[StatusT]):
    """One kind's table (a boto3 Table resource, injected): conditional transitions with history,
    the due index, and the pending-checks cursor. Items are plain dicts: the kind maps them."""

    def __init__(
        self,
        table: Any,
        *,
        key: str,
        lifecycle: StatusTable[StatusT],
        indexed: frozenset[StatusT],
        pending: StatusT | None,
        records_pending_since: bool = False,
        events: KindEvents[StatusT] | None = None,
        outlet: MerchantEvents | None = None,
        near_due: frozenset[StatusT] = frozenset(),
    ) -> None:
        """`records_pending_since`: a transition given `pending_since` also stores it on the item
        (`pending_since`, kept from the first time), for kinds that read their pending clock back
        from it (payouts derive theirs from the history).

        `events` + `outlet`: announce every final transition (tijori.lifecycle.announcements);
        without an outlet (no bus configured) nothing is marked or published.

        `near_due`: indexed statuses whose due entry is never far off (an intake grace, a lease):
        a final transition from one keeps that entry to carry the event mark, rather than rewriting
        the index key (a delete and a put in the index; with it the final write writes no index)."""
        self.table = table
        self.key = key
        self.lifecycle = lifecycle
        self.indexed = indexed  # the statuses that keep an item in the due index
        self.pending = pending  # the status filed by its pending clock (None: the kind has none)
        self.records_pending_since = records_pending_since
        self.near_due = near_due
        if events is not None:
            events.check_covers(lifecycle)
        self.events = events if outlet is not None else None
        self.outlet = outlet

    def announces(self, status: StatusT) -> bool:
        return self.events is not None and self.events.announces(status)

    # ---- items -----------------------------------------------------------------------------
    def put_new(self, item: dict[str, Any], *, first_check_at: datetime | None) -> None:
        """Store a new item (in the due index from `first_check_at`); AlreadyExistsError if the id
        is taken."""
        item = dict(item)
        if first_check_at is not None:
            item["sweep_bucket"] = sweep_bucket(str(item[self.key]))
            item["next_check_at"] = epoch(first_check_at)
        try:
            self.table.put_item(Item=item, ConditionExpression=f"attribute_not_exists({self.key})")
        except ClientError as error:
            if is_conditional_failure(error):
                raise AlreadyExistsError(str(item[self.key])) from None
            raise

    def get_item(self, item_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={self.key: item_id}, ConsistentRead=True).get("Item")
        return None if item is None else dict(item)

    def transition_update(
        self,
        item_id: str,
        *,
        expected: StatusT,
        target: StatusT,
        at: datetime,
        reason: str,
        next_check_at: datetime | DueEntry | None,
        pending_since: datetime | None = None,
        extra: UpdateParts | None = None,
    ) -> dict[str, Any]:
        """The conditional update of a transition (see `transition`), as UpdateItem arguments: a
        kind that moves another item in the same transaction (`transact`) sends it with those."""
        self.lifecycle.check(expected, target)
        parts = extra or UpdateParts()
        sets = ["#status = :target", "updated_at = :at", "history = list_append(history, :entry)"]
        sets += parts.sets
        removes = list(parts.removes)
        values: dict[str, Any] = {
            ":target": target.value,
            ":expected": expected.value,
            ":at": at.isoformat(),
            ":entry": [history_entry(expected, target, at, reason)],
            **parts.values,
        }
        if pending_since is not None and self.records_pending_since:
            sets.append("pending_since = if_not_exists(pending_since, :pending_since)")
            values[":pending_since"] = pending_since.isoformat()
        if self.events is not None and self.announces(target):
            # Final, its event not out yet: due for the sweep until `announce` clears the mark.
            sets.append(f"{EVENT_PENDING} = :event_id")
            if expected in self.near_due:
                # Its due entry stays as it is (if it has one): the sweep finds it soon anyway.
                sets += [
                    "sweep_bucket = if_not_exists(sweep_bucket, :bucket)",
                    "next_check_at = if_not_exists(next_check_at, :next)",
                ]
            else:
                sets += ["sweep_bucket = :bucket", "next_check_at = :next"]
            values[":event_id"] = event_id(self.events.kind, item_id, target)
            values[":bucket"] = sweep_bucket(item_id)
            values[":next"] = epoch(at + ANNOUNCE_GRACE)
        elif next_check_at is DueEntry.KEEP and target in self.indexed:
            pass
        elif target == self.pending and pending_since is not None:
            sets += ["sweep_bucket = :bucket", "next_check_at = :next"]
            values[":bucket"] = pending_bucket(item_id)
            values[":next"] = epoch(pending_since)
        elif target in self.indexed and isinstance(next_check_at, datetime):
            sets += ["sweep_bucket = :bucket", "next_check_at = :next"]
            values[":bucket"] = sweep_bucket(item_id)
            values[":next"] = epoch(next_check_at)
        else:
            removes += ["sweep_bucket", "next_check_at"]
        condition = "#status = :expected" + (f" AND ({parts.condition})" if parts.condition else "")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return {
            "Key": {self.key: item_id},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values,
        }

    def transition(
        self,
        item_id: str,
        *,
        expected: StatusT,
        target: StatusT,
        at: datetime,
        reason: str,
        next_check_at: datetime | DueEntry | None,
        pending_since: datetime | None = None,
        extra: UpdateParts | None = None,
        read_back: bool = False,
    ) -> dict[str, Any] | None:
        """Move expected -> target conditionally, appending to the history; StaleTransitionError
        if the item is not in `expected` (or `extra.condition` does not hold).

        `next_check_at`: when the scheduled run should look at it next; None takes it out of the
        due index. A target outside the indexed statuses always leaves the index. The pending
        status is filed by `pending_since` (its pending clock start) instead, when given.
        `read_back`: return the item as the write left it; otherwise None.
        A final transition is announced once committed (`announce`)."""
        announced = self.announces(target)
        update = self.transition_update(
            item_id,
            expected=expected,
            target=target,
            at=at,
            reason=reason,
            next_check_at=next_check_at,
            pending_since=pending_since,
            extra=extra,
        )
        returned = "ALL_NEW" if read_back or announced else "NONE"
        try:
            response = self.table.update_item(**update, ReturnValues=returned)
        except ClientError as error:
            if is_conditional_failure(error):
                raise StaleTransitionError(f"{item_id} is not {expected}") from None
            raise
        if announced:
            self.announce_committed(item_id, dict(response["Attributes"]))
        return dict(response["Attributes"]) if read_back else None

    # ---- events to the merchant ----------------------------------------------------------------
    def announce_committed(self, item_id: str, item: dict[str, Any] | None = None) -> None:
        """After a committed final transition (`item` as the write left it, or read now): publish
        its event. A failure is reported to the outlet, never raised: the transition stands, and the
        scheduled run publishes the event (the item is still due)."""
        if self.events is None or self.outlet is None:
            return
        try:
            stored = item if item is not None else self.get_item(item_id)
            if stored is not None and EVENT_PENDING in stored:
                self.announce(item_id, stored)
        except (EventNotPublishedError, ClientError, BotoCoreError) as error:
            self.outlet.on_unpublished(item_id, f"{type(error).__name__}: {error}")

    def announce(self, item_id: str, item: dict[str, Any]) -> None:
        """Publish the pending event of a final item, then clear the mark and leave the due index
        (only if the mark is the same: a later writer's mark is its own). Raises
        EventNotPublishedError when the bus did not take it: the mark stays."""
        if self.events is None or self.outlet is None:
            raise EventNotPublishedError(f"{item_id}: this function has no event bus configured")
        event = self.events.event_of(item, item_id)
        self.outlet.publisher.publish(event)
        update_if(
            self.table,
            Key={self.key: item_id},
            UpdateExpression=f"REMOVE {EVENT_PENDING}, sweep_bucket, next_check_at",
            ConditionExpression=f"{EVENT_PENDING} = :event_id",
            ExpressionAttributeValues={":event_id": event.event_id},
        )

    def record_check(
        self,
        item_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        extra: UpdateParts | None = None,
        release_attempt: bool = False,
    ) -> None:
        """Count one status check and set when the next is due, without changing status; only
        while the item is in the due index (an item that became final meanwhile keeps no index
        keys and must not get them back). `release_attempt`: end the attempt's lease in the same
        write (and on its own when the item has left the index meanwhile)."""
        parts = extra or UpdateParts()
        if release_attempt:
            parts.removes.append("lease_until")
        sets = [
            "status_checks = if_not_exists(status_checks, :zero) + :one",
            "updated_at = :at",
            *parts.sets,
            "sweep_bucket = :bucket",
            "next_check_at = :next",
        ]
        values: dict[str, Any] = {
            ":zero": 0,
            ":one": 1,
            ":at": at.isoformat(),
            ":next": epoch(next_check_at),
            ":bucket": sweep_bucket(item_id),
            **parts.values,
        }
        removes = " REMOVE " + ", ".join(parts.removes) if parts.removes else ""
        expression = "SET " + ", ".join(sets) + removes
        recorded = update_if(
            self.table,
            Key={self.key: item_id},
            UpdateExpression=expression,
            # A final item still in the index waits for its event, not for another check.
            ConditionExpression=f"attribute_exists(sweep_bucket) AND attribute_not_exists({EVENT_PENDING})",
            ExpressionAttributeValues=values,
        )
        if recorded is None and release_attempt:
            self.release_attempt(item_id)

    def postpone_check(self, item_id: str, *, until: datetime) -> None:
        """Check an item of the index again at `until` (due bucket), without reading it: also works
        on an unreadable item, and takes a pending one out of its check ages until then."""
        update_if(
            self.table,
            Key={self.key: item_id},
            UpdateExpression="SET sweep_bucket = :bucket, next_check_at = :next",
            ConditionExpression="attribute_exists(sweep_bucket)",
            ExpressionAttributeValues={":bucket": sweep_bucket(item_id), ":next": epoch(until)},
        )

    def leave_due_index(self, item_id: str) -> None:
        """Out of the due index; a final item whose event is not out yet is announced first (each
        kind's sweep calls this for a final item it finds due), and stays if that fails."""
        if self.events is not None:
            item = self.get_item(item_id)
            if item is not None and EVENT_PENDING in item:
                self.announce(item_id, item)
                return
        update_if(
            self.table,
            Key={self.key: item_id},
            UpdateExpression="REMOVE sweep_bucket, next_check_at",
            ConditionExpression=f"attribute_not_exists({EVENT_PENDING})",
        )

    def file_as_pending(self, item_id: str, *, pending_since: datetime) -> None:
        """File a pending item found among the due items under its pending clock."""
        if self.pending is None:
            raise ValueError(f"{self.lifecycle.kind} has no pending status")
        update_if(
            self.table,
            Key={self.key: item_id},
            UpdateExpression="SET sweep_bucket = :bucket, next_check_at = :since",
            ConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":bucket": pending_bucket(item_id),
                ":since": epoch(pending_since),
                ":pending": self.pending.value,
            },
        )

    # ---- the attempt lease ---------------------------------------------------------------------
    # An item being sent carries `lease_until` (wall-clock epoch seconds): a redelivery may take
    # the attempt over only once the lease has run out (the attempt died or gave up).
    def claim_attempt(
        self,
        item_id: str,
        *,
        expected: StatusT,
        target: StatusT,
        at: datetime,
        lease_until: float,
        next_check_at: datetime,
        reason: str,
    ) -> dict[str, Any] | None:
        """expected -> target with a lease, the first attempt counted and its send time recorded:
        the item as the claim left it, or None if it was not in `expected`."""
        parts = UpdateParts()
        parts.sets += [
            "attempts = if_not_exists(attempts, :zero) + :one",
            "lease_until = :lease",
            "first_sent_at = :at",
        ]
        parts.values.update({":zero": 0, ":one": 1, ":lease": lease_seconds(lease_until)})
        try:
            return self.transition(
                item_id,
                expected=expected,
                target=target,
                at=at,
                reason=reason,
                next_check_at=next_check_at,
                extra=parts,
                read_back=True,
            )
        except StaleTransitionError:
            return None

    def take_over_attempt(
        self,
        item_id: str,
        *,
        status: StatusT,
        wall_now: float,
        lease_until: float,
        extra: UpdateParts | None = None,
    ) -> dict[str, Any] | None:
        """The item, leased anew and its attempts counted, if it is in `status` with no running
        lease; None otherwise."""
        parts = extra or UpdateParts()
        sets = ["lease_until = :lease", "attempts = attempts + :one", *parts.sets]
        response = update_if(
            self.table,
            Key={self.key: item_id},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=(
                "#status = :in_status AND (attribute_not_exists(lease_until) OR lease_until < :now)"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":in_status": status.value,
                ":lease": lease_seconds(lease_until),
                ":now": lease_seconds(wall_now),
                ":one": 1,
                **parts.values,
            },
            ReturnValues="ALL_NEW",
        )
        return None if response is None else dict(response["Attributes"])

    def release_attempt(self, item_id: str) -> None:
        """End the lease of the attempt in flight, so the next delivery may take over at once."""
        self.table.update_item(Key={self.key: item_id}, UpdateExpression="REMOVE lease_until")

    # ---- the due index -------------------------------------------------------------------------
    def _index_pages(
        self, bucket: str, condition: str, values: Mapping[str, Any], page_size: int
    ) -> Iterator[Sequence[str]]:
        arguments: dict[str, Any] = {
            "IndexName": DUE_FOR_CHECK_INDEX,
            "KeyConditionExpression": f"sweep_bucket = :bucket AND {condition}",
            "ExpressionAttributeValues": {":bucket": bucket, **values},
            "Limit": page_size,
        }
        while True:
            response = self.table.query(**arguments)
            ids = [str(item[self.key]) for item in response.get("Items", [])]
            if ids:
                yield ids
            if "LastEvaluatedKey" not in response:
                return
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def due_for_check(self, now: datetime, *, page_size: int) -> Iterator[Sequence[str]]:
        """Pages of ids whose next check time has passed, every due shard; lazily. Each run starts
        at another shard, so a run out of time does not always leave the same shards for last."""
        first = epoch(now) // 60 % len(SWEEP_BUCKETS)
        for bucket in SWEEP_BUCKETS[first:] + SWEEP_BUCKETS[:first]:
            yield from self._index_pages(bucket, "next_check_at <= :now", {":now": epoch(now)}, page_size)

    def pending_since_within(
        self, windows: Sequence[tuple[datetime, datetime]], *, page_size: int
    ) -> Iterator[Sequence[str]]:
        """Pages of ids of pending items whose clock started within one of the half-open windows
        (after, up to], every shard; lazily."""
        for bucket in PENDING_BUCKETS:
            for after, up_to in windows:
                low, high = epoch(after) + 1, epoch(up_to)
                if low <= high:
                    between = {":low": low, ":high": high}
                    condition = "next_check_at BETWEEN :low AND :high"
                    yield from self._index_pages(bucket, condition, between, page_size)

    def check_cursor(self) -> datetime | None:
        item = self.table.get_item(Key={self.key: CHECK_CURSOR_KEY}, ConsistentRead=True).get("Item")
        return None if item is None else datetime.fromisoformat(str(item["cursor_at"]))

    def advance_check_cursor(self, *, expected: datetime | None, to: datetime) -> bool:
        condition = f"attribute_not_exists({self.key})" if expected is None else "cursor_at = :expected"
        values: dict[str, Any] = {":to": to.isoformat()}
        if expected is not None:
            values[":expected"] = expected.isoformat()
        moved = update_if(
            self.table,
            Key={self.key: CHECK_CURSOR_KEY},
            UpdateExpression="SET cursor_at = :to",
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
        return moved is not None


def transact_item(table: Any, operation: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """One TransactWriteItems entry (`Put`, `Update`, `ConditionCheck`) for a Table resource's
    arguments, to send with `table.meta.client`: a resource's client takes plain Python values
    (boto3 serialises them, as for the Table's own calls)."""
    return {operation: {"TableName": table.name, **arguments}}


def cancellation_codes(error: ClientError) -> list[str]:
    """Per entry of a cancelled transaction, why: "None", "ConditionalCheckFailed", ..."""
    return [str(reason.get("Code", "None")) for reason in error.response.get("CancellationReasons", [])]


class IndexedRepository:
    """The due-index and cursor methods every kind's repository offers, from its `store`
    (a LifecycleTable); the id is positional, whatever the kind calls it."""

    store: LifecycleTable[Any]

    def postpone_check(self, item_id: str, /, *, until: datetime) -> None:
        self.store.postpone_check(item_id, until=until)

    def leave_due_index(self, item_id: str, /) -> None:
        self.store.leave_due_index(item_id)

    def file_as_pending(self, item_id: str, /, *, pending_since: datetime) -> None:
        self.store.file_as_pending(item_id, pending_since=pending_since)

    def due_for_check(self, now: datetime, /, *, page_size: int) -> Iterator[Sequence[str]]:
        return self.store.due_for_check(now, page_size=page_size)

    def pending_since_within(
        self, windows: Sequence[tuple[datetime, datetime]], /, *, page_size: int
    ) -> Iterator[Sequence[str]]:
        return self.store.pending_since_within(windows, page_size=page_size)

    def check_cursor(self) -> datetime | None:
        return self.store.check_cursor()

    def advance_check_cursor(self, *, expected: datetime | None, to: datetime) -> bool:
        return self.store.advance_check_cursor(expected=expected, to=to)
