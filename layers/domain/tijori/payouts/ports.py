"""What the payout logic needs from the outside world, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tijori.lifecycle.store import AlreadyExistsError, DueEntry, StaleTransitionError
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout

__all__ = [
    "DueEntry",
    "MetricsPort",
    "NoMetrics",
    "OutcomeDetails",
    "PayoutAlreadyExistsError",
    "PayoutDispatcher",
    "PayoutRepository",
    "StaleTransitionError",
]


class PayoutAlreadyExistsError(AlreadyExistsError):
    """A payout with this order id is already stored."""


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
        next_check_at: datetime | DueEntry | None,
        count_attempt: bool = False,
        details: OutcomeDetails | None = None,
        lease_until: float | None = None,
        unless_leased_at: float | None = None,
        pending_since: datetime | None = None,
        first_send_at: datetime | None = None,
        read_back: bool = False,
    ) -> Payout | None:
        """Move expected -> target conditionally; raise StaleTransitionError if not in `expected`.

        `next_check_at`: when the scheduled run should look at it next; None takes it out of the
        due index (no more checks). A final target always leaves the index. A PENDING target is
        filed by `pending_since` (its pending clock start) instead: it is checked at fixed ages
        from then (pending.CHECK_AGES) without any write per check.
        `lease_until` (wall-clock epoch seconds) marks an attempt in flight; any transition that
        does not set it clears it. `unless_leased_at` (wall-clock now): a writer that is not the
        attempt refuses to overtake one whose lease still runs (StaleTransitionError).
        `first_send_at`: record the first send to Paytm at this time, unless one is recorded.
        `read_back`: return the payout as the write left it; otherwise None, and the write's answer
        carries no item (most writers never look at it: asking for it is bytes to send and parse).
        """

    def take_over_attempt(
        self, order_id: str, *, wall_now: float, lease_until: float, first_send_at: datetime
    ) -> Payout | None:
        """Take a PROCESSING payout whose attempt lease has expired (the attempt died or gave up),
        recording `first_send_at` unless a first send is recorded; None if it is not PROCESSING or
        its lease still runs."""

    def record_check(
        self,
        order_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        details: OutcomeDetails | None,
        release_attempt: bool = False,
    ) -> None:
        """Count one status check and set when the next one is due, without changing status (and,
        with `release_attempt`, end the attempt's lease in the same write)."""

    def release_attempt(self, order_id: str) -> None:
        """End the lease of the attempt in flight, so the next delivery may take over at once."""

    def unmark_sent(self, order_id: str, *, at: datetime) -> None:
        """Forget the first send recorded at `at` (Paytm refused it as a configuration error)."""

    def postpone_check(self, order_id: str, *, until: datetime) -> None:
        """Check an item of the index again at `until` (due bucket), without reading it: also
        works on an unreadable item, and takes a PENDING one out of its check ages until then."""

    def leave_due_index(self, order_id: str) -> None:
        """Take an item out of the due index (it is final, or nothing more can be asked)."""

    def file_as_pending(self, order_id: str, *, pending_since: datetime) -> None:
        """File a PENDING payout found among the due items (stored before pending payouts were
        filed by age) under its pending clock, like a fresh PENDING transition does."""

    def due_for_check(self, now: datetime, *, page_size: int) -> Iterator[Sequence[str]]:
        """Pages of order ids of open, non-pending payouts whose next check time has passed, every
        shard of the due index; lazily, so a caller out of time stops reading."""

    def pending_since_within(
        self, windows: Sequence[tuple[datetime, datetime]], *, page_size: int
    ) -> Iterator[Sequence[str]]:
        """Pages of order ids of PENDING payouts whose pending clock started within one of the
        half-open windows (after, up to], every shard; lazily."""

    def check_cursor(self) -> datetime | None:
        """Up to when the scheduled runs have checked pending payouts; None before the first run."""

    def advance_check_cursor(self, *, expected: datetime | None, to: datetime) -> bool:
        """Move the cursor from `expected` to `to`; False if another run moved it first."""


class PayoutDispatcher(Protocol):
    def dispatch(self, order_id: str) -> None:
        """Queue the payout for the payout function."""


class MetricsPort(Protocol):
    def count(self, name: str, value: int = 1) -> None: ...


class NoMetrics:
    """For callers that publish nothing (the operator CLI, unit tests that do not look)."""

    def count(self, name: str, value: int = 1) -> None:
        return None
