"""What happens to a verified callback: stored, de-duplicated, then at most one status check.

A callback never changes a payout (DESIGN.md rule 6). In order:
1. it is stored as received (raw body, headers, time, unknown field names), before anything else
   and before it is answered, and kept for 90 days;
2. the first delivery of the same news (kind, order id, status, Paytm id) claims it by a
   conditional write; every later or concurrent one is marked `duplicate_of` the first and stops;
3. if its order id names a payout, a status check of that payout is requested; if it names nothing
   known, that is recorded and nothing is triggered.
If the request for a check fails, the claim is released so that Paytm's next delivery can try again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from tijori.callbacks.known_fields import CallbackKind
from tijori.callbacks.verification import VerifiedCallback

CALLBACK_RETENTION = timedelta(days=90)


class CallbackOutcome(StrEnum):
    RECEIVED = "received"  # stored, not yet decided (a crash in between leaves this)
    CHECK_REQUESTED = "check_requested"
    UNKNOWN_ORDER = "unknown_order"
    DUPLICATE = "duplicate"
    CHECK_REQUEST_FAILED = "check_request_failed"


@dataclass(frozen=True)
class StoredCallback:
    """A verified callback as it is kept: exactly what arrived, plus what Tijori made of it."""

    callback_id: str
    kind: CallbackKind
    order_id: str | None
    raw_body: bytes
    headers: Mapping[str, str]
    received_at: datetime
    delivery_fingerprint: str
    unknown_fields: list[str] = field(default_factory=list)

    @property
    def expires_at(self) -> datetime:
        return self.received_at + CALLBACK_RETENTION


@dataclass(frozen=True)
class CallbackReceipt:
    callback_id: str
    outcome: CallbackOutcome
    duplicate_of: str | None = None


class CallbackStore(Protocol):
    def save(self, callback: StoredCallback) -> None:
        """Store a new callback (outcome RECEIVED)."""

    def claim_first_delivery(self, callback: StoredCallback) -> str | None:
        """Atomically claim the callback's delivery fingerprint: None if this callback is the first
        with it, else the id of the callback that claimed it first."""

    def release_first_delivery(self, callback: StoredCallback) -> None:
        """Give the fingerprint back, so that a later delivery of the same news may claim it."""

    def record_outcome(self, callback_id: str, outcome: CallbackOutcome, *, duplicate_of: str | None) -> None:
        """Record what was done with a stored callback."""


class _Named(Protocol):
    @property
    def order_id(self) -> str: ...


class PayoutLookup(Protocol):
    """Finds the item a callback names (a payout; for PG callbacks a payment, then a payout)."""

    def get(self, order_id: str) -> _Named | None: ...


class StatusCheckRequester(Protocol):
    def request_check(self, order_id: str) -> None:
        """Ask the payout function to check this payout's status with Paytm."""


def new_callback_id() -> str:
    return str(uuid.uuid4())


def receive_callback(
    callback: VerifiedCallback,
    *,
    raw_body: bytes,
    headers: Mapping[str, str],
    received_at: datetime,
    store: CallbackStore,
    payouts: PayoutLookup,
    status_checks: StatusCheckRequester,
    make_callback_id: Callable[[], str] = new_callback_id,
) -> CallbackReceipt:
    stored = StoredCallback(
        callback_id=make_callback_id(),
        kind=callback.kind,
        order_id=callback.order_id,
        raw_body=raw_body,
        headers=dict(headers),
        received_at=received_at,
        delivery_fingerprint=callback.delivery_fingerprint,
        unknown_fields=callback.unknown_fields,
    )
    store.save(stored)

    first = store.claim_first_delivery(stored)
    if first is not None:
        store.record_outcome(stored.callback_id, CallbackOutcome.DUPLICATE, duplicate_of=first)
        return CallbackReceipt(stored.callback_id, CallbackOutcome.DUPLICATE, duplicate_of=first)

    try:
        payout = payouts.get(stored.order_id) if stored.order_id is not None else None
        if payout is None:
            outcome = CallbackOutcome.UNKNOWN_ORDER
        else:
            status_checks.request_check(payout.order_id)
            outcome = CallbackOutcome.CHECK_REQUESTED
    except Exception:
        # Whatever failed (table read, queue send), no check was requested: free the claim so that
        # Paytm's retry of this callback is not taken for a duplicate, and let the caller fail.
        store.release_first_delivery(stored)
        store.record_outcome(stored.callback_id, CallbackOutcome.CHECK_REQUEST_FAILED, duplicate_of=None)
        raise
    store.record_outcome(stored.callback_id, outcome, duplicate_of=None)
    return CallbackReceipt(stored.callback_id, outcome)
