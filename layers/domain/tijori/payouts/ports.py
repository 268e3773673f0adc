"""What the payout logic needs from the outside world, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout


class PayoutAlreadyExistsError(Exception):
    """A payout with this order id is already stored."""


class StaleTransitionError(Exception):
    """The payout was not in the expected status any more: another writer got there first."""


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
    ) -> Payout:
        """Move expected -> target conditionally; raise StaleTransitionError if not in `expected`."""

    def due_for_check(self, now: datetime, *, limit: int) -> Sequence[str]:
        """Order ids of non-final payouts whose next check time has passed, oldest first."""


class PayoutDispatcher(Protocol):
    def dispatch(self, order_id: str) -> None:
        """Queue the payout for the payout function."""
