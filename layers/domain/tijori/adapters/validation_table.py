"""PayeeValidationsTable in DynamoDB (key `validation_id`, Paytm Payouts' orderId), on the lifecycle
engine's table mechanics: status + history by conditional transitions, the sparse DueForCheck
index (open validations; PENDING ones filed by their pending clock), the attempt lease on ACCEPTED
(`lease_until`), `first_sent_at` once a validate call may have reached Paytm. The penny is stored
as an exact decimal string (`penny_amount`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from tijori.adapters.item_fields import history_steps, text_field, time_field
from tijori.lifecycle.announcements import KindEvents, MerchantEvents
from tijori.lifecycle.store import (
    AlreadyExistsError,
    IndexedRepository,
    LifecycleTable,
    UpdateParts,
    history_entry,
    lease_seconds,
)
from tijori.validations.lifecycle import (
    VALIDATION_EVENT_TYPES,
    VALIDATION_LIFECYCLE,
    VALIDATION_OPEN_STATUSES,
    ValidationStatus,
)
from tijori.validations.models import PayeeValidation, ValidationStep
from tijori.validations.ports import ValidationAlreadyExistsError, ValidationFacts

__all__ = ["VALIDATION_EVENTS", "DynamoDbValidationRepository", "item_to_validation", "validation_to_item"]


def _facts(facts: ValidationFacts | None, parts: UpdateParts) -> UpdateParts:
    if facts is None:
        return parts
    for name, attribute in (
        ("code", "paytm_code"),
        ("paytm_status", "paytm_status"),
        ("paytm_order_id", "paytm_order_id"),
    ):
        value = getattr(facts, name)
        if value:
            parts.set(attribute, str(value))
    if facts.penny_amount is not None:
        parts.set("penny_amount", f"{facts.penny_amount:.2f}")
    return parts


def validation_to_item(validation: PayeeValidation) -> dict[str, Any]:
    item: dict[str, Any] = {
        "validation_id": validation.validation_id,
        "phone": validation.phone,
        "request_fingerprint": validation.request_fingerprint,
        "status": validation.status.value,
        "attempts": 0,
        "status_checks": 0,
        "reason": validation.reason or "accepted",
        "created_at": validation.created_at.isoformat(),
        "updated_at": validation.updated_at.isoformat(),
        "history": [
            history_entry(None, validation.status, validation.created_at, validation.history[0].reason)
        ],
    }
    if validation.callback_url:
        item["callback_url"] = validation.callback_url
    return item


def item_to_validation(item: Mapping[str, Any]) -> PayeeValidation:
    lease = item.get("lease_until")
    penny = item.get("penny_amount")
    return PayeeValidation(
        validation_id=str(item["validation_id"]),
        phone=str(item["phone"]),
        request_fingerprint=str(item["request_fingerprint"]),
        status=ValidationStatus(item["status"]),
        callback_url=text_field(item, "callback_url"),
        paytm_code=text_field(item, "paytm_code"),
        paytm_status=text_field(item, "paytm_status"),
        reason=text_field(item, "reason"),
        paytm_order_id=text_field(item, "paytm_order_id"),
        penny_amount=None if penny is None else Decimal(str(penny)).quantize(Decimal("0.01")),
        attempts=int(item.get("attempts", 0)),
        status_checks=int(item.get("status_checks", 0)),
        lease_until=None if lease is None else float(lease),
        first_sent_at=time_field(item, "first_sent_at"),
        pending_since=time_field(item, "pending_since"),
        created_at=datetime.fromisoformat(str(item["created_at"])),
        updated_at=datetime.fromisoformat(str(item["updated_at"])),
        history=history_steps(item, ValidationStep),
    )


# A final validation's event carries it as GET /v1/payee-validations/{validation_id} shows it.
VALIDATION_EVENTS = KindEvents(
    "validation", VALIDATION_EVENT_TYPES, lambda item: item_to_validation(item).public_view()
)


class DynamoDbValidationRepository(IndexedRepository):
    """The validations' repository; `get(validation_id) -> PayeeValidation | None` is what payouts
    with a `payee_validation_id` read (status and phone)."""

    def __init__(self, table: Any, events: MerchantEvents | None = None) -> None:
        self.table = table
        self.store: LifecycleTable[ValidationStatus] = LifecycleTable(
            table,
            key="validation_id",
            lifecycle=VALIDATION_LIFECYCLE,
            indexed=VALIDATION_OPEN_STATUSES,
            pending=ValidationStatus.PENDING,
            records_pending_since=True,
            events=VALIDATION_EVENTS,
            outlet=events,
        )

    def create(self, validation: PayeeValidation, *, first_check_at: datetime) -> None:
        try:
            self.store.put_new(validation_to_item(validation), first_check_at=first_check_at)
        except AlreadyExistsError:
            raise ValidationAlreadyExistsError(validation.validation_id) from None

    def get(self, validation_id: str) -> PayeeValidation | None:
        item = self.store.get_item(validation_id)
        return None if item is None else item_to_validation(item)

    def take_attempt(
        self, validation_id: str, *, wall_now: float, lease_until: float, at: datetime
    ) -> PayeeValidation | None:
        parts = UpdateParts()
        parts.set("updated_at", at.isoformat())
        item = self.store.take_over_attempt(
            validation_id,
            status=ValidationStatus.ACCEPTED,
            wall_now=wall_now,
            lease_until=lease_until,
            extra=parts,
        )
        return None if item is None else item_to_validation(item)

    def mark_sent(self, validation_id: str, *, at: datetime) -> None:
        self.table.update_item(
            Key={"validation_id": validation_id},
            UpdateExpression="SET first_sent_at = if_not_exists(first_sent_at, :at)",
            ConditionExpression="attribute_exists(validation_id)",
            ExpressionAttributeValues={":at": at.isoformat()},
        )

    def transition(
        self,
        validation_id: str,
        *,
        expected: ValidationStatus,
        target: ValidationStatus,
        at: datetime,
        reason: str,
        next_check_at: datetime | None,
        facts: ValidationFacts | None,
        pending_since: datetime | None = None,
        unless_leased_at: float | None = None,
    ) -> None:
        parts = _facts(facts, UpdateParts())
        parts.set("reason", reason)
        parts.removes.append("lease_until")
        if unless_leased_at is not None:
            parts.condition = "attribute_not_exists(lease_until) OR lease_until < :wall_now"
            parts.values[":wall_now"] = lease_seconds(unless_leased_at)
        self.store.transition(
            validation_id,
            expected=expected,
            target=target,
            at=at,
            reason=reason,
            next_check_at=next_check_at,
            pending_since=pending_since,
            extra=parts,
        )

    def record_check(
        self,
        validation_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        facts: ValidationFacts | None,
        reason: str | None = None,
        release_attempt: bool = False,
    ) -> None:
        parts = _facts(facts, UpdateParts())
        if reason is not None:
            parts.set("reason", reason)
        self.store.record_check(
            validation_id, at=at, next_check_at=next_check_at, extra=parts, release_attempt=release_attempt
        )

    def release_attempt(self, validation_id: str) -> None:
        self.store.release_attempt(validation_id)
