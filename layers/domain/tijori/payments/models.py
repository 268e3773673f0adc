"""Payment and refund models: what a merchant submits, and what Tijori stores and shows back."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
)

from tijori.payments.lifecycle import PaymentStatus, RefundStatus
from tijori.payouts.masking import mask_email, mask_phone
from tijori.payouts.models import (
    _INVISIBLE_CHARACTER_CLASS,
    AMOUNT_PATTERN,
    MAX_METADATA_ENTRIES,
    PLAIN_TEXT_PATTERN,
    AmountText,
    Email,
    IndianMobileNumber,
    MetadataKey,
    MetadataValue,
    _metadata_json_schema,
    refuse_invisible_characters,
)

# Paytm PG's orderId (seed 004: alphanumeric, at most 50; the samples use _ and -) and REFID.
PAYMENT_ORDER_ID_PATTERN = r"^[A-Za-z0-9\-_@]{1,50}$"
REFUND_ID_PATTERN = r"^[A-Za-z0-9\-_@]{1,50}$"
# Seed 004: "Special characters allowed in CustId are @, ! ,_ ,$".
CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9@!_$]{1,64}$"
# No whitespace and none of the characters every merchant text refuses (controls, bidi marks).
RETURN_URL_PATTERN = rf"^https?://[^\s{_INVISIBLE_CHARACTER_CLASS}]+$"
MAX_RETURN_URL_LENGTH = 2048
MAX_REFUND_REASON_LENGTH = 100
_DECIMAL_TEXT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
MIN_AMOUNT = Decimal("1.00")
# A wallet link's id is Paytm's CustId on its charges (tijori.wallet_links.models).
LINK_ID_PATTERN = r"^[A-Za-z0-9@!_$]{1,32}$"
PaymentMethod = Literal["checkout", "linked_wallet", "add_money"]

PaymentOrderId = Annotated[str, StringConstraints(pattern=PAYMENT_ORDER_ID_PATTERN)]
RefundId = Annotated[str, StringConstraints(pattern=REFUND_ID_PATTERN)]
CustomerId = Annotated[str, StringConstraints(pattern=CUSTOMER_ID_PATTERN)]
ReturnUrl = Annotated[
    str,
    StringConstraints(max_length=MAX_RETURN_URL_LENGTH, pattern=RETURN_URL_PATTERN),
    BeforeValidator(refuse_invisible_characters),
]
RefundReason = Annotated[
    str,
    StringConstraints(max_length=MAX_REFUND_REASON_LENGTH, pattern=r"^[A-Za-z0-9 _@.,\-]*$"),
    BeforeValidator(refuse_invisible_characters),
]


def exact_amount(value: Any) -> Decimal:
    """A decimal string of at least 1.00 with at most 2 decimals, as an exact Decimal."""
    if not isinstance(value, str) or not re.fullmatch(_DECIMAL_TEXT_PATTERN, value):
        raise ValueError('must be a decimal string with at most 2 decimal places, e.g. "10.50"')
    amount = Decimal(value)
    if amount < MIN_AMOUNT:
        raise ValueError("must be at least 1.00")
    if not re.fullmatch(AMOUNT_PATTERN, value):
        raise ValueError('must not start with a zero, e.g. "10.50"')
    return amount.quantize(Decimal("0.01"))


# Every model here defers its build to first use (as the payout models do): a function that never
# meets a payment or a refund does not build their validators at its cold start.


def _fingerprint(model: BaseModel) -> str:
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    customer_id: CustomerId = Field(description="Paytm's custId: 1-64 of A-Z a-z 0-9 @ ! _ $")
    phone: IndianMobileNumber | None = Field(default=None, description="10 digits, the first 6-9")
    email: Email | None = None

    def masked(self) -> dict[str, str]:
        view = {"customer_id": self.customer_id}
        if self.phone is not None:
            view["phone"] = mask_phone(self.phone)
        if self.email is not None:
            view["email"] = mask_email(self.email)
        return view


class PaymentRequest(BaseModel):
    """`POST /v1/payments` body. Unknown fields are refused, amounts are exact decimal strings."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    order_id: PaymentOrderId = Field(description="Becomes Paytm's orderId; 1-50 of A-Z a-z 0-9 - _ @")
    amount: AmountText
    currency: Literal["INR"]
    customer: Customer
    return_url: ReturnUrl | None = Field(
        default=None, description="where the customer's browser is sent after the checkout (?order_id=...)"
    )
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default_factory=dict, max_length=MAX_METADATA_ENTRIES, json_schema_extra=_metadata_json_schema
    )

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_decimal_text(cls, value: Any) -> Decimal:
        return exact_amount(value)

    def fingerprint(self) -> str:
        return _fingerprint(self)


class LinkedWalletMethod(BaseModel):
    """A charge on a customer's linked Paytm wallet (seed 002's directPay)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    type: Literal["linked_wallet"]
    link_id: str = Field(pattern=LINK_ID_PATTERN, description="A LINKED wallet link (POST /v1/wallet-links)")


class ChargeRequest(BaseModel):
    """`POST /v1/payments` with a `method`: Tijori debits the linked wallet itself (no checkout).
    The customer is the link's."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    order_id: PaymentOrderId = Field(
        description="Becomes Paytm's OrderId on every attempt; 1-50 of A-Z a-z 0-9 - _ @"
    )
    amount: AmountText
    currency: Literal["INR"]
    method: LinkedWalletMethod
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default_factory=dict, max_length=MAX_METADATA_ENTRIES, json_schema_extra=_metadata_json_schema
    )

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_decimal_text(cls, value: Any) -> Decimal:
        return exact_amount(value)

    def fingerprint(self) -> str:
        return _fingerprint(self)


def _payment_kind(value: Any) -> str:
    """A body with `method` is a charge on a linked wallet; any other is a checkout payment."""
    if isinstance(value, dict):
        return "charge" if "method" in value else "checkout"
    return "charge" if isinstance(value, ChargeRequest) else "checkout"


AnyPaymentRequest = Annotated[
    Annotated[PaymentRequest, Tag("checkout")] | Annotated[ChargeRequest, Tag("charge")],
    Discriminator(_payment_kind),
]
PAYMENT_KINDS = frozenset({"checkout", "charge"})


class RefundRequest(BaseModel):
    """`POST /v1/payments/{order_id}/refunds` body."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    refund_id: RefundId = Field(description="Becomes Paytm's REFID: unique across the merchant")
    amount: AmountText
    reason: RefundReason | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_decimal_text(cls, value: Any) -> Decimal:
        return exact_amount(value)

    def fingerprint(self, order_id: str) -> str:
        canonical = json.dumps(
            {"order_id": order_id, **self.model_dump(mode="json")}, sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Step(BaseModel):
    """One entry of an item's history."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    from_status: str | None
    to_status: str
    at: datetime
    reason: str

    def view(self) -> dict[str, Any]:
        at = self.at.isoformat()
        return {"from": self.from_status, "to": self.to_status, "at": at, "reason": self.reason}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


class Payment(BaseModel):
    """A payment as stored. `customer` holds the real contact details; `public_view` masks them."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    order_id: str
    amount: Decimal
    currency: str
    customer: Customer
    return_url: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    request_fingerprint: str
    status: PaymentStatus
    # "checkout" (initiateTransaction), "linked_wallet" (a charge: directPay from the queue) or
    # "add_money" (the customer adds money to their linked wallet through Paytm's form).
    method: PaymentMethod = "checkout"
    link_id: str | None = None
    attempts: int = 0
    lease_until: float | None = None
    first_sent_at: datetime | None = None
    txn_token: str | None = None
    token_expires_at: datetime | None = None
    paytm_txn_id: str | None = None
    bank_txn_id: str | None = None
    payment_mode: str | None = None
    paid_amount: Decimal | None = None
    # Refunds SUCCESS so far; and what refunds may still take (paid less every refund not FAILED:
    # the over-refund guard, kept by conditional writes).
    refunded_amount: Decimal = Decimal("0.00")
    refundable_left: Decimal | None = None
    last_status_code: str | None = None
    last_status_message: str | None = None
    status_checks: int = 0
    pending_since: datetime | None = None
    created_at: datetime
    updated_at: datetime
    history: tuple[Step, ...] = ()

    @property
    def refundable(self) -> Decimal:
        if self.status is not PaymentStatus.PAID or self.refundable_left is None:
            return Decimal("0.00")
        return self.refundable_left

    @property
    def is_charge(self) -> bool:
        return self.method == "linked_wallet"

    def method_view(self) -> dict[str, Any]:
        if self.link_id is None:
            return {"type": self.method}
        return {"type": self.method, "link_id": self.link_id}

    def checkout(self, mid: str) -> dict[str, Any] | None:
        if self.txn_token is None:
            return None
        return {
            "mid": mid,
            "order_id": self.order_id,
            "txn_token": self.txn_token,
            "token_expires_at": self.token_expires_at.isoformat() if self.token_expires_at else None,
            "amount": f"{self.amount:.2f}",
        }

    def public_view(self, mid: str) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "status": self.status.value,
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "customer": self.customer.masked(),
            "return_url": self.return_url,
            "metadata": self.metadata,
            "method": self.method_view(),
            "checkout": self.checkout(mid) if self.status is PaymentStatus.CREATED else None,
            "paid_amount": _money(self.paid_amount),
            "refunded_amount": _money(self.refunded_amount),
            "refundable_amount": _money(self.refundable),
            "paytm_txn_id": self.paytm_txn_id,
            "bank_txn_id": self.bank_txn_id,
            "payment_mode": self.payment_mode,
            "last_status_code": self.last_status_code,
            "last_status_message": self.last_status_message,
            "status_checks": self.status_checks,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "history": [step.view() for step in self.history],
        }


class Refund(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    refund_id: str
    order_id: str
    amount: Decimal
    reason: str | None = None
    request_fingerprint: str
    status: RefundStatus
    paytm_refund_id: str | None = None
    last_status_code: str | None = None
    last_status_message: str | None = None
    attempts: int = 0
    status_checks: int = 0
    lease_until: float | None = None
    pending_since: datetime | None = None
    first_sent_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    history: tuple[Step, ...] = ()

    def public_view(self) -> dict[str, Any]:
        return {
            "refund_id": self.refund_id,
            "order_id": self.order_id,
            "status": self.status.value,
            "amount": f"{self.amount:.2f}",
            "reason": self.reason,
            "paytm_refund_id": self.paytm_refund_id,
            "last_status_code": self.last_status_code,
            "last_status_message": self.last_status_message,
            "attempts": self.attempts,
            "status_checks": self.status_checks,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "history": [step.view() for step in self.history],
        }


__all__ = [
    "CUSTOMER_ID_PATTERN",
    "LINK_ID_PATTERN",
    "PAYMENT_KINDS",
    "PAYMENT_ORDER_ID_PATTERN",
    "PLAIN_TEXT_PATTERN",
    "REFUND_ID_PATTERN",
    "AnyPaymentRequest",
    "ChargeRequest",
    "Customer",
    "LinkedWalletMethod",
    "Payment",
    "PaymentRequest",
    "Refund",
    "RefundRequest",
    "Step",
]
