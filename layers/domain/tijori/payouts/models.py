"""Payout models: what a merchant submits, and what Tijori stores and shows back."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.masking import mask_email, mask_phone

ORDER_ID_PATTERN = r"^[A-Za-z0-9\-_@]{1,50}$"
AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
MIN_PAYOUT_AMOUNT = Decimal("1.00")
MAX_PENDING_DAYS = 5

OrderId = Annotated[str, StringConstraints(pattern=ORDER_ID_PATTERN)]


class PayoutMode(StrEnum):
    """The three ways of seed 000's "Merchant Sales Wallet To User Wallet"."""

    VERIFIED_USER = "verified_user"  # case 1: VERIFY first, credit only if it answers true
    EXISTING_USER = "existing_user"  # case 2: appliedToNewUsers N
    ANY_USER = "any_user"  # case 3: appliedToNewUsers Y


class Payee(BaseModel):
    """Exactly one way of naming the customer's wallet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phone: Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")] | None = Field(
        default=None, description="10-digit mobile number"
    )
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = (
        None
    )
    sso_id: (
        Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")] | None
    ) = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Payee:
        given = [name for name in ("phone", "email", "sso_id") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("payee must have exactly one of phone, email, sso_id")
        return self

    def masked(self) -> dict[str, str]:
        if self.phone is not None:
            return {"phone": mask_phone(self.phone)}
        if self.email is not None:
            return {"email": mask_email(self.email)}
        return {"sso_id": str(self.sso_id)}


class PayoutRequest(BaseModel):
    """`POST /v1/payouts` body. Unknown fields are rejected, amounts are exact decimal strings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: OrderId = Field(description="Becomes Paytm's merchantOrderId; 1-50 of A-Z a-z 0-9 - _ @")
    amount: Decimal = Field(description='INR as a decimal string, at least "1.00", at most 2 decimals')
    currency: Literal["INR"] = "INR"
    payee: Payee
    mode: PayoutMode = PayoutMode.EXISTING_USER
    pending_days_limit: int | None = Field(default=None, ge=0, le=MAX_PENDING_DAYS)
    narration: Annotated[str, StringConstraints(max_length=100)] | None = None
    metadata: dict[
        Annotated[str, StringConstraints(max_length=64)], Annotated[str, StringConstraints(max_length=256)]
    ] = Field(default_factory=dict, max_length=20)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_decimal_text(cls, value: Any) -> Decimal:
        import re

        if not isinstance(value, str) or not re.fullmatch(AMOUNT_PATTERN, value):
            raise ValueError('must be a decimal string with at most 2 decimal places, e.g. "10.50"')
        amount = Decimal(value)
        if amount < MIN_PAYOUT_AMOUNT:
            raise ValueError("must be at least 1.00")
        return amount.quantize(Decimal("0.01"))

    def fingerprint(self) -> str:
        """Same request (after defaults) -> same fingerprint; used to tell a replay from a conflict."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Transition(BaseModel):
    model_config = ConfigDict(frozen=True)

    from_status: PayoutStatus | None
    to_status: PayoutStatus
    at: datetime
    reason: str


class Payout(BaseModel):
    """A payout as stored. `payee` holds the real identifier; only `public_view` leaves Tijori."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    amount: Decimal
    currency: str
    payee: Payee
    mode: PayoutMode
    pending_days_limit: int | None
    narration: str | None
    metadata: dict[str, str]
    request_fingerprint: str
    status: PayoutStatus
    paytm_txn_id: str | None = None
    last_status_code: str | None = None
    last_status_message: str | None = None
    attempts: int = 0
    status_checks: int = 0
    lease_until: float | None = None  # wall-clock epoch seconds while an attempt holds the payout
    # When the first salesToUserCredit that may have reached Paytm left (a send that Paytm refused
    # as a configuration error does not count): Paytm's pending window runs from there.
    first_sent_at: datetime | None = None
    # Which pending-retry execution carries this payout's checks (a new one after one died).
    retry_generation: int = 0
    created_at: datetime
    updated_at: datetime
    history: tuple[Transition, ...] = ()

    @classmethod
    def accept(cls, request: PayoutRequest, now: datetime) -> Payout:
        return cls(
            order_id=request.order_id,
            amount=request.amount,
            currency=request.currency,
            payee=request.payee,
            mode=request.mode,
            pending_days_limit=request.pending_days_limit,
            narration=request.narration,
            metadata=dict(request.metadata),
            request_fingerprint=request.fingerprint(),
            status=PayoutStatus.ACCEPTED,
            created_at=now,
            updated_at=now,
            history=(
                Transition(from_status=None, to_status=PayoutStatus.ACCEPTED, at=now, reason="accepted"),
            ),
        )

    @property
    def was_pending(self) -> bool:
        """Paytm held this payout as pending at some point (a failure after that is a rollback)."""
        return any(t.to_status is PayoutStatus.PENDING for t in self.history)

    def public_view(self) -> dict[str, Any]:
        """The merchant-facing resource: payee masked, money as a string."""
        return {
            "order_id": self.order_id,
            "status": self.status.value,
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "payee": self.payee.masked(),
            "mode": self.mode.value,
            "pending_days_limit": self.pending_days_limit,
            "narration": self.narration,
            "metadata": self.metadata,
            "paytm_txn_id": self.paytm_txn_id,
            "last_status_code": self.last_status_code,
            "last_status_message": self.last_status_message,
            "attempts": self.attempts,
            "status_checks": self.status_checks,
            "first_sent_at": self.first_sent_at.isoformat() if self.first_sent_at else None,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "history": [
                {
                    "from": t.from_status.value if t.from_status else None,
                    "to": t.to_status.value,
                    "at": t.at.isoformat(),
                    "reason": t.reason,
                }
                for t in self.history
            ],
        }
