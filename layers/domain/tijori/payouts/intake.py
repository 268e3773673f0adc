"""Payout intake: accept a merchant's payout exactly once per order id (DESIGN.md rule 1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest, PrepaidLoadOptions, PrepaidPayoutRequest
from tijori.payouts.ports import PayoutAlreadyExistsError, PayoutDispatcher, PayoutRepository

# If a payout is still ACCEPTED this long after intake (the queue message was lost, or intake
# died between the write and the send), the scheduled sweep queues it again.
ACCEPTED_GRACE = timedelta(minutes=15)

_COMPARED_FIELDS = ("amount", "currency", "payee", "mode", "pending_days_limit", "narration", "metadata")
_PREPAID_COMPARED_FIELDS = ("amount", "currency", "payee", "narration", "metadata")


class PayoutConflictError(Exception):
    """The order id exists with a different request: never a second payout."""

    def __init__(self, order_id: str, fields: list[str]) -> None:
        super().__init__(f"order_id {order_id!r} already exists with a different {', '.join(fields)}")
        self.order_id = order_id
        self.fields = fields


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
) -> IntakeResult:
    """Store and queue a new payout, or return the stored one for an identical replay.

    A replay of a payout that is still ACCEPTED is queued again: if the first intake died between
    the write and the send, the retry completes it; a duplicate message is harmless because the
    payout function claims a payout by a conditional write.
    """
    payout = Payout.accept(request, now, prepaid_defaults=prepaid_defaults)
    try:
        repository.create(payout, first_check_at=now + ACCEPTED_GRACE)
        created = True
    except PayoutAlreadyExistsError:
        stored = repository.get(request.order_id)
        if stored is None:  # deleted between the two calls: only an operator can do that
            raise
        if stored.request_fingerprint != payout.request_fingerprint:
            raise PayoutConflictError(request.order_id, conflicting_fields(stored, request)) from None
        payout, created = stored, False
    if payout.status is PayoutStatus.ACCEPTED:
        dispatcher.dispatch(payout.order_id)
    return IntakeResult(payout=payout, created=created)
