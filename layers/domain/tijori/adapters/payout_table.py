"""PayoutsTable in DynamoDB: conditional writes for every status change.

Item layout (partition key `order_id`):
- the payout's fields, money as an exact decimal string (`amount`), times as ISO-8601 UTC text;
- `history`: a list of transitions, appended in the same conditional update as the status;
- `sweep_bucket` + `next_check_at` (epoch seconds): present only while the payout may still need
  a status check, so the sparse GSI `DueForCheck` holds exactly those. Two kinds of bucket, each
  sharded by a hash of the order id (no single index partition takes every write):
  - `due-<n>` (ACCEPTED, PROCESSING, NEEDS_REVIEW until Paytm's final answer): `next_check_at`
    is when to look next; the scheduled run reads every shard page by page for what is overdue;
  - `pending-<n>` (PENDING): `next_check_at` is when its pending clock started, written once; the
    scheduled run finds the payouts that reached one of the fixed check ages since its last run by
    querying for those whose clock started one such age ago, so a routine check writes nothing.
- one control item, `order_id = "#pending-checks-cursor"` (not a valid order id): up to when the
  scheduled runs have checked pending payouts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from tijori.payouts.lifecycle import PayoutStatus, check_transition
from tijori.payouts.models import Payee, Payout, PayoutMode, Transition
from tijori.payouts.ports import DueEntry, OutcomeDetails, PayoutAlreadyExistsError, StaleTransitionError

DUE_FOR_CHECK_INDEX = "DueForCheck"
SWEEP_SHARDS = 8
# Fewer: pending payouts are written to the index only twice each, and every run queries each
# pending shard once per check age.
PENDING_SHARDS = 2
# Items written before the index was sharded carry this bucket; the scheduled run still reads it.
LEGACY_SWEEP_BUCKET = "open"
SWEEP_BUCKETS = (*(f"due-{shard}" for shard in range(SWEEP_SHARDS)), LEGACY_SWEEP_BUCKET)
PENDING_BUCKETS = tuple(f"pending-{shard}" for shard in range(PENDING_SHARDS))
SWEPT_STATUSES = frozenset(
    {PayoutStatus.ACCEPTED, PayoutStatus.PROCESSING, PayoutStatus.PENDING, PayoutStatus.NEEDS_REVIEW}
)
CHECK_CURSOR_KEY = "#pending-checks-cursor"


def _shard(order_id: str, shards: int) -> int:
    digest = hashlib.sha256(order_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % shards


def sweep_bucket(order_id: str) -> str:
    """The due-index shard of an order id: stable, and spread evenly by a hash."""
    return f"due-{_shard(order_id, SWEEP_SHARDS)}"


def pending_bucket(order_id: str) -> str:
    """The shard of a PENDING payout, filed by when its pending clock started."""
    return f"pending-{_shard(order_id, PENDING_SHARDS)}"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _transition_item(transition: Transition) -> dict[str, Any]:
    return {
        "from": transition.from_status.value if transition.from_status else None,
        "to": transition.to_status.value,
        "at": transition.at.isoformat(),
        "reason": transition.reason,
    }


def payout_to_item(payout: Payout) -> dict[str, Any]:
    item: dict[str, Any] = {
        "order_id": payout.order_id,
        "status": payout.status.value,
        "amount": f"{payout.amount:.2f}",
        "currency": payout.currency,
        "payee": payout.payee.model_dump(exclude_none=True),
        "mode": payout.mode.value,
        "metadata": dict(payout.metadata),
        "request_fingerprint": payout.request_fingerprint,
        "attempts": payout.attempts,
        "status_checks": payout.status_checks,
        "created_at": payout.created_at.isoformat(),
        "updated_at": payout.updated_at.isoformat(),
        "history": [_transition_item(t) for t in payout.history],
    }
    optional = {
        "pending_days_limit": payout.pending_days_limit,
        "narration": payout.narration,
        "paytm_txn_id": payout.paytm_txn_id,
        "last_status_code": payout.last_status_code,
        "last_status_message": payout.last_status_message,
        "first_sent_at": payout.first_sent_at.isoformat() if payout.first_sent_at else None,
    }
    item.update({key: value for key, value in optional.items() if value is not None})
    return item


def _stored_payee(stored: Mapping[str, Any]) -> Payee:
    values = {
        name: str(stored[name]) for name in ("phone", "email", "sso_id") if stored.get(name) is not None
    }
    return Payee.model_construct(_fields_set=set(values), **values)


def item_to_payout(item: Mapping[str, Any]) -> Payout:
    def text(name: str) -> str | None:
        value = item.get(name)
        return None if value is None else str(value)

    pending_days = item.get("pending_days_limit")
    return Payout(
        order_id=str(item["order_id"]),
        amount=Decimal(str(item["amount"])),
        currency=str(item["currency"]),
        # Validated at intake; read back as stored, so that a rule tightened later (say, which
        # phones intake accepts) never makes an existing payout unreadable.
        payee=_stored_payee(item["payee"]),
        mode=PayoutMode(item["mode"]),
        pending_days_limit=None if pending_days is None else int(pending_days),
        narration=text("narration"),
        metadata={str(k): str(v) for k, v in item.get("metadata", {}).items()},
        request_fingerprint=str(item["request_fingerprint"]),
        status=PayoutStatus(item["status"]),
        paytm_txn_id=text("paytm_txn_id"),
        last_status_code=text("last_status_code"),
        last_status_message=text("last_status_message"),
        attempts=int(item.get("attempts", 0)),
        status_checks=int(item.get("status_checks", 0)),
        lease_until=None if item.get("lease_until") is None else float(item["lease_until"]),
        first_sent_at=None
        if item.get("first_sent_at") is None
        else datetime.fromisoformat(str(item["first_sent_at"])),
        created_at=datetime.fromisoformat(str(item["created_at"])),
        updated_at=datetime.fromisoformat(str(item["updated_at"])),
        history=tuple(
            Transition(
                from_status=PayoutStatus(entry["from"]) if entry.get("from") else None,
                to_status=PayoutStatus(entry["to"]),
                at=datetime.fromisoformat(str(entry["at"])),
                reason=str(entry["reason"]),
            )
            for entry in item.get("history", [])
        ),
    )


def _is_conditional_failure(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class DynamoDbPayoutRepository:
    """PayoutRepository over a boto3 DynamoDB Table resource (injected)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def create(self, payout: Payout, *, first_check_at: datetime) -> None:
        item = payout_to_item(payout)
        item["sweep_bucket"] = sweep_bucket(payout.order_id)
        item["next_check_at"] = _epoch(first_check_at)
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(order_id)")
        except ClientError as error:
            if _is_conditional_failure(error):
                raise PayoutAlreadyExistsError(payout.order_id) from None
            raise

    def get(self, order_id: str) -> Payout | None:
        response = self._table.get_item(Key={"order_id": order_id}, ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else item_to_payout(item)

    def transition(
        self,
        order_id: str,
        *,
        expected: PayoutStatus,
        target: PayoutStatus,
        at: datetime,
        reason: str,
        next_check_at: datetime | DueEntry | None,
        count_attempt: bool = False,
        details: OutcomeDetails | None = None,
        lease_until: float | None = None,
        unless_leased_at: float | None = None,
        pending_since: datetime | None = None,
        first_send_at: datetime | None = None,
        read_back: bool = False,
    ) -> Payout | None:
        check_transition(expected, target)
        entry = _transition_item(Transition(from_status=expected, to_status=target, at=at, reason=reason))
        sets = ["#status = :target", "updated_at = :at", "history = list_append(history, :entry)"]
        removes: list[str] = []
        values: dict[str, Any] = {
            ":target": target.value,
            ":expected": expected.value,
            ":at": at.isoformat(),
            ":entry": [entry],
        }
        if count_attempt:
            sets.append("attempts = attempts + :one")
            values[":one"] = 1
        if lease_until is not None:
            sets.append("lease_until = :lease")
            values[":lease"] = Decimal(str(round(lease_until, 3)))
        else:
            removes.append("lease_until")
        self._add_details(details, sets, values)
        if next_check_at is DueEntry.KEEP and target in SWEPT_STATUSES:
            pass
        elif target is PayoutStatus.PENDING and pending_since is not None:
            sets += ["sweep_bucket = :bucket", "next_check_at = :next"]
            values[":bucket"] = pending_bucket(order_id)
            values[":next"] = _epoch(pending_since)
        elif target in SWEPT_STATUSES and isinstance(next_check_at, datetime):
            sets += ["sweep_bucket = :bucket", "next_check_at = :next"]
            values[":bucket"] = sweep_bucket(order_id)
            values[":next"] = _epoch(next_check_at)
        else:
            removes += ["sweep_bucket", "next_check_at"]
        if first_send_at is not None:
            sets.append("first_sent_at = if_not_exists(first_sent_at, :first_send)")
            values[":first_send"] = first_send_at.isoformat()
        condition = "#status = :expected"
        if unless_leased_at is not None:
            condition += " AND (attribute_not_exists(lease_until) OR lease_until < :wall_now)"
            values[":wall_now"] = Decimal(str(round(unless_leased_at, 3)))
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            response = self._table.update_item(
                Key={"order_id": order_id},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW" if read_back else "NONE",
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                raise StaleTransitionError(f"{order_id} is not {expected}") from None
            raise
        return item_to_payout(response["Attributes"]) if read_back else None

    @staticmethod
    def _add_details(details: OutcomeDetails | None, sets: list[str], values: dict[str, Any]) -> None:
        if details is None:
            return
        for attribute, value in (
            ("last_status_code", details.status_code),
            ("last_status_message", details.status_message),
            ("paytm_txn_id", details.paytm_txn_id),
        ):
            if value is not None:
                sets.append(f"{attribute} = :{attribute}")
                values[f":{attribute}"] = value

    def take_over_attempt(
        self, order_id: str, *, wall_now: float, lease_until: float, first_send_at: datetime
    ) -> Payout | None:
        try:
            response = self._table.update_item(
                Key={"order_id": order_id},
                UpdateExpression=(
                    "SET lease_until = :lease, attempts = attempts + :one,"
                    " first_sent_at = if_not_exists(first_sent_at, :first_send)"
                ),
                ConditionExpression=(
                    "#status = :processing AND (attribute_not_exists(lease_until) OR lease_until < :now)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":processing": PayoutStatus.PROCESSING.value,
                    ":lease": Decimal(str(round(lease_until, 3))),
                    ":now": Decimal(str(round(wall_now, 3))),
                    ":one": 1,
                    ":first_send": first_send_at.isoformat(),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return None
            raise
        return item_to_payout(response["Attributes"])

    def record_check(
        self,
        order_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        details: OutcomeDetails | None,
        release_attempt: bool = False,
    ) -> None:
        sets = ["status_checks = if_not_exists(status_checks, :zero) + :one", "updated_at = :at"]
        values: dict[str, Any] = {
            ":zero": 0,
            ":one": 1,
            ":at": at.isoformat(),
            ":next": _epoch(next_check_at),
        }
        self._add_details(details, sets, values)
        sets += ["sweep_bucket = :bucket", "next_check_at = :next"]
        values[":bucket"] = sweep_bucket(order_id)
        expression = "SET " + ", ".join(sets) + (" REMOVE lease_until" if release_attempt else "")
        try:
            # Only while the payout is still swept: a payout that became final meanwhile keeps no
            # sweep keys, and must not get them back.
            self._table.update_item(
                Key={"order_id": order_id},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(sweep_bucket)",
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise
            if release_attempt:
                self.release_attempt(order_id)

    def release_attempt(self, order_id: str) -> None:
        self._table.update_item(Key={"order_id": order_id}, UpdateExpression="REMOVE lease_until")

    def unmark_sent(self, order_id: str, *, at: datetime) -> None:
        try:
            self._table.update_item(
                Key={"order_id": order_id},
                UpdateExpression="REMOVE first_sent_at",
                ConditionExpression="first_sent_at = :at",
                ExpressionAttributeValues={":at": at.isoformat()},
            )
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise

    def postpone_check(self, order_id: str, *, until: datetime) -> None:
        try:
            # Only while the item is in the index (a final payout must not re-enter it); a PENDING
            # payout moves to a due bucket, and the check there files it back by its pending clock.
            self._table.update_item(
                Key={"order_id": order_id},
                UpdateExpression="SET sweep_bucket = :bucket, next_check_at = :next",
                ConditionExpression="attribute_exists(sweep_bucket)",
                ExpressionAttributeValues={":bucket": sweep_bucket(order_id), ":next": _epoch(until)},
            )
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise

    def leave_due_index(self, order_id: str) -> None:
        self._table.update_item(
            Key={"order_id": order_id}, UpdateExpression="REMOVE sweep_bucket, next_check_at"
        )

    def file_as_pending(self, order_id: str, *, pending_since: datetime) -> None:
        try:
            self._table.update_item(
                Key={"order_id": order_id},
                UpdateExpression="SET sweep_bucket = :bucket, next_check_at = :since",
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":bucket": pending_bucket(order_id),
                    ":since": _epoch(pending_since),
                    ":pending": PayoutStatus.PENDING.value,
                },
            )
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise

    def _due_index_pages(
        self, bucket: str, condition: str, values: dict[str, Any], page_size: int
    ) -> Iterator[Sequence[str]]:
        """Order ids of one bucket of the due index matching `condition`, page by page."""
        arguments: dict[str, Any] = {
            "IndexName": DUE_FOR_CHECK_INDEX,
            "KeyConditionExpression": f"sweep_bucket = :bucket AND {condition}",
            "ExpressionAttributeValues": {":bucket": bucket, **values},
            "Limit": page_size,
        }
        while True:
            response = self._table.query(**arguments)
            order_ids = [str(item["order_id"]) for item in response.get("Items", [])]
            if order_ids:
                yield order_ids
            if "LastEvaluatedKey" not in response:
                return
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def due_for_check(self, now: datetime, *, page_size: int) -> Iterator[Sequence[str]]:
        # Each run starts at another shard, so a run that runs out of time does not always leave
        # the same shards for last.
        first = _epoch(now) // 60 % len(SWEEP_BUCKETS)
        for bucket in SWEEP_BUCKETS[first:] + SWEEP_BUCKETS[:first]:
            yield from self._due_index_pages(
                bucket, "next_check_at <= :now", {":now": _epoch(now)}, page_size
            )

    def pending_since_within(
        self, windows: Sequence[tuple[datetime, datetime]], *, page_size: int
    ) -> Iterator[Sequence[str]]:
        for bucket in PENDING_BUCKETS:
            for after, up_to in windows:
                low, high = _epoch(after) + 1, _epoch(up_to)
                if low <= high:
                    yield from self._due_index_pages(
                        bucket,
                        "next_check_at BETWEEN :low AND :high",
                        {":low": low, ":high": high},
                        page_size,
                    )

    def check_cursor(self) -> datetime | None:
        item = self._table.get_item(Key={"order_id": CHECK_CURSOR_KEY}, ConsistentRead=True).get("Item")
        return None if item is None else datetime.fromisoformat(str(item["cursor_at"]))

    def advance_check_cursor(self, *, expected: datetime | None, to: datetime) -> bool:
        condition = "attribute_not_exists(order_id)" if expected is None else "cursor_at = :expected"
        values: dict[str, Any] = {":to": to.isoformat()}
        if expected is not None:
            values[":expected"] = expected.isoformat()
        try:
            self._table.update_item(
                Key={"order_id": CHECK_CURSOR_KEY},
                UpdateExpression="SET cursor_at = :to",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True
