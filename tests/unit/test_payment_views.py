"""The documented payment and refund resources (PaymentView, RefundView) are what
Payment.public_view() and Refund.public_view() answer, in every state, nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tijori.payments.collection import new_payment
from tijori.payments.lifecycle import PaymentStatus, RefundStatus
from tijori.payments.models import Payment, PaymentRequest, Refund, Step
from tijori.payments.responses import PaymentView, RefundView

NOW = datetime(2026, 12, 1, tzinfo=UTC)
MID = "TIJORITEST000000001"


def _created(**fields: object) -> Payment:
    body = {
        "order_id": "PAY-VIEW-1",
        "amount": "499.00",
        "currency": "INR",
        "customer": {"customer_id": "C_1", "phone": "9876543210", "email": "asha@example.in"},
        **fields,
    }
    payment = new_payment(PaymentRequest.model_validate(body), NOW)
    return payment.model_copy(update={"txn_token": "tok", "token_expires_at": NOW + timedelta(minutes=15)})


def _paid() -> Payment:
    later = NOW + timedelta(minutes=2)
    created = _created(return_url="https://shop.example/r", metadata={"cart": "7"})
    return created.model_copy(
        update={
            "status": PaymentStatus.PAID,
            "paid_amount": Decimal("499.00"),
            "refunded_amount": Decimal("100.00"),
            "refundable_left": Decimal("349.00"),
            "paytm_txn_id": "2026120111",
            "bank_txn_id": "777",
            "payment_mode": "UPI",
            "last_status_code": "01",
            "last_status_message": "Txn Successful.",
            "updated_at": later,
            "history": (
                *created.history,
                Step(from_status="CREATED", to_status="PAID", at=later, reason="paid"),
            ),
        }
    )


@pytest.mark.parametrize("payment", [_created(), _paid()], ids=["created", "paid"])
def test_public_view_is_a_valid_payment_view_and_nothing_is_lost(payment: Payment) -> None:
    view = payment.public_view(MID)
    assert PaymentView.model_validate(view).model_dump(mode="json", by_alias=True, exclude_unset=True) == view


def test_the_checkout_is_shown_only_while_created_and_contact_details_are_masked() -> None:
    created, paid = _created().public_view(MID), _paid().public_view(MID)
    assert created["checkout"] == {
        "mid": MID,
        "order_id": "PAY-VIEW-1",
        "txn_token": "tok",
        "token_expires_at": (NOW + timedelta(minutes=15)).isoformat(),
        "amount": "499.00",
    }
    assert paid["checkout"] is None
    assert created["customer"] == {"customer_id": "C_1", "phone": "********10", "email": "a***@example.in"}
    assert (paid["refunded_amount"], paid["refundable_amount"]) == ("100.00", "349.00")


def test_public_view_is_a_valid_refund_view() -> None:
    refund = Refund(
        refund_id="RF-1",
        order_id="PAY-VIEW-1",
        amount=Decimal("100.00"),
        reason="exchange",
        request_fingerprint="f",
        status=RefundStatus.SUCCESS,
        paytm_refund_id="99",
        created_at=NOW,
        updated_at=NOW,
        history=(Step(from_status=None, to_status="ACCEPTED", at=NOW, reason="accepted"),),
    )
    view = refund.public_view()
    assert RefundView.model_validate(view).model_dump(mode="json", by_alias=True, exclude_unset=True) == view
