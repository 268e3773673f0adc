"""Payout intake: accept a merchant's payout exactly once per order id (DESIGN.md rule 1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest, PrepaidLoadOptions, PrepaidPayoutRequest
from tijori.payouts.ports import PayoutAlreadyExistsError, PayoutDispatcher, PayoutRepository

# If a payout is still ACCEPTED this long after intake (the queue message was lost, or intake
# died between the write and the send), the scheduled sweep queues it again.
ACCEPTED_GRACE = timedelta(minutes=15)

_COMPARED_FIELDS = ("amount", "currency", "payee", "mode", "pending_days_limit", "narration", "metadata")
_PREPAID_COMPARED_FIELDS = ("amount", "currency", "payee", "narration", "metadata")


class _Validation(Protocol):
    @property
    def status(self) -> StrEnum: ...

    @property
    def phone(self) -> str: ...


class PayeeValidationLookup(Protocol):
    """Finds a payee validation (POST /v1/payee-validations) by its id."""

    def get(self, validation_id: str) -> _Validation | None: ...


class PayeeNotValidatedError(Exception):
    """The payout names a payee validation that does not vouch for its payee: nothing is stored or
    sent. `reason` is a stable name of why."""

    def __init__(self, order_id: str, validation_id: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.order_id = order_id
        self.validation_id = validation_id
        self.reason = reason


def check_payee_validation(request: PayoutRequest, validations: PayeeValidationLookup | None) -> None:
    """A payout naming a validation is accepted only when that validation is VALID for the same
    phone (README, "Payee validations")."""
    validation_id = request.payee_validation_id
    if validation_id is None:
        return

    def refuse(reason: str, message: str) -> PayeeNotValidatedError:
        return PayeeNotValidatedError(request.order_id, validation_id, reason, message)

    if request.payee.phone is None:
        raise refuse(
            "payee_not_a_phone",
            "a payee validation validates a phone: this payout's payee is not given by phone",
        )
    validation = None if validations is None else validations.get(validation_id)
    if validation is None:
        raise refuse("unknown_validation", f"no payee validation {validation_id!r}")
    if validation.status.value != "VALID":
        raise refuse(
            "validation_not_valid",
            f"payee validation {validation_id!r} is {validation.status.value}, not VALID: nothing was sent",
        )
    if validation.phone[-10:] != request.payee.phone[-10:]:
        raise refuse(
            "validation_for_another_phone",
            f"payee validation {validation_id!r} validated another phone than this payout's payee",
        )


class PayoutConflictError(Exception):
    """The order id exists with a different request: never a second payout."""

    def __init__(self, order_id: str, fields: list[str]) -> None:
        super().__init__(f"order_id {order_id!r} already exists with a different {', '.join(fields)}")
        self.order_id = order_id
        self.fields = fields


class PayoutInAnotherBatchError(Exception):
    """A batch row names an order id stored outside this batch (by another batch, or by
    POST /v1/payouts): never a second payout, and the batch does not count it as its own."""

    def __init__(self, order_id: str, batch_id: str | None) -> None:
        where = f"batch {batch_id!r}" if batch_id is not None else "POST /v1/payouts, outside any batch"
        super().__init__(f"order_id {order_id!r} was already accepted by {where}")
        self.order_id = order_id
        self.batch_id = batch_id


@dataclass(frozen=True)
class IntakeResult:
    payout: Payout
    created: bool


def conflicting_fields(stored: Payout, request: PayoutRequest | PrepaidPayoutRequest) -> list[str]:
    if stored.rail.value != request.rail:
        return ["rail"]
    if isinstance(request, PrepaidPayoutRequest):
        differ = [
            name for name in _PREPAID_COMPARED_FIELDS if getattr(stored, name) != getattr(request, name)
        ]
        # The stored terms are resolved (settings filled in); a field the request set must match.
        stored_terms = stored.prepaid.model_dump() if stored.prepaid is not None else {}
        asked = request.prepaid.model_dump(exclude_none=True)
        if any(stored_terms.get(name) != value for name, value in asked.items()):
            differ.append("prepaid")
        return differ or ["prepaid"]
    differ = [name for name in _COMPARED_FIELDS if getattr(stored, name) != getattr(request, name)]
    if stored.payee_validation_id != request.payee_validation_id:
        differ.append("payee_validation_id")
    return differ


def submit_payout(
    request: PayoutRequest | PrepaidPayoutRequest,
    *,
    repository: PayoutRepository,
    dispatcher: PayoutDispatcher,
    now: datetime,
    prepaid_defaults: PrepaidLoadOptions | None = None,
    validations: PayeeValidationLookup | None = None,
    batch_id: str | None = None,
) -> IntakeResult:
    """Store and queue a new payout, or return the stored one for an identical replay.

    A replay of a payout that is still ACCEPTED is queued again: if the first intake died between
    the write and the send, the retry completes it; a duplicate message is harmless because the
    payout function claims a payout by a conditional write.
    """
    if isinstance(request, PayoutRequest):
        check_payee_validation(request, validations)
    payout = Payout.accept(request, now, prepaid_defaults=prepaid_defaults, batch_id=batch_id)
    try:
        repository.create(payout, first_check_at=now + ACCEPTED_GRACE)
        created = True
    except PayoutAlreadyExistsError:
        stored = repository.get(request.order_id)
        if stored is None:  # deleted between the two calls: only an operator can do that
            raise
        if stored.request_fingerprint != payout.request_fingerprint:
            raise PayoutConflictError(request.order_id, conflicting_fields(stored, request)) from None
        if batch_id is not None and stored.batch_id != batch_id:
            raise PayoutInAnotherBatchError(request.order_id, stored.batch_id) from None
        payout, created = stored, False
    if payout.status is PayoutStatus.ACCEPTED:
        dispatcher.dispatch(payout.order_id)
    return IntakeResult(payout=payout, created=created)
