"""What Paytm's answers decide for a payment or a refund: the mapping tables, pure.

Payments (seed 002: "before marking a transaction as success ... re-verify transaction status and
order amount by calling Transaction Status API"). A callback never decides anything: it only asks
for a status check, and this table is applied to the status API's answer.

| status API answer                        | CREATED, token live | CREATED, token over | PENDING | REVIEW  |
|------------------------------------------|---------------------|---------------------|---------|---------|
| TXN_SUCCESS, same MID, order and amount  | PAID                | PAID                | PAID    | PAID    |
| TXN_SUCCESS, another MID, order, amount  | NEEDS_REVIEW        | NEEDS_REVIEW        | REVIEW  | REVIEW  |
| TXN_FAILURE, 141 (no attempt completed)  | (wait)              | EXPIRED             | FAILED  | EXPIRED |
| TXN_FAILURE, any other code              | FAILED              | FAILED              | FAILED  | FAILED  |
| TXN_PENDING / PENDING                    | (wait) *            | PENDING             | (wait)  | (wait)  |
| request refused: order unknown (334)     | (wait)              | EXPIRED             | (wait)  | (wait)  |
| ambiguous, configuration error           | (wait)              | (wait)              | (wait)  | (wait)  |

(REVIEW is NEEDS_REVIEW; a 141 for a payment that was once PENDING is FAILED.)

Charges on a linked wallet (PROCESSING: Tijori sent directPay; its status is asked with
TXN_TYPE=WITHDRAW): TXN_SUCCESS for this MID, order and amount is PAID, another amount or order
NEEDS_REVIEW; any TXN_FAILURE is FAILED; pending is PENDING; "no such order" decides nothing here
(tijori.payments.charges sends again with the same OrderId); ambiguous answers decide nothing.
* PENDING at once when a verified callback reported the attempt: the customer did pay, and the
  bank has not answered. A TXN_FAILURE for another MID or order is NEEDS_REVIEW too. A PENDING
  payment is asked `PAYMENT_CHECK_AGES` (10 times over 3 days, as seed 002 advises); past that it is
  NEEDS_REVIEW and still asked daily until Paytm gives a final answer.

Refunds (Refund API, then Refund Status API):

| answer                                   | refund becomes |
|------------------------------------------|----------------|
| TXN_SUCCESS (10), amount as sent         | SUCCESS        |
| TXN_SUCCESS, another amount              | NEEDS_REVIEW   |
| pending                                  | PENDING        |
| refused (final failure, invalid request) | FAILED (its amount is refundable again) |
| status API: no such refund (631)         | sent again with the same REFID |
| ambiguous (timeout, 5xx, unknown code)   | Refund Status API first; then the scheduled run |
| configuration error                      | the message fails to the DLQ   |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tijori.lifecycle.outcomes import Outcome
from tijori.payments.lifecycle import PaymentStatus, RefundStatus
from tijori.payments.models import Payment, Refund
from tijori.payments.ports import RefundAnswer, TxnStatusAnswer

# Seed 004: the txnToken "is valid for 15 minutes".
TOKEN_TTL = timedelta(minutes=15)
# A CREATED payment is first asked about a minute after its token can no longer be used.
CREATED_FIRST_CHECK = TOKEN_TTL + timedelta(minutes=1)
# Seed 002: "call the Transaction Status API 10 times over a period of 3 days".
PAYMENT_CHECK_AGES: tuple[timedelta, ...] = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=3),
)
PAYMENT_PENDING_WINDOW = PAYMENT_CHECK_AGES[-1]
# Refunds: Paytm settles wallet refunds at once, card and bank ones within days.
REFUND_CHECK_AGES: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=12),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=3),
    timedelta(days=5),
    timedelta(days=7),
)
REFUND_PENDING_WINDOW = REFUND_CHECK_AGES[-1]
REVIEW_CHECK_INTERVAL = timedelta(days=1)
# Paytm's "User has not completed transaction.": the token expired with no completed attempt.
NO_ATTEMPT_CODES = frozenset({"141"})


@dataclass(frozen=True)
class Decision:
    target: str  # a PaymentStatus or RefundStatus value
    reason: str
    # Paytm's last word (a final answer that did not match): nothing more to ask, only a human.
    final_answer: bool = False


def _said(code: str | None, message: str | None) -> str:
    return f"{code or 'no code'}: {message or 'no message'}"


def token_over(payment: Payment, now: datetime) -> bool:
    expires = payment.token_expires_at or payment.created_at + TOKEN_TTL
    return now >= expires


def payment_mismatch(answer: TxnStatusAnswer, payment: Payment, mid: str) -> str | None:
    """Why the status answer is not this payment's; None when MID, order id and amount match."""
    if answer.mid is not None and answer.mid != mid:
        return "Paytm's record is for another MID"
    if answer.order_id is not None and answer.order_id != payment.order_id:
        return f"Paytm's record is for order {answer.order_id!r}"
    if answer.outcome is Outcome.SUCCESS:
        if answer.mid is None:
            return "Paytm's record carries no MID"
        if answer.amount is None:
            return "Paytm's record carries no amount"
        if answer.amount != payment.amount:
            return f"Paytm's record is for {answer.amount} INR, the payment is {payment.amount:.2f} INR"
    return None


_DECIDABLE = frozenset(
    {PaymentStatus.CREATED, PaymentStatus.PROCESSING, PaymentStatus.PENDING, PaymentStatus.NEEDS_REVIEW}
)


def decide_payment(
    payment: Payment, answer: TxnStatusAnswer, *, mid: str, now: datetime, attempt_reported: bool = False
) -> Decision | None:
    """The module table: what this status answer does to the payment as it stands; None: nothing."""
    status = payment.status
    if status not in _DECIDABLE:
        return None
    said = _said(answer.code, answer.message)
    if answer.outcome in (Outcome.SUCCESS, Outcome.FINAL_FAILURE):
        mismatch = payment_mismatch(answer, payment, mid)
        if mismatch is not None:
            return Decision(
                PaymentStatus.NEEDS_REVIEW.value,
                f"status answer does not match the payment: {mismatch} ({answer.status}, {said})",
                final_answer=True,
            )
        if answer.outcome is Outcome.SUCCESS:
            after = " after review" if status is PaymentStatus.NEEDS_REVIEW else ""
            return Decision(PaymentStatus.PAID.value, f"paid: status API says TXN_SUCCESS{after} ({said})")
        was_pending = status is PaymentStatus.PENDING or any(
            step.to_status == PaymentStatus.PENDING.value for step in payment.history
        )
        no_attempt = (answer.code or "").strip() in NO_ATTEMPT_CODES
        if no_attempt and not was_pending and status is not PaymentStatus.PROCESSING:
            if status is PaymentStatus.CREATED and not token_over(payment, now):
                return None
            reason = f"no completed attempt before the token expired ({said})"
            return Decision(PaymentStatus.EXPIRED.value, reason)
        return Decision(PaymentStatus.FAILED.value, f"payment failed at Paytm ({said})")
    if answer.outcome is Outcome.PENDING:
        sent_by_us = status is PaymentStatus.PROCESSING
        if sent_by_us or (status is PaymentStatus.CREATED and (attempt_reported or token_over(payment, now))):
            return Decision(PaymentStatus.PENDING.value, f"pending at Paytm ({said})")
        return None
    if answer.outcome is Outcome.NOT_FOUND and status is PaymentStatus.CREATED and token_over(payment, now):
        reason = f"Paytm knows no such order and the token expired ({said})"
        return Decision(PaymentStatus.EXPIRED.value, reason)
    return None


def refund_mismatch(answer: RefundAnswer, refund: Refund) -> str | None:
    if answer.amount is not None and answer.amount != refund.amount:
        return f"Paytm's refund is for {answer.amount} INR, the refund is {refund.amount:.2f} INR"
    if answer.ref_id is not None and answer.ref_id != refund.refund_id:
        return f"Paytm's answer is for REFID {answer.ref_id!r}"
    return None


def decide_refund(refund: Refund, answer: RefundAnswer) -> Decision | None:
    """What a Refund / Refund Status answer does to the refund as it stands; None: nothing."""
    status = refund.status
    said = _said(answer.code, answer.message)
    if answer.outcome is Outcome.SUCCESS:
        mismatch = refund_mismatch(answer, refund)
        if mismatch is not None:
            if status is RefundStatus.NEEDS_REVIEW:
                return None
            reason = f"refund answer does not match: {mismatch}"
            return Decision(RefundStatus.NEEDS_REVIEW.value, reason, final_answer=True)
        return Decision(RefundStatus.SUCCESS.value, f"refunded ({said})")
    if answer.outcome is Outcome.PENDING:
        if status is RefundStatus.PROCESSING:
            return Decision(RefundStatus.PENDING.value, f"refund pending at Paytm ({said})")
        return None
    if answer.outcome in (Outcome.FINAL_FAILURE, Outcome.INVALID_REQUEST):
        return Decision(RefundStatus.FAILED.value, f"refund refused by Paytm ({said})")
    return None
