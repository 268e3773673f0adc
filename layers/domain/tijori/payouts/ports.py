"""What the payout logic needs from the outside world, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout


class PayoutAlreadyExistsError(Exception):
    """A payout with this order id is already stored."""


class StaleTransitionError(Exception):
    """The payout was not in the expected status any more: another writer got there first."""


@dataclass(frozen=True)
class OutcomeDetails:
    """What Paytm said, recorded with a transition or a check."""

    status_code: str | None = None
    status_message: str | None = None
    paytm_txn_id: str | None = None


class PayoutRepository(Protocol):
    def create(self, payout: Payout, *, first_check_at: datetime) -> None:
        """Store a new payout; raise PayoutAlreadyExistsError if the order id exists."""

    def get(self, order_id: str) -> Payout | None: ...

    def transition(
        self,
        order_id: str,
        *,
        expected: PayoutStatus,
        target: PayoutStatus,
        at: datetime,
        reason: str,
        next_check_at: datetime | None,
        count_attempt: bool = False,
        details: OutcomeDetails | None = None,
        lease_until: float | None = None,
    ) -> Payout:
        """Move expected -> target conditionally; raise StaleTransitionError if not in `expected`.

        `lease_until` (wall-clock epoch seconds) marks an attempt in flight; any transition that
        does not set it clears it."""

    def take_over_attempt(self, order_id: str, *, wall_now: float, lease_until: float) -> Payout | None:
        """Take a PROCESSING payout whose attempt lease has expired (the attempt died or gave up);
        None if it is not PROCESSING or its lease still runs."""

    def record_check(
        self, order_id: str, *, at: datetime, next_check_at: datetime, details: OutcomeDetails | None
    ) -> None:
        """Count one status check and set when the next one is due, without changing status."""

    def release_attempt(self, order_id: str) -> None:
        """End the lease of the attempt in flight, so the next delivery may take over at once."""

    def due_for_check(self, now: datetime, *, limit: int) -> Sequence[str]:
        """Order ids of non-final payouts whose next check time has passed, oldest first."""


class PayoutDispatcher(Protocol):
    def dispatch(self, order_id: str) -> None:
        """Queue the payout for the payout function."""
