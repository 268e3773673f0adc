"""What the payments API answers, as models for the OpenAPI document (the handlers answer the
dicts of `Payment.public_view` / `Refund.public_view`; a test checks the one against the other)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tijori.payments.lifecycle import PaymentStatus, RefundStatus
from tijori.payouts.responses import Problem

_MONEY = r"^[0-9]{1,10}\.[0-9]{2}$"


class _View(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")


class StepView(_View):
    from_: str | None = Field(alias="from")
    to: str
    at: str = Field(description="ISO-8601 UTC")
    reason: str


class CheckoutView(_View):
    """Everything the merchant's front end needs to open Paytm's checkout (JS checkout / SDK)."""

    mid: str
    order_id: str
    txn_token: str = Field(description="Paytm's txnToken: valid for 15 minutes from the initiate")
    token_expires_at: str | None = Field(description="ISO-8601 UTC")
    amount: str = Field(pattern=_MONEY)


class PaymentView(_View):
    order_id: str
    status: PaymentStatus
    amount: str = Field(pattern=_MONEY, description="INR, always 2 decimals")
    currency: str
    customer: dict[str, str] = Field(description="customer_id, and phone / email masked")
    return_url: str | None
    metadata: dict[str, str]
    method: dict[str, str] = Field(
        description="`type`: checkout, linked_wallet (a charge) or add_money; `link_id` for the latter two"
    )
    checkout: CheckoutView | None = Field(description="while CREATED: what opens Paytm's checkout")
    paid_amount: str | None = Field(description="what Paytm's status API confirmed (PAID only)")
    refunded_amount: str | None = Field(description="refunds that succeeded")
    refundable_amount: str | None = Field(description="paid, less every refund not FAILED")
    paytm_txn_id: str | None
    bank_txn_id: str | None
    payment_mode: str | None
    last_status_code: str | None
    last_status_message: str | None
    status_checks: int
    created_at: str
    updated_at: str
    history: list[StepView]


class RefundView(_View):
    refund_id: str
    order_id: str
    status: RefundStatus
    amount: str = Field(pattern=_MONEY)
    reason: str | None
    paytm_refund_id: str | None = Field(description="Paytm's REFUNDID")
    last_status_code: str | None
    last_status_message: str | None
    attempts: int
    status_checks: int
    created_at: str
    updated_at: str
    history: list[StepView]


class PaytmRefusalProblem(Problem):
    """Paytm refused the request: its code and message."""

    paytm_code: str | None = Field(default=None, description="Paytm's result code, when Paytm answered")
    paytm_message: str | None = Field(default=None, description="Paytm's message, or why there is no answer")


class ConflictProblem(Problem):
    """409: the id exists with another body (its fields named), or the item's state refuses it."""

    conflicting_fields: list[str] = Field(default_factory=list, description="the fields that differ")
