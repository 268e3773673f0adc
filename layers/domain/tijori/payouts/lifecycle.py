"""The payout lifecycle as an explicit table (DESIGN.md, "Payout lifecycle").

Every write of a status goes through `check_transition`, and the store makes it conditional on
the expected previous status, so two writers can never both finalise and nothing goes backwards.
"""

from __future__ import annotations

from enum import StrEnum


class PayoutStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    PROCESSING = "PROCESSING"
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    REVERSED = "REVERSED"
    NEEDS_REVIEW = "NEEDS_REVIEW"


FINAL_STATUSES: frozenset[PayoutStatus] = frozenset(
    {PayoutStatus.SUCCESS, PayoutStatus.FAILED, PayoutStatus.REVERSED}
)

ALLOWED_TRANSITIONS: dict[PayoutStatus, frozenset[PayoutStatus]] = {
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
}


class IllegalTransitionError(ValueError):
    """A status change the lifecycle table does not allow."""


def is_final(status: PayoutStatus) -> bool:
    return status in FINAL_STATUSES


def check_transition(current: PayoutStatus, target: PayoutStatus) -> None:
    if target not in ALLOWED_TRANSITIONS[current]:
        raise IllegalTransitionError(f"{current} -> {target} is not an allowed payout transition")
