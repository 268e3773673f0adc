"""The payment and refund lifecycles as explicit tables (on tijori.lifecycle.states).

Payment: CREATED (initiateTransaction gave a txnToken; the customer has not paid) -> PAID, FAILED,
EXPIRED (the token's 15 minutes passed and Paytm knows no attempt), PENDING (an attempt Paytm has
not settled), NEEDS_REVIEW (an answer that does not match, or pending past seed 002's 3 days).
ACCEPTED and PROCESSING are for payments Tijori initiates itself from the queue (auto-debit).

Refund: ACCEPTED (reserved against the payment, queued) -> PROCESSING (an attempt holds it) ->
SUCCESS, FAILED (its amount is refundable again), PENDING, NEEDS_REVIEW.
"""

from __future__ import annotations

from enum import StrEnum

from tijori.lifecycle.states import StatusTable


class PaymentStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    PROCESSING = "PROCESSING"
    CREATED = "CREATED"
    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    NEEDS_REVIEW = "NEEDS_REVIEW"


_P = PaymentStatus
PAYMENT_LIFECYCLE: StatusTable[PaymentStatus] = StatusTable(
    "payment",
    {
        _P.ACCEPTED: frozenset({_P.PROCESSING, _P.NEEDS_REVIEW}),
        _P.PROCESSING: frozenset({_P.PENDING, _P.PAID, _P.FAILED, _P.NEEDS_REVIEW}),
        _P.CREATED: frozenset({_P.PENDING, _P.PAID, _P.FAILED, _P.EXPIRED, _P.NEEDS_REVIEW}),
        _P.PENDING: frozenset({_P.PAID, _P.FAILED, _P.NEEDS_REVIEW}),
        # A later definitive answer that matches settles a review; one that does not is recorded
        # (NEEDS_REVIEW -> NEEDS_REVIEW) for a human.
        _P.NEEDS_REVIEW: frozenset({_P.PAID, _P.FAILED, _P.EXPIRED, _P.NEEDS_REVIEW}),
        _P.PAID: frozenset(),
        _P.FAILED: frozenset(),
        _P.EXPIRED: frozenset(),
    },
)
# The statuses that keep a payment in the due index (still to be asked about).
PAYMENT_OPEN_STATUSES = frozenset(PAYMENT_LIFECYCLE.allowed) - PAYMENT_LIFECYCLE.finals
# The event announcing each final status to the merchant (tijori.lifecycle.announcements).
PAYMENT_EVENT_TYPES = {
    PaymentStatus.PAID: "PaymentPaid",
    PaymentStatus.FAILED: "PaymentFailed",
    PaymentStatus.EXPIRED: "PaymentExpired",
}


class RefundStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    PROCESSING = "PROCESSING"
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    NEEDS_REVIEW = "NEEDS_REVIEW"


_R = RefundStatus
REFUND_LIFECYCLE: StatusTable[RefundStatus] = StatusTable(
    "refund",
    {
        _R.ACCEPTED: frozenset({_R.PROCESSING, _R.NEEDS_REVIEW}),
        _R.PROCESSING: frozenset({_R.SUCCESS, _R.FAILED, _R.PENDING, _R.NEEDS_REVIEW}),
        _R.PENDING: frozenset({_R.SUCCESS, _R.FAILED, _R.NEEDS_REVIEW}),
        _R.NEEDS_REVIEW: frozenset({_R.SUCCESS, _R.FAILED, _R.NEEDS_REVIEW}),
        _R.SUCCESS: frozenset(),
        _R.FAILED: frozenset(),
    },
)
REFUND_OPEN_STATUSES = frozenset(REFUND_LIFECYCLE.allowed) - REFUND_LIFECYCLE.finals
REFUND_EVENT_TYPES = {RefundStatus.SUCCESS: "RefundSucceeded", RefundStatus.FAILED: "RefundFailed"}
