"""Refunds: accepted against a PAID payment, then sent by PayoutFunction from PayoutQueue with the
payout rules (refunds are money out).

- The refund_id is Paytm's REFID on every attempt, and is unique across the merchant.
- Intake reserves the amount on the payment in the same transaction that stores the refund,
  conditional on the payment being PAID with that much left: the sum of refunds not FAILED never
  exceeds the paid amount, whatever the concurrency. Nothing is sent to Paytm for a refused one.
- A timeout, 5xx, non-JSON or unknown code is ambiguous: the Refund Status API is asked (after a
  delay) before any resend, and a resend happens only when Paytm says it knows no such refund.
- An attempt that is not the first (the previous one died or timed out) asks the status first.
- PENDING refunds get the pending loop (REFUND_CHECK_AGES), then NEEDS_REVIEW, checked daily.
- A FAILED refund gives its amount back to what can be refunded (same transaction).
- A configuration error never finalises: the attempt is released and the message fails to the DLQ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tijori.lifecycle.outcomes import Outcome
from tijori.lifecycle.scheduled import CallBudget, IndexedKind
from tijori.lifecycle.store import StaleTransitionError
from tijori.payments.lifecycle import REFUND_LIFECYCLE, PaymentStatus, RefundStatus
from tijori.payments.models import Refund, RefundRequest, Step
from tijori.payments.ports import (
    Dispatcher,
    PaymentRepository,
    PaytmFacts,
    PgPort,
    RefundAnswer,
    RefundExistsError,
    RefundRefusedError,
    RefundRepository,
)
from tijori.payments.rules import (
    REFUND_CHECK_AGES,
    REFUND_PENDING_WINDOW,
    REVIEW_CHECK_INTERVAL,
    decide_refund,
)
from tijori.payouts.ports import MetricsPort, NoMetrics

REFUND_KIND = "refund"
# A refund still ACCEPTED this long after intake (its message was lost) is queued again.
ACCEPTED_GRACE = timedelta(minutes=15)
ATTEMPT_LEASE_SECONDS = 120.0
STATUS_CHECK_DELAY_SECONDS = 5.0
UNKNOWN_OUTCOME_FIRST_CHECK = timedelta(minutes=1)
CONFIGURATION_RETRY = timedelta(hours=1)


class RefundConflictError(Exception):
    """The refund_id exists with another body, or under another payment."""

    def __init__(self, refund_id: str, message: str, fields: list[str]) -> None:
        super().__init__(message)
        self.refund_id = refund_id
        self.fields = fields


class RefundNotAllowedError(Exception):
    """The payment cannot be refunded this amount (status, or amount over what is left)."""

    def __init__(self, message: str, *, status: int, field: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


class UnknownPaymentForRefundError(Exception):
    """No payment with this order id."""


class UnknownRefundError(Exception):
    """A queued or polled refund id that RefundsTable does not hold."""


class RefundConfigurationError(Exception):
    """Paytm says our side is wrong (key, MID): the message fails; a redrive after the fix resumes."""

    def __init__(self, refund_id: str, answer: RefundAnswer) -> None:
        super().__init__(f"{refund_id}: Paytm configuration error {answer.code}: {answer.message}")
        self.answer = answer


@dataclass(frozen=True)
class RefundIntakeResult:
    refund: Refund
    created: bool


def _facts(answer: RefundAnswer) -> PaytmFacts:
    return PaytmFacts(code=answer.code, message=answer.message, paytm_refund_id=answer.refund_id)


def submit_refund(
    order_id: str,
    request: RefundRequest,
    *,
    payments: PaymentRepository,
    refunds: RefundRepository,
    dispatcher: Dispatcher,
    now: datetime,
) -> RefundIntakeResult:
    """Store, reserve and queue a refund, or answer the stored one for an identical replay."""
    fingerprint = request.fingerprint(order_id)
    refund = Refund(
        refund_id=request.refund_id,
        order_id=order_id,
        amount=request.amount,
        reason=request.reason,
        request_fingerprint=fingerprint,
        status=RefundStatus.ACCEPTED,
        created_at=now,
        updated_at=now,
        history=(Step(from_status=None, to_status="ACCEPTED", at=now, reason="accepted"),),
    )
    try:
        refunds.create_reserving(refund, first_check_at=now + ACCEPTED_GRACE)
    except RefundExistsError:
        stored = refunds.get(request.refund_id)
        if stored is None:
            raise
        if stored.order_id != order_id:
            raise RefundConflictError(
                request.refund_id,
                f"refund_id {request.refund_id!r} is already used by another payment (Paytm's REFID is "
                "unique across the merchant)",
                ["refund_id"],
            ) from None
        if stored.request_fingerprint != fingerprint:
            fields = [n for n in ("amount", "reason") if getattr(stored, n) != getattr(request, n)]
            raise RefundConflictError(
                request.refund_id,
                f"refund_id {request.refund_id!r} already exists with a different {', '.join(fields)}",
                fields,
            ) from None
        if stored.status is RefundStatus.ACCEPTED:
            dispatcher.dispatch_item(REFUND_KIND, stored.refund_id)
        return RefundIntakeResult(stored, created=False)
    except RefundRefusedError:
        payment = payments.get(order_id)
        if payment is None:
            raise UnknownPaymentForRefundError(order_id) from None
        if payment.method == "add_money":
            raise RefundNotAllowedError(
                f"payment {order_id!r} is an add-money order (the customer's own top-up of their wallet): "
                "it is not refundable through Tijori",
                status=409,
                field="order_id",
            ) from None
        if payment.status is not PaymentStatus.PAID:
            raise RefundNotAllowedError(
                f"payment {order_id!r} is {payment.status.value}: only a PAID payment can be refunded",
                status=409,
                field="order_id",
            ) from None
        raise RefundNotAllowedError(
            f"amount {request.amount:.2f} is over what can still be refunded ({payment.refundable:.2f} INR "
            "of the paid amount, less refunds not failed)",
            status=422,
            field="amount",
        ) from None
    dispatcher.dispatch_item(REFUND_KIND, refund.refund_id)
    return RefundIntakeResult(refund, created=True)


class RefundSettler:
    """One attempt at a refund, and one status check of it. Ports are injected."""

    def __init__(
        self,
        *,
        refunds: RefundRepository,
        payments: PaymentRepository,
        pg: PgPort,
        dispatcher: Dispatcher | None,
        clock: Callable[[], datetime],
        wall_clock: Callable[[], float],
        check_delay_seconds: float = STATUS_CHECK_DELAY_SECONDS,
        metrics: MetricsPort | None = None,
    ) -> None:
        self.refunds = refunds
        self._payments = payments
        self._pg = pg
        self._dispatcher = dispatcher
        self._clock = clock
        self._wall_clock = wall_clock
        self._check_delay = check_delay_seconds
        self._metrics = metrics or NoMetrics()

    async def attempt(self, refund_id: str, budget: CallBudget) -> str:
        now, lease = self._clock(), self._wall_clock() + ATTEMPT_LEASE_SECONDS
        refund = await asyncio.to_thread(self.refunds.claim, refund_id, at=now, lease_until=lease)
        first_attempt = refund is not None
        if refund is None:
            refund = await asyncio.to_thread(
                self.refunds.take_over, refund_id, wall_now=self._wall_clock(), lease_until=lease, at=now
            )
        if refund is None:
            if await asyncio.to_thread(self.refunds.get, refund_id) is None:
                raise UnknownRefundError(refund_id)
            return "duplicate delivery: nothing to do"
        try:
            return await self._attempt(refund, first_attempt, budget)
        except BaseException:
            await asyncio.to_thread(self.refunds.release_attempt, refund_id)
            raise

    async def _attempt(self, refund: Refund, first_attempt: bool, budget: CallBudget) -> str:
        payment = await asyncio.to_thread(self._payments.get, refund.order_id)
        if payment is None or payment.paytm_txn_id is None:
            raise UnknownRefundError(f"{refund.refund_id}: its payment {refund.order_id} has no Paytm txn id")

        def refuse_if_misconfigured(answer: RefundAnswer) -> None:
            if answer.outcome is Outcome.CONFIGURATION_ERROR:
                raise RefundConfigurationError(refund.refund_id, answer)

        if not first_attempt:
            status = await self._refund_status(refund, budget)
            refuse_if_misconfigured(status)
            if status.outcome is not Outcome.NOT_FOUND:
                return await self._apply(refund, status, holds_lease=True)
        sent = await self._pg.refund(refund, paytm_txn_id=payment.paytm_txn_id, timeout=budget.call_timeout())
        refuse_if_misconfigured(sent)
        if decide_refund(refund, sent) is not None:
            return await self._apply(refund, sent, holds_lease=True)
        # Ambiguous: ask before anything else.
        if budget.allows(self._check_delay + budget.call_timeout()):
            await asyncio.sleep(self._check_delay)
            status = await self._refund_status(refund, budget)
            refuse_if_misconfigured(status)
            if status.outcome is Outcome.NOT_FOUND and budget.allows(budget.call_timeout()):
                # Paytm never took it: send again, same REFID.
                sent = await self._pg.refund(
                    refund, paytm_txn_id=payment.paytm_txn_id, timeout=budget.call_timeout()
                )
                refuse_if_misconfigured(sent)
                if decide_refund(refund, sent) is not None:
                    return await self._apply(refund, sent, holds_lease=True)
            elif status.outcome is not Outcome.NOT_FOUND:
                return await self._apply(refund, status, holds_lease=True)
        return await self._hand_off_unknown(refund, sent)

    async def _refund_status(self, refund: Refund, budget: CallBudget) -> RefundAnswer:
        return await self._pg.refund_status(refund.order_id, refund.refund_id, timeout=budget.call_timeout())

    async def _apply(self, refund: Refund, answer: RefundAnswer, *, holds_lease: bool) -> str:
        decision = decide_refund(refund, answer)
        if decision is None:
            if holds_lease:
                return await self._hand_off_unknown(refund, answer)
            return "nothing decided"
        now = self._clock()
        target = RefundStatus(decision.target)
        next_check = None
        if target is RefundStatus.NEEDS_REVIEW and not decision.final_answer:
            next_check = now + REVIEW_CHECK_INTERVAL
        try:
            await asyncio.to_thread(
                self.refunds.settle,
                refund,
                expected=refund.status,
                target=target,
                at=now,
                reason=decision.reason,
                next_check_at=next_check,
                facts=_facts(answer),
                pending_since=now if target is RefundStatus.PENDING else None,
                unless_leased_at=None if holds_lease else self._wall_clock(),
            )
        except StaleTransitionError:
            return "moved meanwhile by another writer"
        self._metrics.count(f"Refunds{target.value.title().replace('_', '')}")
        return target.value

    async def _hand_off_unknown(self, refund: Refund, answer: RefundAnswer) -> str:
        now = self._clock()
        await asyncio.to_thread(
            self.refunds.record_check,
            refund.refund_id,
            at=now,
            next_check_at=now + UNKNOWN_OUTCOME_FIRST_CHECK,
            facts=PaytmFacts(code=answer.code, message=f"outcome unknown: {answer.message}"),
            release_attempt=True,
        )
        return "outcome unknown: the scheduled run checks it"

    async def check(self, refund_id: str, *, timeout: float, from_due_index: bool = False) -> str:
        """Ask the Refund Status API about one refund and apply the answer."""
        refund = await asyncio.to_thread(self.refunds.get, refund_id)
        if refund is None:
            raise UnknownRefundError(refund_id)
        if REFUND_LIFECYCLE.is_final(refund.status):
            await asyncio.to_thread(self.refunds.leave_due_index, refund_id)
            return refund.status.value
        now = self._clock()
        if refund.status is RefundStatus.ACCEPTED:
            # Its message was lost: queue it again.
            if self._dispatcher is not None:
                await asyncio.to_thread(self._dispatcher.dispatch_item, REFUND_KIND, refund_id)
            await asyncio.to_thread(self.refunds.postpone_check, refund_id, until=now + ACCEPTED_GRACE)
            return "requeued"
        if refund.status is RefundStatus.PROCESSING and (refund.lease_until or 0) > self._wall_clock():
            await asyncio.to_thread(self.refunds.postpone_check, refund_id, until=now + ACCEPTED_GRACE)
            return "attempt in flight"
        answer = await self._pg.refund_status(refund.order_id, refund_id, timeout=timeout)
        now = self._clock()
        if answer.outcome is not Outcome.CONFIGURATION_ERROR:
            if decide_refund(refund, answer) is not None:
                return await self._apply(refund, answer, holds_lease=False)
            never_taken = answer.outcome is Outcome.NOT_FOUND and refund.status is RefundStatus.PROCESSING
            if never_taken and self._dispatcher is not None:
                await asyncio.to_thread(self._dispatcher.dispatch_item, REFUND_KIND, refund_id)
        if refund.status is RefundStatus.PENDING:
            since = refund.pending_since or refund.updated_at
            if now - since >= REFUND_PENDING_WINDOW:
                try:
                    await asyncio.to_thread(
                        self.refunds.settle,
                        refund,
                        expected=RefundStatus.PENDING,
                        target=RefundStatus.NEEDS_REVIEW,
                        at=now,
                        reason=f"still pending after {REFUND_PENDING_WINDOW.days} days "
                        f"(last answer {answer.code}: {answer.message})",
                        next_check_at=now + REVIEW_CHECK_INTERVAL,
                        facts=_facts(answer),
                    )
                except StaleTransitionError:
                    return "moved meanwhile"
                return RefundStatus.NEEDS_REVIEW.value
            if from_due_index:
                await asyncio.to_thread(self.refunds.file_as_pending, refund_id, pending_since=since)
            return "still pending"
        wait = REVIEW_CHECK_INTERVAL
        if refund.status is RefundStatus.PROCESSING:
            misconfigured = answer.outcome is Outcome.CONFIGURATION_ERROR
            wait = CONFIGURATION_RETRY if misconfigured else timedelta(minutes=5)
        await asyncio.to_thread(
            self.refunds.record_check, refund_id, at=now, next_check_at=now + wait, facts=_facts(answer)
        )
        return f"{refund.status.value}: asked again in {int(wait.total_seconds())} s"


class RefundChecks(IndexedKind):
    """Refunds as a kind of the scheduled run (tijori.lifecycle.scheduled.ScheduledKind)."""

    kind = REFUND_KIND
    check_ages = REFUND_CHECK_AGES

    def __init__(self, settler: RefundSettler) -> None:
        super().__init__(settler.refunds)
        self._settler = settler

    async def sweep_due(self, item_id: str, now: datetime, budget: CallBudget) -> list[str]:
        result = await self._settler.check(item_id, timeout=budget.call_timeout(), from_due_index=True)
        return ["requeued"] if result == "requeued" else ["checked"]

    async def check_pending(self, item_id: str, budget: CallBudget) -> list[str]:
        await self._settler.check(item_id, timeout=budget.call_timeout())
        return ["checked"]
