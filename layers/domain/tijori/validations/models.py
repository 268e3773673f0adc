"""Payee validation models: what a merchant submits, and what Tijori stores and shows back."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tijori.payouts.masking import mask_phone
from tijori.payouts.models import ORDER_ID_PATTERN, IndianMobileNumber, OrderId
from tijori.paytm.payouts_codes import PAYOUTS_CATALOGUE
from tijori.validations.lifecycle import ValidationStatus

# Paytm Payouts' orderId (seed 001: string(50)); the characters every Tijori order id allows.
VALIDATION_ID_PATTERN = ORDER_ID_PATTERN

# Models defer their build to first use: a function that never meets a validation never builds them.


class PayeeValidationRequest(BaseModel):
    """`POST /v1/payee-validations` body. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    validation_id: OrderId = Field(description="Becomes Paytm Payouts' orderId; 1-50 of A-Z a-z 0-9 - _ @")
    phone: IndianMobileNumber = Field(description="The payee's Paytm mobile number: 10 digits, the first 6-9")

    def fingerprint(self) -> str:
        """Same request -> same fingerprint (a replay); another -> a conflict. A field added later
        joins it only when not at its default."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ValidationStep(BaseModel):
    """One entry of a validation's history."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    from_status: str | None
    to_status: str
    at: datetime
    reason: str

    def view(self) -> dict[str, Any]:
        at = self.at.isoformat()
        return {"from": self.from_status, "to": self.to_status, "at": at, "reason": self.reason}


class PayeeValidation(BaseModel):
    """A validation as stored. `phone` is the real number; `public_view` masks it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    validation_id: str
    phone: str
    request_fingerprint: str
    status: ValidationStatus
    # Tijori's own `/v1/callbacks/payouts`, fixed at intake (the queue worker has no request).
    callback_url: str | None = None
    paytm_code: str | None = None
    paytm_status: str | None = None
    reason: str | None = None
    paytm_order_id: str | None = None
    # The penny as Paytm's answers give it (`result.amount`); None while no answer carried it.
    penny_amount: Decimal | None = None
    attempts: int = 0
    status_checks: int = 0
    lease_until: float | None = None
    first_sent_at: datetime | None = None
    pending_since: datetime | None = None
    created_at: datetime
    updated_at: datetime
    history: tuple[ValidationStep, ...] = ()

    @property
    def order_id(self) -> str:
        """Paytm's orderId (the callback intake names items by it)."""
        return self.validation_id

    @property
    def paytm_message(self) -> str | None:
        """What Paytm's code means, from the catalogue (never Paytm's free text)."""
        return PAYOUTS_CATALOGUE.meaning_of(self.paytm_code) if self.paytm_code else None

    def public_view(self) -> dict[str, Any]:
        return {
            "validation_id": self.validation_id,
            "status": self.status.value,
            "phone": mask_phone(self.phone),
            "paytm_code": self.paytm_code,
            "paytm_message": self.paytm_message,
            "reason": self.reason,
            "penny_amount": None if self.penny_amount is None else f"{self.penny_amount:.2f}",
            "paytm_order_id": self.paytm_order_id,
            "attempts": self.attempts,
            "status_checks": self.status_checks,
            "first_sent_at": self.first_sent_at.isoformat() if self.first_sent_at else None,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "history": [step.view() for step in self.history],
        }
