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
- `batch_id`: only on a payout taken in by a payout batch; the sparse GSI `ByBatch` lists a
  batch's payouts (see BY_BATCH_INDEX);
- one control item, `order_id = "#pending-checks-cursor"` (not a valid order id): up to when the
  scheduled runs have checked pending payouts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from tijori.batches.progress import BatchMember
from tijori.lifecycle.announcements import KindEvents, MerchantEvents
from tijori.lifecycle.store import (
    CHECK_CURSOR_KEY,
    DUE_FOR_CHECK_INDEX,
    LEGACY_SWEEP_BUCKET,
    PENDING_BUCKETS,
    PENDING_SHARDS,
    SWEEP_BUCKETS,
    SWEEP_SHARDS,
    AlreadyExistsError,
    IndexedRepository,
    LifecycleTable,
    UpdateParts,
    history_entry,
    lease_seconds,
    pending_bucket,
    sweep_bucket,
    update_if,
)
from tijori.payouts.lifecycle import PAYOUT_EVENT_TYPES, PAYOUT_LIFECYCLE, PayoutStatus
from tijori.payouts.models import (
    Payee,
    Payout,
    PayoutMode,
    PayoutRail,
    PrepaidLoadTerms,
    PrepaidPayee,
    Transition,
)
from tijori.payouts.ports import DueEntry, OutcomeDetails, PayoutAlreadyExistsError

__all__ = [
    "CHECK_CURSOR_KEY",
    "DUE_FOR_CHECK_INDEX",
    "LEGACY_SWEEP_BUCKET",
    "PAYOUT_EVENTS",
    "PENDING_BUCKETS",
    "PENDING_SHARDS",
    "SWEEP_BUCKETS",
    "SWEEP_SHARDS",
    "SWEPT_STATUSES",
    "DynamoDbPayoutRepository",
    "item_to_payout",
    "payout_to_item",
    "pending_bucket",
    "sweep_bucket",
]

# Sparse: keyed by `batch_id`, which only payouts taken in by a payout batch carry; it projects
# what a batch's progress shows, so one query (no read of each payout) answers
# GET /v1/payout-batches/{batch_id}.
BY_BATCH_INDEX = "ByBatch"

SWEPT_STATUSES = frozenset(
    {PayoutStatus.ACCEPTED, PayoutStatus.PROCESSING, PayoutStatus.PENDING, PayoutStatus.NEEDS_REVIEW}
)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _transition_item(transition: Transition) -> dict[str, Any]:
    return history_entry(transition.from_status, transition.to_status, transition.at, transition.reason)


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
        "payee_validation_id": payout.payee_validation_id,
        "batch_id": payout.batch_id,
    }
    item.update({key: value for key, value in optional.items() if value is not None})
    if payout.rail is not PayoutRail.WALLET:  # a wallet payout's item is as it always was
        item["rail"] = payout.rail.value
    if payout.prepaid is not None:
        item["prepaid"] = payout.prepaid.model_dump(mode="json", exclude_none=True)  # fee as text
    return item


_PREPAID_PAYEE_FIELDS = ("urn", "customer_id", "customer_mobile", "subwallet_id", "account_number")


def _stored_payee(stored: Mapping[str, Any], rail: PayoutRail) -> Payee | PrepaidPayee:
    if rail is PayoutRail.PREPAID:
        found = {name: str(stored[name]) for name in _PREPAID_PAYEE_FIELDS if stored.get(name) is not None}
        return PrepaidPayee.model_construct(_fields_set=set(found), **found)
    values = {
        name: str(stored[name]) for name in ("phone", "email", "sso_id") if stored.get(name) is not None
    }
    return Payee.model_construct(_fields_set=set(values), **values)


def _stored_terms(stored: Mapping[str, Any] | None) -> PrepaidLoadTerms | None:
    # DynamoDB numbers come back as Decimal: the model takes them as its int and Decimal fields.
    return None if stored is None else PrepaidLoadTerms.model_validate(stored)


def item_to_payout(item: Mapping[str, Any]) -> Payout:
    def text(name: str) -> str | None:
        value = item.get(name)
        return None if value is None else str(value)

    pending_days = item.get("pending_days_limit")
    rail = PayoutRail(item.get("rail", PayoutRail.WALLET.value))
    return Payout(
        rail=rail,
        prepaid=_stored_terms(item.get("prepaid")),
        payee_validation_id=text("payee_validation_id"),
        batch_id=text("batch_id"),
        order_id=str(item["order_id"]),
        amount=Decimal(str(item["amount"])),
        currency=str(item["currency"]),
        # Validated at intake; read back as stored, so that a rule tightened later (say, which
        # phones intake accepts) never makes an existing payout unreadable.
        payee=_stored_payee(item["payee"], rail),
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


# A final payout's event carries the payout as GET /v1/payouts/{order_id} shows it.
PAYOUT_EVENTS = KindEvents("payout", PAYOUT_EVENT_TYPES, lambda item: item_to_payout(item).public_view())


def _details(details: OutcomeDetails | None, parts: UpdateParts) -> UpdateParts:
    if details is not None:
        for attribute, value in (
            ("last_status_code", details.status_code),
            ("last_status_message", details.status_message),
            ("paytm_txn_id", details.paytm_txn_id),
        ):
            if value is not None:
                parts.set(attribute, value)
    return parts


class DynamoDbPayoutRepository(IndexedRepository):
    """PayoutRepository over a boto3 DynamoDB Table resource (injected), on the lifecycle engine's
    table mechanics (tijori.lifecycle.store)."""

    def __init__(self, table: Any, events: MerchantEvents | None = None) -> None:
        self._table = table
        self.store: LifecycleTable[PayoutStatus] = LifecycleTable(
            table,
            key="order_id",
            lifecycle=PAYOUT_LIFECYCLE,
            indexed=SWEPT_STATUSES,
            pending=PayoutStatus.PENDING,
            events=PAYOUT_EVENTS,
            outlet=events,
            # ACCEPTED's entry is its intake grace, kept by PROCESSING (or an unknown outcome's
            # first check, a minute): a final payout carries its event mark on it.
            near_due=frozenset({PayoutStatus.ACCEPTED, PayoutStatus.PROCESSING}),
        )

    def create(self, payout: Payout, *, first_check_at: datetime) -> None:
        try:
            self.store.put_new(payout_to_item(payout), first_check_at=first_check_at)
        except AlreadyExistsError:
            raise PayoutAlreadyExistsError(payout.order_id) from None

    def get(self, order_id: str) -> Payout | None:
        item = self.store.get_item(order_id)
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
        parts = _details(details, UpdateParts())
        if count_attempt:
            parts.sets.append("attempts = attempts + :one")
            parts.values[":one"] = 1
        if lease_until is not None:
            parts.sets.append("lease_until = :lease")
            parts.values[":lease"] = lease_seconds(lease_until)
        else:
            parts.removes.append("lease_until")
        if first_send_at is not None:
            parts.sets.append("first_sent_at = if_not_exists(first_sent_at, :first_send)")
            parts.values[":first_send"] = first_send_at.isoformat()
        if unless_leased_at is not None:
            parts.condition = "attribute_not_exists(lease_until) OR lease_until < :wall_now"
            parts.values[":wall_now"] = lease_seconds(unless_leased_at)
        item = self.store.transition(
            order_id,
            expected=expected,
            target=target,
            at=at,
            reason=reason,
            next_check_at=next_check_at,
            pending_since=pending_since,
            extra=parts,
            read_back=read_back,
        )
        return None if item is None else item_to_payout(item)

    def take_over_attempt(
        self, order_id: str, *, wall_now: float, lease_until: float, first_send_at: datetime
    ) -> Payout | None:
        first_send = UpdateParts(
            sets=["first_sent_at = if_not_exists(first_sent_at, :first_send)"],
            values={":first_send": first_send_at.isoformat()},
        )
        item = self.store.take_over_attempt(
            order_id,
            status=PayoutStatus.PROCESSING,
            wall_now=wall_now,
            lease_until=lease_until,
            extra=first_send,
        )
        return None if item is None else item_to_payout(item)

    def record_check(
        self,
        order_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        details: OutcomeDetails | None,
        release_attempt: bool = False,
    ) -> None:
        parts = _details(details, UpdateParts())
        self.store.record_check(
            order_id, at=at, next_check_at=next_check_at, extra=parts, release_attempt=release_attempt
        )

    def release_attempt(self, order_id: str) -> None:
        self.store.release_attempt(order_id)

    def unmark_sent(self, order_id: str, *, at: datetime) -> None:
        update_if(
            self._table,
            Key={"order_id": order_id},
            UpdateExpression="REMOVE first_sent_at",
            ConditionExpression="first_sent_at = :at",
            ExpressionAttributeValues={":at": at.isoformat()},
        )

    def members_of_batch(self, batch_id: str) -> list[BatchMember]:
        """Every payout of a payout batch, from the sparse `ByBatch` index (only payouts taken in
        by a batch carry `batch_id`), page by page."""
        arguments: dict[str, Any] = {
            "IndexName": BY_BATCH_INDEX,
            "KeyConditionExpression": Key("batch_id").eq(batch_id),
        }
        members: list[BatchMember] = []
        while True:
            page = self._table.query(**arguments)
            members.extend(
                BatchMember(
                    order_id=str(item["order_id"]),
                    status=PayoutStatus(item["status"]),
                    amount=Decimal(str(item["amount"])),
                    paytm_txn_id=_text_or_none(item.get("paytm_txn_id")),
                    last_status_code=_text_or_none(item.get("last_status_code")),
                    last_status_message=_text_or_none(item.get("last_status_message")),
                )
                for item in page.get("Items", [])
            )
            if "LastEvaluatedKey" not in page:
                return members
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
