"""What wallet links and charges need from the outside: the link store, the token vault, the
per-phone rate limiter and Paytm's auto-debit calls (seed 002). Adapters implement them
(tijori.adapters.wallet_link_table, token_vault, autodebit_gateway).

The answers are the domain's own: the gateway adapter reads them off the connector's
(tijori.paytm.autodebit_*), so this layer never sees a wire format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from pydantic import SecretStr

from tijori.lifecycle.outcomes import Outcome
from tijori.wallet_links.lifecycle import WalletLinkStatus
from tijori.wallet_links.models import AddMoneyTicket, WalletLink


@dataclass(frozen=True)
class OtpSent:
    outcome: Outcome
    state: str | None = None
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class TokenIssued:
    outcome: Outcome
    access_token: SecretStr | None = None
    expires_at: datetime | None = None
    customer_id: str | None = None
    code: str | None = None
    message: str | None = None
    wrong_otp: bool = False


@dataclass(frozen=True)
class TokenDetails:
    outcome: Outcome
    known: bool | None = None  # False: Paytm no longer knows the token (530)
    expires_at: datetime | None = None
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Revoked:
    outcome: Outcome  # SUCCESS (200) or NOT_FOUND (404): the token is dead either way
    http_status: int | None = None


@dataclass(frozen=True)
class Balance:
    outcome: Outcome
    funds_sufficient: bool | None = None
    add_money_allowed: bool | None = None
    deficit: Decimal | None = None
    code: str | None = None
    message: str | None = None
    token_rejected: bool = False


@dataclass(frozen=True)
class Withdrawal:
    """directPay's answer. Only the status API's record makes a charge PAID."""

    outcome: Outcome
    status: str | None = None
    order_id: str | None = None
    amount: Decimal | None = None
    txn_id: str | None = None
    bank_txn_id: str | None = None
    code: str | None = None
    message: str | None = None
    token_rejected: bool = False
    insufficient_balance: bool = False


@dataclass(frozen=True)
class AddMoneyForm:
    """The auto-submitting form for Paytm's processTransaction. It carries the customer's token:
    it goes only to the customer's own browser."""

    action: str
    fields: dict[str, str]

    def __repr__(self) -> str:
        return f"AddMoneyForm(action={self.action!r}, fields=<{len(self.fields)} hidden>)"


class AutoDebitPort(Protocol):
    async def send_otp(self, phone: str, email: str | None, *, timeout: float) -> OtpSent: ...

    async def verify_otp(self, state: str, otp: str, *, timeout: float) -> TokenIssued: ...

    async def token_details(self, token: SecretStr, *, timeout: float) -> TokenDetails: ...

    async def revoke(self, token: SecretStr, *, timeout: float) -> Revoked: ...

    async def check_balance(self, token: SecretStr, amount: Decimal, *, timeout: float) -> Balance: ...

    async def direct_pay(
        self, order_id: str, amount: Decimal, token: SecretStr, cust_id: str, *, timeout: float
    ) -> Withdrawal: ...

    def add_money_form(
        self, order_id: str, amount: Decimal, token: SecretStr, cust_id: str, callback_url: str
    ) -> AddMoneyForm: ...


class TokenVault(Protocol):
    """Envelope encryption of a customer's token, bound to its link id."""

    def seal(self, link_id: str, token: SecretStr) -> str: ...

    def open(self, link_id: str, sealed: str) -> SecretStr: ...


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int = 0


class PhoneRateLimiter(Protocol):
    def take(
        self, phone: str, action: str, *, limit: int, window_seconds: int, now: datetime
    ) -> RateDecision: ...


class WalletLinkRepository(Protocol):
    def create(self, link: WalletLink) -> None:
        """Store a new link; tijori.lifecycle.store.AlreadyExistsError if the id is taken."""

    def get(self, link_id: str) -> WalletLink | None: ...

    def record_otp_sent(self, link_id: str, *, state: str, at: datetime) -> None: ...

    def record_wrong_otp(
        self, link_id: str, *, at: datetime, code: str | None, fail_at: int
    ) -> WalletLink | None:
        """Count a wrong OTP while OTP_SENT; the link FAILED in the same write when this is the
        `fail_at`-th. The link as left, or None when it was not OTP_SENT any more."""

    def transition(
        self,
        link_id: str,
        *,
        expected: WalletLinkStatus,
        target: WalletLinkStatus,
        at: datetime,
        reason: str,
        code: str | None = None,
        sealed_token: str | None = None,
        token_expires_at: datetime | None = None,
        customer_id: str | None = None,
    ) -> None:
        """StaleTransitionError when not in `expected`. Leaving LINKED forgets the token and
        Paytm's state in the same write; reaching LINKED stores the sealed token."""

    def create_ticket(self, ticket_key: str, ticket: AddMoneyTicket) -> None: ...

    def take_ticket(self, ticket_key: str, *, now: datetime) -> AddMoneyTicket | None:
        """The ticket, marked used in the same conditional write; None when unknown, used or
        expired."""
