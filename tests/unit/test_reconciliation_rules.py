"""Reconciliation's comparison tables, row by row (tijori/reconciliation/rules.py), and each status
API's answer read as Paytm's side (paytm_records.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tijori.lifecycle.outcomes import Outcome
from tijori.payments.ports import RefundAnswer, TxnStatusAnswer
from tijori.paytm.wallet_mapping import TxnStatus, WalletAnswer
from tijori.reconciliation.paytm_records import payment_record, refund_record, wallet_record
from tijori.reconciliation.rules import (
    STANCES,
    STATUS_RULES,
    ItemOnRecord,
    PaytmRecord,
    PaytmState,
    ReconciledKind,
    Stance,
    Verdict,
    compare,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
P, PAY, R = ReconciledKind.PAYOUTS, ReconciledKind.PAYMENTS, ReconciledKind.REFUNDS


def item(
    kind: ReconciledKind, status: str, *, due_at: datetime | None = None, pending: bool = False
) -> ItemOnRecord:
    return ItemOnRecord(
        kind=kind,
        item_id="ORDER-1",
        status=status,
        amount=Decimal("25.00"),
        created_at=NOW - timedelta(hours=2),
        order_id="ORDER-1",
        due_at=due_at,
        pending_clock=pending,
    )


def paytm(state: PaytmState, amount: str | None = "25.00") -> PaytmRecord:
    return PaytmRecord(state, None if amount is None else Decimal(amount))


@pytest.mark.parametrize(
    ("kind", "status", "state", "verdict", "mismatches"),
    [
        # payouts
        (P, "SUCCESS", PaytmState.PAID, Verdict.MATCH, ()),
        (P, "SUCCESS", PaytmState.NOT_PAID, Verdict.MISMATCH, ("paid at Tijori, not paid at Paytm",)),
        (P, "SUCCESS", PaytmState.PENDING, Verdict.MISMATCH, ("paid at Tijori, pending at Paytm",)),
        (P, "FAILED", PaytmState.PAID, Verdict.MISMATCH, ("paid at Paytm, FAILED at Tijori",)),
        (P, "REVERSED", PaytmState.PAID, Verdict.MISMATCH, ("paid at Paytm, REVERSED at Tijori",)),
        (P, "REVERSED", PaytmState.NOT_PAID, Verdict.MATCH, ()),
        (P, "FAILED", PaytmState.PENDING, Verdict.MISMATCH, ("pending at Paytm, FAILED at Tijori",)),
        (P, "PENDING", PaytmState.PENDING, Verdict.MATCH, ()),
        (P, "NEEDS_REVIEW", PaytmState.PAID, Verdict.IN_REVIEW, ()),
        (P, "SUCCESS", PaytmState.NO_ANSWER, Verdict.UNANSWERED, ()),
        # payments
        (PAY, "PAID", PaytmState.PAID, Verdict.MATCH, ()),
        (PAY, "PAID", PaytmState.NOT_PAID, Verdict.MISMATCH, ("paid at Tijori, not paid at Paytm",)),
        (PAY, "EXPIRED", PaytmState.PAID, Verdict.MISMATCH, ("paid at Paytm, EXPIRED at Tijori",)),
        (PAY, "FAILED", PaytmState.NOT_PAID, Verdict.MATCH, ()),
        (PAY, "CREATED", PaytmState.PENDING, Verdict.MATCH, ()),
        # refunds
        (R, "SUCCESS", PaytmState.PAID, Verdict.MATCH, ()),
        (R, "FAILED", PaytmState.PAID, Verdict.MISMATCH, ("paid at Paytm, FAILED at Tijori",)),
        (R, "PENDING", PaytmState.PENDING, Verdict.MATCH, ()),
    ],
)
def test_each_kinds_status_against_paytms_state_gives_its_verdict(
    kind: ReconciledKind, status: str, state: PaytmState, verdict: Verdict, mismatches: tuple[str, ...]
) -> None:
    found = compare(item(kind, status), paytm(state), NOW)
    assert (found.verdict, found.mismatches) == (verdict, mismatches)


@pytest.mark.parametrize(
    ("kind", "status", "state"),
    [
        (P, "SUCCESS", PaytmState.NOT_FOUND),
        (PAY, "PAID", PaytmState.NOT_FOUND),
        (R, "SUCCESS", PaytmState.NOT_FOUND),
    ],
)
def test_paid_at_tijori_and_unknown_to_paytm_is_a_mismatch(
    kind: ReconciledKind, status: str, state: PaytmState
) -> None:
    found = compare(item(kind, status), paytm(state, None), NOW)
    assert found.mismatches == ("paid at Tijori, unknown to Paytm",)


@pytest.mark.parametrize(
    ("due_at", "pending", "verdict"),
    [
        (NOW + timedelta(minutes=5), False, Verdict.CATCHING_UP),  # due soon: the runs will settle it
        (NOW - timedelta(minutes=59), False, Verdict.CATCHING_UP),  # overdue within the grace
        (None, True, Verdict.CATCHING_UP),  # filed by its pending clock: checked at its ages
        (NOW - timedelta(hours=2), False, Verdict.MISMATCH),  # overdue: the runs are not reaching it
        (None, False, Verdict.MISMATCH),  # out of the due index: nothing will settle it
    ],
)
def test_tijori_behind_paytm_is_a_mismatch_only_when_tijori_is_not_still_checking_the_item(
    due_at: datetime | None, pending: bool, verdict: Verdict
) -> None:
    found = compare(item(P, "PENDING", due_at=due_at, pending=pending), paytm(PaytmState.PAID), NOW)
    assert found.verdict is verdict
    if verdict is Verdict.MISMATCH:
        assert found.mismatches == ("Tijori behind: PAID at Paytm, PENDING at Tijori",)


@pytest.mark.parametrize(
    ("kind", "status", "state"), [(P, "SUCCESS", PaytmState.PAID), (PAY, "FAILED", PaytmState.NOT_PAID)]
)
def test_an_amount_that_differs_from_paytms_record_is_a_mismatch_whatever_the_statuses(
    kind: ReconciledKind, status: str, state: PaytmState
) -> None:
    found = compare(item(kind, status), paytm(state, "250.00"), NOW)
    assert found.verdict is Verdict.MISMATCH
    assert found.mismatches == ("amount differs: 250.00 INR at Paytm, 25.00 INR at Tijori",)


def test_every_status_of_every_kind_has_a_stance_and_every_stance_a_rule_for_every_paytm_state() -> None:
    from tijori.payments.lifecycle import PaymentStatus, RefundStatus
    from tijori.payouts.lifecycle import PayoutStatus

    statuses = {P: set(PayoutStatus), PAY: set(PaymentStatus), R: set(RefundStatus)}
    assert {kind: set(STANCES[kind]) for kind in statuses} == statuses
    assert set(STATUS_RULES) == {(stance, state) for stance in Stance for state in PaytmState}


@pytest.mark.parametrize(
    ("answer", "state", "amount"),
    [
        (
            WalletAnswer(
                Outcome.SUCCESS, "SS_001", "", txn_status=TxnStatus.SUCCESS, txn_amount=Decimal("25")
            ),
            PaytmState.PAID,
            Decimal("25"),
        ),
        (
            WalletAnswer(
                Outcome.FINAL_FAILURE,
                "SS_001",
                "REFUNDED_BACK",
                txn_status=TxnStatus.FAILURE,
                txn_amount=Decimal("25"),
            ),
            PaytmState.NOT_PAID,
            Decimal("25"),
        ),
        (
            WalletAnswer(
                Outcome.PENDING, "SS_001", "", txn_status=TxnStatus.PENDING, txn_amount=Decimal("25")
            ),
            PaytmState.PENDING,
            Decimal("25"),
        ),
        (WalletAnswer(Outcome.NOT_FOUND, "STUC_1009", "not found"), PaytmState.NOT_FOUND, None),
        (WalletAnswer(Outcome.AMBIGUOUS, None, "no answer within 5.0 s"), PaytmState.NO_ANSWER, None),
        (WalletAnswer(Outcome.CONFIGURATION_ERROR, "GE_1008", "checksum"), PaytmState.NO_ANSWER, None),
    ],
)
def test_a_wallet_status_answer_is_read_as_paytms_state_and_amount(
    answer: WalletAnswer, state: PaytmState, amount: Decimal | None
) -> None:
    record = wallet_record(answer)
    assert (record.state, record.amount) == (state, amount)


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        (Outcome.SUCCESS, PaytmState.PAID),
        (Outcome.FINAL_FAILURE, PaytmState.NOT_PAID),
        (Outcome.PENDING, PaytmState.PENDING),
        (Outcome.NOT_FOUND, PaytmState.NOT_FOUND),
        (Outcome.AMBIGUOUS, PaytmState.NO_ANSWER),
    ],
)
def test_pg_and_refund_status_answers_are_read_as_paytms_state(outcome: Outcome, state: PaytmState) -> None:
    payment = payment_record(TxnStatusAnswer(outcome, amount=Decimal("100.00")))
    refund = refund_record(RefundAnswer(outcome, amount=Decimal("40.00")))
    assert (payment.state, refund.state) == (state, state)
    on_record = state not in (PaytmState.NOT_FOUND, PaytmState.NO_ANSWER)
    assert (payment.amount, refund.amount) == (
        (Decimal("100.00"), Decimal("40.00")) if on_record else (None, None)
    )
