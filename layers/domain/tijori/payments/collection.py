"""Payments: creating one (initiateTransaction), and deciding where its money is (the Transaction
Status API, applied by tijori.payments.rules). Ports are injected.

Money rules enforced here:
- A payment is created once per order id: the same body answers the stored payment (and, if
  Paytm's answer to the first initiate was lost, initiates again: Paytm answers a repeat with
  0002 "Success Idempotent" and the same token, never a second order); another body is refused.
- An initiate answer whose signature does not verify is no answer (AMBIGUOUS), never a success.
- Only the status API's answer changes a payment (rules.decide_payment): a callback asks for a
  check and nothing more. PAID needs TXN_SUCCESS for this MID, order id and amount.
- Every write is conditional on the status it read (the lifecycle engine), so a callback's check,
  the scheduled run and an operator racing on one payment make exactly one final transition.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tijori.lifecycle.outcomes import Outcome
from tijori.lifecycle.scheduled import CallBudget, IndexedKind
from tijori.lifecycle.store import AlreadyExistsError, StaleTransitionError
from tijori.payments.charges import WITHDRAW_TXN_TYPE, ChargeSettler
from tijori.payments.lifecycle import PAYMENT_LIFECYCLE, PaymentStatus
from tijori.payments.models import Payment, PaymentRequest, Step
from tijori.payments.ports import PaymentRepository, PaytmFacts, PgPort, TxnStatusAnswer
from tijori.payments.rules import (
    CREATED_FIRST_CHECK,
    PAYMENT_CHECK_AGES,
    PAYMENT_PENDING_WINDOW,
    REVIEW_CHECK_INTERVAL,
    TOKEN_TTL,
    decide_payment,
)
from tijori.payouts.ports import MetricsPort, NoMetrics

# A CREATED payment whose check decided nothing (the token still runs, or Paytm gave no clear
# answer) is asked again this soon, then less often.
UNSETTLED_RETRY = timedelta(minutes=5)
_COMPARED_FIELDS = ("amount", "currency", "customer", "return_url", "metadata")


class PaymentConflictError(Exception):
    """The order id exists with a different request: never a second order."""

    def __init__(self, order_id: str, fields: list[str]) -> None:
        super().__init__(f"order_id {order_id!r} already exists with a different {', '.join(fields)}")
        self.order_id = order_id
        self.fields = fields


class PaytmRefusedError(Exception):
    """Paytm refused to create the order: `code` and `message` are Paytm's."""

    def __init__(self, payment: Payment, outcome: Outcome, code: str | None, message: str | None) -> None:
        super().__init__(f"Paytm refused order {payment.order_id}: {code} {message}")
        self.payment = payment
        self.outcome = outcome
        self.code = code
        self.message = message


class PaytmNoAnswerError(Exception):
    """Paytm's answer to initiateTransaction was lost, unreadable or not signed by Paytm: nothing
    is known. The merchant retries with the same body (Paytm answers a repeat idempotently)."""

    def __init__(self, payment: Payment, reason: str, code: str | None = None) -> None:
        super().__init__(f"no usable answer from Paytm for order {payment.order_id}: {reason}")
        self.payment = payment
        self.reason = reason
        self.code = code


class UnknownPaymentError(Exception):
    """A queued or polled order id that PaymentsTable does not hold."""


@dataclass(frozen=True)
class PaymentIntakeResult:
    payment: Payment
    created: bool


def new_payment(request: PaymentRequest, now: datetime) -> Payment:
    return Payment(
        order_id=request.order_id,
        amount=request.amount,
        currency=request.currency,
        customer=request.customer,
        return_url=request.return_url,
        metadata=dict(request.metadata),
        request_fingerprint=request.fingerprint(),
        status=PaymentStatus.CREATED,
        created_at=now,
        updated_at=now,
        history=(Step(from_status=None, to_status="CREATED", at=now, reason="created by the merchant"),),
    )


def _facts(answer: TxnStatusAnswer) -> PaytmFacts:
    return PaytmFacts(
        code=answer.code,
        message=answer.message,
        paytm_txn_id=answer.txn_id,
        bank_txn_id=answer.bank_txn_id,
        payment_mode=answer.payment_mode,
    )


class PaymentCollector:
    """Creates payments and settles them from the status API's answers."""

    def __init__(
        self,
        *,
        repository: PaymentRepository,
        pg: PgPort,
        clock: Callable[[], datetime],
        callback_url: str,
        metrics: MetricsPort | None = None,
        charges: ChargeSettler | None = None,
    ) -> None:
        """`charges`: settles charges not yet decided by the status API (ACCEPTED, PROCESSING)."""
        self.repository = repository
        self._charges = charges
        self._pg = pg
        self._clock = clock
        self._callback_url = callback_url
        self._metrics = metrics or NoMetrics()

    # ---- intake ------------------------------------------------------------------------------
    async def create(self, request: PaymentRequest, *, timeout: float) -> PaymentIntakeResult:
        now = self._clock()
        payment = new_payment(request, now)
        try:
            await asyncio.to_thread(self.repository.create, payment, first_check_at=now + CREATED_FIRST_CHECK)
            created = True
        except AlreadyExistsError:
            stored = await asyncio.to_thread(self.repository.get, request.order_id)
            if stored is None:
                raise
            if stored.request_fingerprint != payment.request_fingerprint:
                fields = [n for n in _COMPARED_FIELDS if getattr(stored, n) != getattr(payment, n)]
                raise PaymentConflictError(request.order_id, fields or ["body"]) from None
            payment, created = stored, False
        if payment.status is not PaymentStatus.CREATED or payment.txn_token is not None:
            return PaymentIntakeResult(payment, created)
        callback_url = self._callback_url
        answer = await self._pg.initiate_transaction(payment, callback_url=callback_url, timeout=timeout)
        if answer.outcome is Outcome.SUCCESS and answer.txn_token:
            # From the first initiate (a repeat's 0002 hands back the first token): never later
            # than Paytm's own expiry.
            await asyncio.to_thread(
                self.repository.record_token,
                payment.order_id,
                txn_token=answer.txn_token,
                expires_at=payment.created_at + TOKEN_TTL,
                at=self._clock(),
            )
            stored = await asyncio.to_thread(self.repository.get, payment.order_id)
            return PaymentIntakeResult(stored or payment, created)
        if answer.outcome in (Outcome.INVALID_REQUEST, Outcome.FINAL_FAILURE, Outcome.CONFIGURATION_ERROR):
            if answer.outcome is not Outcome.CONFIGURATION_ERROR:
                # Paytm made no order: nothing can be paid against this order id.
                with contextlib.suppress(StaleTransitionError):
                    await asyncio.to_thread(
                        self.repository.transition,
                        payment.order_id,
                        expected=PaymentStatus.CREATED,
                        target=PaymentStatus.FAILED,
                        at=self._clock(),
                        reason=f"initiateTransaction refused ({answer.code}: {answer.message})",
                        next_check_at=None,
                        facts=PaytmFacts(code=answer.code, message=answer.message),
                    )
            self._metrics.count("PaymentInitiateRefusals")
            raise PaytmRefusedError(payment, answer.outcome, answer.code, answer.message)
        self._metrics.count("PaymentInitiateNoAnswer")
        reason = f"{answer.code or 'no code'}: {answer.message or 'no message'}"
        raise PaytmNoAnswerError(payment, reason, answer.code)

    # ---- one status check --------------------------------------------------------------------
    async def check(
        self, order_id: str, *, timeout: float, attempt_reported: bool = False, from_due_index: bool = False
    ) -> str:
        """Ask the status API about one payment and apply the answer (rules.decide_payment).
        `attempt_reported`: a verified callback asked for this check (the customer did pay).
        `from_due_index`: found among the due items, so a PENDING one is filed back by its clock."""
        payment = await asyncio.to_thread(self.repository.get, order_id)
        if payment is None:
            raise UnknownPaymentError(order_id)
        if PAYMENT_LIFECYCLE.is_final(payment.status):
            await asyncio.to_thread(self.repository.leave_due_index, order_id)
            return payment.status.value
        if payment.status in (PaymentStatus.ACCEPTED, PaymentStatus.PROCESSING):
            if self._charges is None:
                raise UnknownPaymentError(f"{order_id} is a charge and no charge settler was given")
            return await self._charges.check(payment, timeout=timeout)
        if payment.is_charge:
            answer = await self._pg.transaction_status(order_id, timeout=timeout, txn_type=WITHDRAW_TXN_TYPE)
        else:
            answer = await self._pg.transaction_status(order_id, timeout=timeout)
        now = self._clock()
        decision = decide_payment(
            payment, answer, mid=self._pg.mid, now=now, attempt_reported=attempt_reported
        )
        if decision is not None:
            target = PaymentStatus(decision.target)
            facts = _facts(answer)
            if target is PaymentStatus.PAID:
                refundable = payment.method != "add_money"
                facts = dataclasses.replace(facts, paid_amount=answer.amount, refundable=refundable)
            next_check = None
            if target is PaymentStatus.NEEDS_REVIEW and not decision.final_answer:
                next_check = now + REVIEW_CHECK_INTERVAL
            try:
                await asyncio.to_thread(
                    self.repository.transition,
                    order_id,
                    expected=payment.status,
                    target=target,
                    at=now,
                    reason=decision.reason,
                    next_check_at=next_check,
                    facts=facts,
                    pending_since=now if target is PaymentStatus.PENDING else None,
                )
            except StaleTransitionError:
                return "moved meanwhile by another writer"
            if target is PaymentStatus.NEEDS_REVIEW:
                self._metrics.count("PaymentStatusMismatches")
            self._metrics.count(f"Payments{target.value.title().replace('_', '')}")
            return target.value
        return await self._wait(payment, answer, now, from_due_index=from_due_index)

    async def _wait(
        self, payment: Payment, answer: TxnStatusAnswer, now: datetime, *, from_due_index: bool
    ) -> str:
        """Nothing decided: when to ask again, and NEEDS_REVIEW once a PENDING payment has been
        asked over seed 002's 3 days."""
        facts = PaytmFacts(code=answer.code, message=answer.message)
        if payment.status is PaymentStatus.PENDING:
            since = payment.pending_since or payment.updated_at
            if now - since >= PAYMENT_PENDING_WINDOW:
                try:
                    await asyncio.to_thread(
                        self.repository.transition,
                        payment.order_id,
                        expected=PaymentStatus.PENDING,
                        target=PaymentStatus.NEEDS_REVIEW,
                        at=now,
                        reason=f"still pending after {PAYMENT_PENDING_WINDOW.days} days of status checks "
                        f"(last answer {answer.code}: {answer.message})",
                        next_check_at=now + REVIEW_CHECK_INTERVAL,
                        facts=facts,
                    )
                except StaleTransitionError:
                    return "moved meanwhile by another writer"
                self._metrics.count("PaymentsNeedingReview")
                return PaymentStatus.NEEDS_REVIEW.value
            if from_due_index:
                file = self.repository.file_as_pending
                await asyncio.to_thread(file, payment.order_id, pending_since=since)
            return "still pending"
        if payment.status is PaymentStatus.NEEDS_REVIEW:
            wait = REVIEW_CHECK_INTERVAL
        else:
            age = now - payment.created_at
            wait = max(UNSETTLED_RETRY, min(age / 2, REVIEW_CHECK_INTERVAL))
            expires = payment.token_expires_at or payment.created_at + TOKEN_TTL
            if now < expires:
                wait = max(expires - now + timedelta(minutes=1), timedelta(minutes=1))
        await asyncio.to_thread(
            self.repository.record_check, payment.order_id, at=now, next_check_at=now + wait, facts=facts
        )
        return f"{payment.status.value}: asked again in {int(wait.total_seconds())} s"


class PaymentChecks(IndexedKind):
    """Payments as a kind of the scheduled run (tijori.lifecycle.scheduled.ScheduledKind)."""

    kind = "payment"
    check_ages = PAYMENT_CHECK_AGES

    def __init__(self, collector: PaymentCollector) -> None:
        super().__init__(collector.repository)
        self._collector = collector

    async def sweep_due(self, item_id: str, now: datetime, budget: CallBudget) -> list[str]:
        await self._collector.check(item_id, timeout=budget.call_timeout(), from_due_index=True)
        return ["checked"]

    async def check_pending(self, item_id: str, budget: CallBudget) -> list[str]:
        await self._collector.check(item_id, timeout=budget.call_timeout())
        return ["checked"]
