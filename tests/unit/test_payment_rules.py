"""The mapping from Paytm's answers to payment and refund states (tijori.payments.rules), as the
tables in that module's docstring and the README give them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tijori.lifecycle.outcomes import Outcome
from tijori.payments.lifecycle import PAYMENT_LIFECYCLE, REFUND_LIFECYCLE, PaymentStatus, RefundStatus
from tijori.payments.models import Customer, Payment, Refund, Step
from tijori.payments.ports import RefundAnswer, TxnStatusAnswer
from tijori.payments.rules import decide_payment, decide_refund

MID = "TIJORITEST000000001"
CREATED_AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LIVE = CREATED_AT + timedelta(minutes=5)
OVER = CREATED_AT + timedelta(minutes=20)


def payment(status: PaymentStatus, *, was_pending: bool = False) -> Payment:
    history = [Step(from_status=None, to_status="CREATED", at=CREATED_AT, reason="created")]
    if was_pending:
        history.append(Step(from_status="CREATED", to_status="PENDING", at=OVER, reason="pending"))
    return Payment(
        order_id="ORD-1",
        amount=Decimal("100.00"),
        currency="INR",
        customer=Customer(customer_id="C1"),
        request_fingerprint="f",
        status=status,
        token_expires_at=CREATED_AT + timedelta(minutes=15),
        created_at=CREATED_AT,
        updated_at=CREATED_AT,
        history=tuple(history),
    )


def answer(
    outcome: Outcome, *, code: str = "01", amount: str | None = "100.00", **fields: str
) -> TxnStatusAnswer:
    return TxnStatusAnswer(
        outcome=outcome,
        status={"success": "TXN_SUCCESS", "final_failure": "TXN_FAILURE", "pending": "PENDING"}.get(
            outcome.value
        ),
        code=code,
        message="m",
        order_id=fields.get("order_id", "ORD-1"),
        mid=fields.get("mid", MID),
        amount=None if amount is None else Decimal(amount),
        txn_id="T1",
    )


S, F, P, N, A, C = (
    Outcome.SUCCESS,
    Outcome.FINAL_FAILURE,
    Outcome.PENDING,
    Outcome.NOT_FOUND,
    Outcome.AMBIGUOUS,
    Outcome.CONFIGURATION_ERROR,
)
CREATED, PENDING, REVIEW = PaymentStatus.CREATED, PaymentStatus.PENDING, PaymentStatus.NEEDS_REVIEW

PAYMENT_TABLE = [
    # (case, status, answer, now, attempt reported, expected target or None)
    ("success matching, token live", CREATED, answer(S), LIVE, False, "PAID"),
    ("success matching, token over", CREATED, answer(S), OVER, False, "PAID"),
    ("success after pending", PENDING, answer(S), OVER, False, "PAID"),
    ("success after review", REVIEW, answer(S), OVER, False, "PAID"),
    ("success for another amount", CREATED, answer(S, amount="1.00"), LIVE, False, "NEEDS_REVIEW"),
    ("success without an amount", PENDING, answer(S, amount=None), OVER, False, "NEEDS_REVIEW"),
    ("success for another MID", CREATED, answer(S, mid="OTHERMID"), LIVE, False, "NEEDS_REVIEW"),
    ("success for another order", CREATED, answer(S, order_id="ORD-2"), LIVE, False, "NEEDS_REVIEW"),
    ("failure 141 while the token lives", CREATED, answer(F, code="141"), LIVE, False, None),
    ("failure 141 after the token", CREATED, answer(F, code="141"), OVER, False, "EXPIRED"),
    ("failure 141 after pending", PENDING, answer(F, code="141"), OVER, False, "FAILED"),
    ("failure of an attempt", CREATED, answer(F, code="227"), LIVE, False, "FAILED"),
    ("failure after pending", PENDING, answer(F, code="227"), OVER, False, "FAILED"),
    (
        "failure for another order",
        CREATED,
        answer(F, code="227", order_id="ORD-2"),
        LIVE,
        False,
        "NEEDS_REVIEW",
    ),
    ("pending while the token lives", CREATED, answer(P, code="402"), LIVE, False, None),
    ("pending, a callback reported the attempt", CREATED, answer(P, code="402"), LIVE, True, "PENDING"),
    ("pending after the token", CREATED, answer(P, code="402"), OVER, False, "PENDING"),
    ("still pending", PENDING, answer(P, code="402"), OVER, False, None),
    ("pending in review", REVIEW, answer(P, code="402"), OVER, False, None),
    ("unknown order while the token lives", CREATED, answer(N, code="334"), LIVE, False, None),
    ("unknown order after the token", CREATED, answer(N, code="334"), OVER, False, "EXPIRED"),
    ("unknown order while pending", PENDING, answer(N, code="334"), OVER, False, None),
    ("ambiguous", CREATED, answer(A, code="500"), OVER, False, None),
    ("configuration error", PENDING, answer(C, code="330"), OVER, False, None),
]


@pytest.mark.parametrize(
    ("status", "status_answer", "now", "reported", "expected"),
    [case[1:] for case in PAYMENT_TABLE],
    ids=[case[0] for case in PAYMENT_TABLE],
)
def test_the_status_api_answer_decides_the_payment_as_the_table_says(
    status: PaymentStatus, status_answer: TxnStatusAnswer, now: datetime, reported: bool, expected: str | None
) -> None:
    decision = decide_payment(payment(status), status_answer, mid=MID, now=now, attempt_reported=reported)
    assert (decision.target if decision else None) == expected
    if decision is not None:
        assert PAYMENT_LIFECYCLE.may_move(status, PaymentStatus(decision.target))


def test_a_paid_payment_is_never_decided_again() -> None:
    for outcome in (S, F, P, N, A, C):
        for final in PAYMENT_LIFECYCLE.finals:
            assert decide_payment(payment(final), answer(outcome), mid=MID, now=OVER) is None


def test_a_mismatch_reason_names_both_amounts() -> None:
    decision = decide_payment(payment(CREATED), answer(S, amount="1.00"), mid=MID, now=LIVE)
    assert decision is not None
    assert "1.00 INR" in decision.reason
    assert "100.00 INR" in decision.reason


def refund(status: RefundStatus) -> Refund:
    return Refund(
        refund_id="RF-1",
        order_id="ORD-1",
        amount=Decimal("30.00"),
        request_fingerprint="f",
        status=status,
        created_at=CREATED_AT,
        updated_at=CREATED_AT,
    )


def refund_answer(outcome: Outcome, amount: str | None = "30.00", ref_id: str = "RF-1") -> RefundAnswer:
    return RefundAnswer(
        outcome=outcome,
        code="10",
        message="m",
        ref_id=ref_id,
        amount=None if amount is None else Decimal(amount),
    )


PROCESSING_R, PENDING_R, REVIEW_R = RefundStatus.PROCESSING, RefundStatus.PENDING, RefundStatus.NEEDS_REVIEW
REFUND_TABLE = [
    ("success", PROCESSING_R, refund_answer(S), "SUCCESS"),
    ("success after pending", PENDING_R, refund_answer(S), "SUCCESS"),
    ("success for another amount", PROCESSING_R, refund_answer(S, amount="300.00"), "NEEDS_REVIEW"),
    ("success for another REFID", PROCESSING_R, refund_answer(S, ref_id="RF-9"), "NEEDS_REVIEW"),
    ("pending", PROCESSING_R, refund_answer(P), "PENDING"),
    ("still pending", PENDING_R, refund_answer(P), None),
    ("refused", PROCESSING_R, refund_answer(F), "FAILED"),
    ("invalid request", PROCESSING_R, refund_answer(Outcome.INVALID_REQUEST), "FAILED"),
    ("failed after pending", PENDING_R, refund_answer(F), "FAILED"),
    ("failed in review", REVIEW_R, refund_answer(F), "FAILED"),
    ("no such refund", PROCESSING_R, refund_answer(N), None),
    ("ambiguous", PROCESSING_R, refund_answer(A), None),
    ("configuration error", PENDING_R, refund_answer(C), None),
]


@pytest.mark.parametrize(
    ("status", "refund_said", "expected"),
    [case[1:] for case in REFUND_TABLE],
    ids=[c[0] for c in REFUND_TABLE],
)
def test_the_refund_answer_decides_the_refund_as_the_table_says(
    status: RefundStatus, refund_said: RefundAnswer, expected: str | None
) -> None:
    decision = decide_refund(refund(status), refund_said)
    assert (decision.target if decision else None) == expected
    if decision is not None:
        assert REFUND_LIFECYCLE.may_move(status, RefundStatus(decision.target))
