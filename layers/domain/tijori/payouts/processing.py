"""What the payout function does with one queued payout, and what the sweep finds overdue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout
from tijori.payouts.ports import PayoutDispatcher, PayoutRepository, StaleTransitionError

# A PROCESSING payout not heard of for this long is looked at again by the sweep.
PROCESSING_GRACE = timedelta(minutes=15)


class UnknownPayoutError(Exception):
    """A queued order id that the table does not hold: the message is poison, not the payout."""


def claim_payout(order_id: str, *, repository: PayoutRepository, now: datetime) -> Payout | None:
    """Move ACCEPTED -> PROCESSING by a conditional write.

    Returns the claimed payout, or None when another delivery already claimed it (a duplicated SQS
    message must not lead to a second call to Paytm). Raises UnknownPayoutError for an order id
    that does not exist, so the message fails and ends in the DLQ rather than vanishing.
    """
    try:
        return repository.transition(
            order_id,
            expected=PayoutStatus.ACCEPTED,
            target=PayoutStatus.PROCESSING,
            at=now,
            reason="claimed by the payout function",
            next_check_at=now + PROCESSING_GRACE,
            count_attempt=True,
        )
    except StaleTransitionError:
        if repository.get(order_id) is None:
            raise UnknownPayoutError(order_id) from None
        return None


def requeue_overdue_accepted(
    *, repository: PayoutRepository, dispatcher: PayoutDispatcher, now: datetime, limit: int
) -> Sequence[str]:
    """Queue again every payout that is still ACCEPTED past its grace time; return their ids."""
    requeued: list[str] = []
    for order_id in repository.due_for_check(now, limit=limit):
        payout = repository.get(order_id)
        if payout is not None and payout.status is PayoutStatus.ACCEPTED:
            dispatcher.dispatch(order_id)
            requeued.append(order_id)
    return requeued
