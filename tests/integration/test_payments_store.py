"""The lifecycle engine's table mechanics as payments and refunds use them, against the template's
tables in moto: conditional transitions with history, the due index, the refund reservation
transaction, and the collector's decisions with a scripted PG port (what Tijori wrote and counted
for each answer)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.conftest import REGION, LocalAccount
from tijori.adapters.payment_table import DynamoDbPaymentRepository, DynamoDbRefundRepository
from tijori.lifecycle.outcomes import Outcome
from tijori.lifecycle.states import IllegalTransitionError
from tijori.lifecycle.store import StaleTransitionError
from tijori.payments.collection import PaymentCollector, new_payment
from tijori.payments.lifecycle import PaymentStatus, RefundStatus
from tijori.payments.models import Payment, PaymentRequest, Refund, Step
from tijori.payments.ports import (
    InitiateAnswer,
    PaytmFacts,
    RefundAnswer,
    RefundExistsError,
    RefundRefusedError,
    TxnStatusAnswer,
)

MID = "TIJORITEST000000001"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _table(account: LocalAccount, logical_id: str) -> Any:
    return boto3.resource("dynamodb", region_name=REGION).Table(account.stack.ref(logical_id))


@pytest.fixture
def payments(aws_account: LocalAccount) -> DynamoDbPaymentRepository:
    return DynamoDbPaymentRepository(_table(aws_account, "PaymentsTable"))


@pytest.fixture
def refunds(aws_account: LocalAccount) -> DynamoDbRefundRepository:
    return DynamoDbRefundRepository(_table(aws_account, "RefundsTable"), _table(aws_account, "PaymentsTable"))


def _payment(order_id: str = "ORD-1", amount: str = "100.00") -> Payment:
    request = PaymentRequest.model_validate(
        {"order_id": order_id, "amount": amount, "currency": "INR", "customer": {"customer_id": "C1"}}
    )
    return new_payment(request, NOW)


def _paid(payments: DynamoDbPaymentRepository, order_id: str = "ORD-1") -> None:
    payments.create(_payment(order_id), first_check_at=NOW + timedelta(minutes=16))
    payments.transition(
        order_id,
        expected=PaymentStatus.CREATED,
        target=PaymentStatus.PAID,
        at=NOW,
        reason="paid",
        next_check_at=None,
        facts=PaytmFacts(code="01", paid_amount=Decimal("100.00"), paytm_txn_id="T1"),
    )


def _refund(refund_id: str, amount: str, order_id: str = "ORD-1") -> Refund:
    return Refund(
        refund_id=refund_id,
        order_id=order_id,
        amount=Decimal(amount),
        request_fingerprint="f",
        status=RefundStatus.ACCEPTED,
        created_at=NOW,
        updated_at=NOW,
        history=(Step(from_status=None, to_status="ACCEPTED", at=NOW, reason="accepted"),),
    )


def test_a_final_payment_never_moves_again_and_leaves_the_due_index(
    payments: DynamoDbPaymentRepository,
) -> None:
    _paid(payments)
    item = payments.table.get_item(Key={"order_id": "ORD-1"})["Item"]
    assert "sweep_bucket" not in item
    assert [entry["to"] for entry in item["history"]] == ["CREATED", "PAID"]
    with pytest.raises(IllegalTransitionError):
        payments.transition(
            "ORD-1",
            expected=PaymentStatus.PAID,
            target=PaymentStatus.FAILED,
            at=NOW,
            reason="x",
            next_check_at=None,
        )
    with pytest.raises(StaleTransitionError):
        payments.transition(
            "ORD-1",
            expected=PaymentStatus.CREATED,
            target=PaymentStatus.FAILED,
            at=NOW,
            reason="x",
            next_check_at=None,
        )
    assert payments.get("ORD-1").status is PaymentStatus.PAID  # type: ignore[union-attr]


def test_a_created_payment_is_due_after_its_token_and_a_pending_one_is_filed_by_its_clock(
    payments: DynamoDbPaymentRepository,
) -> None:
    payments.create(_payment("ORD-DUE"), first_check_at=NOW + timedelta(minutes=16))
    due = [
        order for page in payments.due_for_check(NOW + timedelta(minutes=17), page_size=10) for order in page
    ]
    assert due == ["ORD-DUE"]
    assert not [o for page in payments.due_for_check(NOW + timedelta(minutes=5), page_size=10) for o in page]
    payments.transition(
        "ORD-DUE",
        expected=PaymentStatus.CREATED,
        target=PaymentStatus.PENDING,
        at=NOW,
        reason="pending",
        next_check_at=None,
        pending_since=NOW,
    )
    window = [(NOW - timedelta(seconds=1), NOW)]
    assert [o for page in payments.pending_since_within(window, page_size=10) for o in page] == ["ORD-DUE"]


def test_refund_reservations_never_exceed_the_paid_amount_and_a_failed_refund_frees_its_amount(
    payments: DynamoDbPaymentRepository, refunds: DynamoDbRefundRepository
) -> None:
    _paid(payments)
    refunds.create_reserving(_refund("R1", "60.00"), first_check_at=NOW)
    with pytest.raises(RefundRefusedError):
        refunds.create_reserving(_refund("R2", "40.01"), first_check_at=NOW)
    with pytest.raises(RefundExistsError):
        refunds.create_reserving(_refund("R1", "1.00"), first_check_at=NOW)
    assert refunds.get("R2") is None
    assert payments.get("ORD-1").refundable == Decimal("40.00")  # type: ignore[union-attr]
    claimed = refunds.claim("R1", at=NOW, lease_until=0.0)
    assert claimed is not None
    refunds.settle(
        claimed,
        expected=RefundStatus.PROCESSING,
        target=RefundStatus.FAILED,
        at=NOW,
        reason="refused",
        next_check_at=None,
        facts=None,
    )
    after = payments.get("ORD-1")
    assert after is not None
    assert (after.refundable, after.refunded_amount) == (Decimal("100.00"), Decimal("0.00"))


def test_a_refund_of_a_payment_that_is_not_paid_is_refused_and_nothing_is_stored(
    payments: DynamoDbPaymentRepository, refunds: DynamoDbRefundRepository
) -> None:
    payments.create(_payment("ORD-UNPAID"), first_check_at=NOW)
    with pytest.raises(RefundRefusedError):
        refunds.create_reserving(_refund("R9", "1.00", "ORD-UNPAID"), first_check_at=NOW)
    assert refunds.get("R9") is None


class ScriptedPg:
    """A PG port that answers the status API as scripted and counts what Tijori asked."""

    mid = MID

    def __init__(self, status: TxnStatusAnswer) -> None:
        self.status = status
        self.asked: Counter[str] = Counter()

    async def initiate_transaction(
        self, payment: Payment, *, callback_url: str, timeout: float
    ) -> InitiateAnswer:
        self.asked["initiate"] += 1
        return InitiateAnswer(Outcome.SUCCESS, "0000", "Success", txn_token="tok")

    async def transaction_status(
        self, order_id: str, *, timeout: float, txn_type: str | None = None
    ) -> TxnStatusAnswer:
        self.asked["status"] += 1
        return self.status

    async def refund(self, refund: Refund, *, paytm_txn_id: str, timeout: float) -> RefundAnswer:
        raise AssertionError("a payment check never refunds")

    async def refund_status(self, order_id: str, refund_id: str, *, timeout: float) -> RefundAnswer:
        raise AssertionError("a payment check never asks about refunds")


class Metrics:
    def __init__(self) -> None:
        self.counted: Counter[str] = Counter()

    def count(self, name: str, value: int = 1) -> None:
        self.counted[name] += value


def test_a_success_for_another_amount_is_needs_review_counted_as_a_mismatch_never_paid(
    payments: DynamoDbPaymentRepository,
) -> None:
    payments.create(_payment("ORD-MIS"), first_check_at=NOW)
    answer = TxnStatusAnswer(
        Outcome.SUCCESS,
        status="TXN_SUCCESS",
        code="01",
        message="ok",
        order_id="ORD-MIS",
        mid=MID,
        amount=Decimal("1.00"),
    )
    pg, metrics = ScriptedPg(answer), Metrics()
    collector = PaymentCollector(
        repository=payments, pg=pg, clock=lambda: NOW, callback_url="", metrics=metrics
    )
    assert asyncio.run(collector.check("ORD-MIS", timeout=1.0)) == "NEEDS_REVIEW"
    stored = payments.get("ORD-MIS")
    assert stored is not None
    assert stored.status is PaymentStatus.NEEDS_REVIEW
    assert stored.paid_amount is None
    assert "1.00 INR" in stored.history[-1].reason
    assert metrics.counted["PaymentStatusMismatches"] == 1
    assert pg.asked == Counter({"status": 1})
