"""What the validation logic needs from the outside: Paytm Payouts' answers as plain values
(tijori.paytm.payouts_mapping.PayoutsAnswer), and the protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from tijori.lifecycle.store import AlreadyExistsError
from tijori.paytm.payouts_mapping import PayoutsAnswer
from tijori.validations.lifecycle import ValidationStatus
from tijori.validations.models import PayeeValidation

__all__ = [
    "PayoutsAnswer",
    "PayoutsPort",
    "ValidationAlreadyExistsError",
    "ValidationDispatcher",
    "ValidationFacts",
    "ValidationRepository",
]


class ValidationAlreadyExistsError(AlreadyExistsError):
    """A validation with this id is already stored."""


class PayoutsPort(Protocol):
    async def validate(
        self, order_id: str, *, phone: str, callback_url: str | None, timeout: float
    ) -> PayoutsAnswer: ...

    async def order_status(self, order_id: str, *, timeout: float) -> PayoutsAnswer: ...


@dataclass(frozen=True)
class ValidationFacts:
    """What Paytm's answer told about the validation, recorded with a transition or a check."""

    code: str | None = None
    paytm_status: str | None = None
    paytm_order_id: str | None = None
    penny_amount: Decimal | None = None


class ValidationRepository(Protocol):
    def create(self, validation: PayeeValidation, *, first_check_at: datetime) -> None:
        """Store a new validation; ValidationAlreadyExistsError if the id is taken."""

    def get(self, validation_id: str) -> PayeeValidation | None: ...

    def take_attempt(
        self, validation_id: str, *, wall_now: float, lease_until: float, at: datetime
    ) -> PayeeValidation | None:
        """The ACCEPTED validation, leased to this attempt and its attempts counted, if no lease
        runs; None otherwise (another attempt holds it, or it is no longer ACCEPTED)."""

    def mark_sent(self, validation_id: str, *, at: datetime) -> None:
        """Record that a validate call may reach Paytm now (unless one is recorded)."""

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
        """Move expected -> target conditionally (StaleTransitionError otherwise), ending any
        lease. `unless_leased_at` (wall-clock now): refuse while another attempt's lease runs."""

    def record_check(
        self,
        validation_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        facts: ValidationFacts | None,
        reason: str | None = None,
        release_attempt: bool = False,
    ) -> None: ...

    def release_attempt(self, validation_id: str) -> None: ...

    def postpone_check(self, validation_id: str, /, *, until: datetime) -> None: ...

    def leave_due_index(self, validation_id: str, /) -> None: ...

    def file_as_pending(self, validation_id: str, /, *, pending_since: datetime) -> None: ...

    def due_for_check(self, now: datetime, /, *, page_size: int) -> Iterator[Sequence[str]]: ...

    def pending_since_within(
        self, windows: Sequence[tuple[datetime, datetime]], /, *, page_size: int
    ) -> Iterator[Sequence[str]]: ...

    def check_cursor(self) -> datetime | None: ...

    def advance_check_cursor(self, *, expected: datetime | None, to: datetime) -> bool: ...


class ValidationDispatcher(Protocol):
    def dispatch_item(self, kind: str, item_id: str) -> None:
        """Queue an attempt at the validation for PayoutFunction."""

    def request_item_check(self, kind: str, item_id: str) -> None:
        """Queue a status check of the validation for PayoutFunction (sends nothing)."""
