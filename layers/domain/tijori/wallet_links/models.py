"""Wallet link models: what a merchant submits, and what Tijori stores and shows back.

The stored link holds Paytm's OTP `state` and the customer's token sealed by the token vault
(tijori.wallet_links.ports.TokenVault); `public_view` shows neither, and masks the contact details.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tijori.payments.models import LINK_ID_PATTERN, PaymentOrderId, ReturnUrl, Step, exact_amount
from tijori.payouts.masking import mask_email, mask_phone
from tijori.payouts.models import AmountText, Email, IndianMobileNumber
from tijori.wallet_links.lifecycle import WalletLinkStatus

# The link id is Paytm's CustId on every charge and add-money order of the link: seed 002 gives
# directPay's CustId 32 characters, and add money's CUST_ID "Special characters e.g @, ! ,_ $".
OTP_PATTERN = r"^[0-9]{4,8}$"
# After this many wrong OTPs the link is FAILED and a new link is needed.
MAX_WRONG_OTPS = 5


def _fingerprint(values: dict[str, Any]) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class WalletLinkRequest(BaseModel):
    """`POST /v1/wallet-links` body. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    link_id: str = Field(
        pattern=LINK_ID_PATTERN,
        description="Yours; becomes Paytm's CustId on the link's charges: 1-32 of A-Z a-z 0-9 @ ! _ $",
    )
    phone: IndianMobileNumber = Field(
        description="The customer's Paytm mobile number: 10 digits, the first 6-9"
    )
    email: Email | None = Field(default=None, description="The customer's email (optional, passed to Paytm)")

    def fingerprint(self) -> str:
        return _fingerprint(self.model_dump(mode="json", exclude_none=True))


class OtpSubmission(BaseModel):
    """`POST /v1/wallet-links/{link_id}/otp` body."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    otp: str = Field(pattern=OTP_PATTERN, description="The OTP Paytm sent the customer: 4-8 digits")


class AddMoneyRequest(BaseModel):
    """`POST /v1/wallet-links/{link_id}/add-money` body."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    order_id: PaymentOrderId = Field(description="Becomes Paytm's ORDER_ID; 1-50 of A-Z a-z 0-9 - _ @")
    amount: AmountText
    return_url: ReturnUrl | None = Field(
        default=None, description="where the customer's browser is sent after adding money (?order_id=...)"
    )

    @field_validator("amount", mode="before")
    @classmethod
    def _amount_is_decimal_text(cls, value: Any) -> Decimal:
        return exact_amount(value)

    def fingerprint(self, link_id: str) -> str:
        return _fingerprint({"link_id": link_id, **self.model_dump(mode="json", exclude_none=True)})


class WalletLink(BaseModel):
    """A link as stored. `phone` and `email` are real; `public_view` masks them. `paytm_state` and
    `sealed_token` never leave Tijori."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    link_id: str
    phone: str
    email: str | None = None
    request_fingerprint: str
    status: WalletLinkStatus
    paytm_state: str | None = None
    sealed_token: str | None = None
    token_expires_at: datetime | None = None
    paytm_customer_id: str | None = None
    wrong_otps: int = 0
    paytm_code: str | None = None
    reason: str | None = None
    created_at: datetime
    updated_at: datetime
    history: tuple[Step, ...] = ()

    def token_expired(self, now: datetime) -> bool:
        return self.token_expires_at is not None and now >= self.token_expires_at

    def public_view(self) -> dict[str, Any]:
        view: dict[str, Any] = {
            "link_id": self.link_id,
            "status": self.status.value,
            "phone": mask_phone(self.phone),
            "email": mask_email(self.email) if self.email else None,
            "token_expires_at": self.token_expires_at.isoformat() if self.token_expires_at else None,
            "wrong_otps": self.wrong_otps,
            "otp_attempts_left": (
                MAX_WRONG_OTPS - self.wrong_otps if self.status is WalletLinkStatus.OTP_SENT else 0
            ),
            "paytm_code": self.paytm_code,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "history": [step.view() for step in self.history],
        }
        return view


class AddMoneyTicket(BaseModel):
    """A one-time add-money form: stored under a hash of its secret id (the id is only in the URL
    handed to the merchant), served once."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    order_id: str
    link_id: str
    amount: Decimal
    expires_at: datetime
    # Fixed when the order is made (InitiateFunction knows them; CallbackFunction serves the form):
    # this stack's /v1/callbacks/pg, and Paytm's PG host the form posts to.
    callback_url: str
    paytm_pg_base_url: str


__all__ = [
    "LINK_ID_PATTERN",
    "MAX_WRONG_OTPS",
    "OTP_PATTERN",
    "AddMoneyRequest",
    "AddMoneyTicket",
    "OtpSubmission",
    "WalletLink",
    "WalletLinkRequest",
]
