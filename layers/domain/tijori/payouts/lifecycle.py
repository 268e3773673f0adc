"""The payout lifecycle as an explicit table (DESIGN.md, "Payout lifecycle").

Every write of a status goes through `check_transition`, and the store makes it conditional on
the expected previous status, so two writers can never both finalise and nothing goes backwards.
"""

from __future__ import annotations

from enum import StrEnum

from tijori.lifecycle.states import IllegalTransitionError, StatusTable

__all__ = [
    "ALLOWED_TRANSITIONS",
    "FINAL_STATUSES",
    "PAYOUT_EVENT_TYPES",
    "PAYOUT_LIFECYCLE",
    "IllegalTransitionError",
    "PayoutStatus",
    "check_transition",
    "is_final",
]


class PayoutStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    PROCESSING = "PROCESSING"
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    REVERSED = "REVERSED"
    NEEDS_REVIEW = "NEEDS_REVIEW"


PAYOUT_LIFECYCLE: StatusTable[PayoutStatus] = StatusTable(
    "payout",
    {
        PayoutStatus.ACCEPTED: frozenset({PayoutStatus.PROCESSING, PayoutStatus.NEEDS_REVIEW}),
        PayoutStatus.PROCESSING: frozenset(
            {
                PayoutStatus.SUCCESS,
                PayoutStatus.FAILED,
                PayoutStatus.PENDING,
                PayoutStatus.NEEDS_REVIEW,
            }
        ),
        PayoutStatus.PENDING: frozenset(
            {
                PayoutStatus.SUCCESS,
                PayoutStatus.REVERSED,
                PayoutStatus.FAILED,
                PayoutStatus.NEEDS_REVIEW,
            }
        ),
        # A later, definitive status check that matches the payout settles one that needed review; a
        # definitive answer that does not match is recorded (NEEDS_REVIEW -> NEEDS_REVIEW) for a human.
        PayoutStatus.NEEDS_REVIEW: frozenset(
            {PayoutStatus.SUCCESS, PayoutStatus.FAILED, PayoutStatus.REVERSED, PayoutStatus.NEEDS_REVIEW}
        ),
        PayoutStatus.SUCCESS: frozenset(),
        PayoutStatus.FAILED: frozenset(),
        PayoutStatus.REVERSED: frozenset(),
    },
)
ALLOWED_TRANSITIONS = PAYOUT_LIFECYCLE.allowed
FINAL_STATUSES = PAYOUT_LIFECYCLE.finals
is_final = PAYOUT_LIFECYCLE.is_final
check_transition = PAYOUT_LIFECYCLE.check
# The event announcing each final status to the merchant (tijori.lifecycle.announcements).
PAYOUT_EVENT_TYPES = {
    PayoutStatus.SUCCESS: "PayoutSucceeded",
    PayoutStatus.FAILED: "PayoutFailed",
    PayoutStatus.REVERSED: "PayoutReversed",
}
