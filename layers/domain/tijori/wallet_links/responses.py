"""What the wallet links API answers, as models for the OpenAPI document (the handlers answer the
dicts of `WalletLink.public_view` and friends; a test checks the one against the other)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tijori.payments.responses import PaymentView, StepView
from tijori.payouts.responses import Problem
from tijori.wallet_links.lifecycle import WalletLinkStatus

_MONEY = r"^[0-9]{1,10}\.[0-9]{2}$"


class _View(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")


class WalletLinkView(_View):
    link_id: str
    status: WalletLinkStatus
    phone: str = Field(description="masked: the last 2 digits")
    email: str | None = Field(description="masked")
    token_expires_at: str | None = Field(description="ISO-8601 UTC; the token itself is never shown")
    wrong_otps: int
    otp_attempts_left: int
    paytm_code: str | None
    reason: str | None
    created_at: str
    updated_at: str
    history: list[StepView]


class BalanceView(_View):
    link_id: str
    amount: str = Field(pattern=_MONEY)
    funds_sufficient: bool
    add_money_allowed: bool
    add_money_amount: str | None = Field(
        description="what the customer must add first (Paytm's deficitAmount)"
    )


class AddMoneyView(_View):
    payment: PaymentView = Field(
        description="the add-money order (method add_money), CREATED until confirmed"
    )
    form_url: str | None = Field(
        description="one-time URL for the customer's browser: serves Paytm's add-money form once"
    )
    form_expires_at: str | None


class WalletLinkProblem(Problem):
    """A refusal about a link: Paytm's code when Paytm refused, the link as left."""

    paytm_code: str | None = Field(default=None)
    paytm_message: str | None = Field(default=None)
    link: WalletLinkView | None = Field(default=None)


class RateLimitProblem(Problem):
    retry_after_seconds: int
