"""What the payments logic needs from the outside: Paytm PG's answers as plain values, and the
protocols the adapters implement (tables, queue, the PG connector)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from tijori.lifecycle.outcomes import Outcome
from tijori.payments.lifecycle import PaymentStatus, RefundStatus
from tijori.payments.models import Payment, Refund


@dataclass(frozen=True)
class InitiateAnswer:
    """initiateTransaction's answer, its signature verified (a wrong one is AMBIGUOUS: no answer)."""

    outcome: Outcome
    code: str | None
    message: str | None
    txn_token: str | None = None


@dataclass(frozen=True)
class TxnStatusAnswer:
    """The Transaction Status API's answer. `outcome` is SUCCESS / PENDING / FINAL_FAILURE for the
    transaction, or NOT_FOUND / CONFIGURATION_ERROR / AMBIGUOUS when the request itself failed."""

    outcome: Outcome
    status: str | None = None
    code: str | None = None
    message: str | None = None
    order_id: str | None = None
    mid: str | None = None
    amount: Decimal | None = None
    txn_id: str | None = None
    bank_txn_id: str | None = None
    payment_mode: str | None = None


@dataclass(frozen=True)
class RefundAnswer:
    """The Refund or Refund Status API's answer (outcome as for TxnStatusAnswer)."""

    outcome: Outcome
    status: str | None = None
    code: str | None = None
    message: str | None = None
    ref_id: str | None = None
    refund_id: str | None = None
    amount: Decimal | None = None
    order_id: str | None = None


class PgPort(Protocol):
    mid: str

    async def initiate_transaction(
        self, payment: Payment, *, callback_url: str, timeout: float
    ) -> InitiateAnswer: ...

    async def transaction_status(
        self, order_id: str, *, timeout: float, txn_type: str | None = None
    ) -> TxnStatusAnswer:
        """`txn_type`: seed 002's TXN_TYPE, `WITHDRAW` for a charge on a linked wallet."""

    async def refund(self, refund: Refund, *, paytm_txn_id: str, timeout: float) -> RefundAnswer: ...

    async def refund_status(self, order_id: str, refund_id: str, *, timeout: float) -> RefundAnswer: ...


@dataclass(frozen=True)
class PaytmFacts:
    """What Paytm's answer told about the item, recorded with a transition or a check."""

    code: str | None = None
    message: str | None = None
    paytm_txn_id: str | None = None
    bank_txn_id: str | None = None
    payment_mode: str | None = None
    paid_amount: Decimal | None = None
    paytm_refund_id: str | None = None
    # False for money that is not the merchant's to refund (an add-money order tops up the
    # customer's own wallet): paid, with nothing refundable.
    refundable: bool = True


class PaymentRepository(Protocol):
    def create(self, payment: Payment, *, first_check_at: datetime) -> None: ...

    def get(self, order_id: str) -> Payment | None: ...

    def record_token(self, order_id: str, *, txn_token: str, expires_at: datetime, at: datetime) -> None: ...

    def transition(
        self,
        order_id: str,
        *,
        expected: PaymentStatus,
        target: PaymentStatus,
        at: datetime,
        reason: str,
        next_check_at: datetime | None,
        facts: PaytmFacts | None = None,
        pending_since: datetime | None = None,
        release_attempt: bool = False,
        unless_leased_at: float | None = None,
    ) -> None: ...

    def record_check(
        self,
        order_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        facts: PaytmFacts | None,
        release_attempt: bool = False,
    ) -> None: ...

    def claim(self, order_id: str, *, at: datetime, lease_until: float) -> Payment | None: ...

    def take_over(self, order_id: str, *, wall_now: float, lease_until: float) -> Payment | None: ...

    def release_attempt(self, order_id: str) -> None: ...

    def postpone_check(self, order_id: str, *, until: datetime) -> None: ...

    def leave_due_index(self, order_id: str) -> None: ...

    def file_as_pending(self, order_id: str, *, pending_since: datetime) -> None: ...

    def due_for_check(self, now: datetime, *, page_size: int) -> Iterator[Sequence[str]]: ...

    def pending_since_within(
        self, windows: Sequence[tuple[datetime, datetime]], *, page_size: int
    ) -> Iterator[Sequence[str]]: ...

    def check_cursor(self) -> datetime | None: ...

    def advance_check_cursor(self, *, expected: datetime | None, to: datetime) -> bool: ...


class RefundRepository(Protocol):
    def create_reserving(self, refund: Refund, *, first_check_at: datetime) -> None:
        """Store a new refund and reserve its amount on its PAID payment, in one transaction:
        RefundExistsError, or RefundRefusedError (payment not PAID / amount over what is left)."""

    def get(self, refund_id: str) -> Refund | None: ...

    def claim(self, refund_id: str, *, at: datetime, lease_until: float) -> Refund | None:
        """ACCEPTED -> PROCESSING with a lease (first attempt); None if not ACCEPTED."""

    def take_over(
        self, refund_id: str, *, wall_now: float, lease_until: float, at: datetime
    ) -> Refund | None:
        """A PROCESSING refund whose lease expired; None if not PROCESSING or the lease runs."""

    def settle(
        self,
        refund: Refund,
        *,
        expected: RefundStatus,
        target: RefundStatus,
        at: datetime,
        reason: str,
        next_check_at: datetime | None,
        facts: PaytmFacts | None,
        pending_since: datetime | None = None,
        unless_leased_at: float | None = None,
    ) -> None:
        """The refund's transition; SUCCESS adds its amount to the payment's refunded amount and
        FAILED gives it back to what is refundable, in the same transaction."""

    def record_check(
        self,
        refund_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        facts: PaytmFacts | None,
        release_attempt: bool = False,
    ) -> None: ...

    def release_attempt(self, refund_id: str) -> None: ...

    def postpone_check(self, refund_id: str, *, until: datetime) -> None: ...

    def leave_due_index(self, refund_id: str) -> None: ...

    def file_as_pending(self, refund_id: str, *, pending_since: datetime) -> None: ...

    def due_for_check(self, now: datetime, *, page_size: int) -> Iterator[Sequence[str]]: ...

    def pending_since_within(
        self, windows: Sequence[tuple[datetime, datetime]], *, page_size: int
    ) -> Iterator[Sequence[str]]: ...

    def check_cursor(self) -> datetime | None: ...

    def advance_check_cursor(self, *, expected: datetime | None, to: datetime) -> bool: ...


class RefundExistsError(Exception):
    """A refund with this refund_id is already stored (under this payment or another)."""


class RefundRefusedError(Exception):
    """The payment cannot take this refund: not PAID, or the amount is over what is refundable."""


class Dispatcher(Protocol):
    def dispatch_item(self, kind: str, item_id: str) -> None:
        """Queue the item for PayoutFunction (an attempt)."""

    def request_item_check(self, kind: str, item_id: str) -> None:
        """Queue a status check of the item for PayoutFunction (sends no money)."""
