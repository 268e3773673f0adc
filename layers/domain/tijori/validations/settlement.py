"""Payee validations: taken by the merchant API, then sent by PayoutFunction from PayoutQueue with
the payout rules (a validation moves a penny), settled only by the status query's answer.

- The validation_id is Paytm Payouts' orderId on every call, fixed at intake.
- At most one validate call per id unless Paytm says it has no such order: a takeover or a
  redelivery after a send (`first_sent_at`) asks the status query first, and sends again (same
  orderId) only on DE_039 "No record found".
- A timeout, 5xx, non-JSON, DE_500, DE_040 or unknown code is ambiguous: the status query is asked
  (after a short delay) before anything else; never FAILED.
- DE_002 keeps it ACCEPTED: the verified callback asks for a status check; without one the sweep
  asks (rules.ACCEPTED_FIRST_CHECK). A callback never changes a validation itself.
- A configuration error never finalises: the attempt is released and the message fails to the DLQ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tijori.lifecycle.outcomes import Outcome
from tijori.lifecycle.scheduled import CallBudget, IndexedKind
from tijori.lifecycle.store import StaleTransitionError
from tijori.payouts.ports import MetricsPort, NoMetrics
from tijori.validations.lifecycle import VALIDATION_LIFECYCLE, ValidationStatus
from tijori.validations.models import PayeeValidation, PayeeValidationRequest, ValidationStep
from tijori.validations.ports import (
    PayoutsAnswer,
    PayoutsPort,
    ValidationAlreadyExistsError,
    ValidationDispatcher,
    ValidationFacts,
    ValidationRepository,
)
from tijori.validations.rules import (
    ACCEPTED_FIRST_CHECK,
    ACCEPTED_GRACE,
    ACCEPTED_RECHECK,
    CONFIGURATION_RETRY,
    REVIEW_CHECK_INTERVAL,
    UNKNOWN_OUTCOME_FIRST_CHECK,
    VALIDATION_CHECK_AGES,
    VALIDATION_DEADLINE,
    Decision,
    decide,
    said,
)

VALIDATION_KIND = "validation"
ATTEMPT_LEASE_SECONDS = 120.0
STATUS_CHECK_DELAY_SECONDS = 5.0


class ValidationConflictError(Exception):
    """The validation_id exists with another body: never a second validation."""

    def __init__(self, validation_id: str, fields: list[str]) -> None:
        super().__init__(
            f"validation_id {validation_id!r} already exists with a different {', '.join(fields)}"
        )
        self.validation_id = validation_id
        self.fields = fields


class UnknownValidationError(Exception):
    """A queued or polled validation id that the table does not hold."""


class ValidationConfigurationError(Exception):
    """Paytm says our side is wrong (MID, key, sub-wallet): the message fails; a redrive after the
    fix resumes the same validation."""

    def __init__(self, validation_id: str, answer: PayoutsAnswer) -> None:
        super().__init__(f"{validation_id}: Paytm configuration error {answer.code}: {answer.message}")
        self.answer = answer


@dataclass(frozen=True)
class ValidationIntakeResult:
    validation: PayeeValidation
    created: bool


def facts_of(answer: PayoutsAnswer) -> ValidationFacts:
    return ValidationFacts(
        code=answer.code,
        paytm_status=answer.status,
        paytm_order_id=answer.paytm_order_id,
        penny_amount=answer.amount,
    )


def submit_validation(
    request: PayeeValidationRequest,
    *,
    repository: ValidationRepository,
    dispatcher: ValidationDispatcher,
    now: datetime,
    callback_url: str | None,
) -> ValidationIntakeResult:
    """Store and queue a validation, or answer the stored one for an identical replay."""
    fingerprint = request.fingerprint()
    validation = PayeeValidation(
        validation_id=request.validation_id,
        phone=request.phone,
        request_fingerprint=fingerprint,
        status=ValidationStatus.ACCEPTED,
        callback_url=callback_url,
        reason="accepted",
        created_at=now,
        updated_at=now,
        history=(ValidationStep(from_status=None, to_status="ACCEPTED", at=now, reason="accepted"),),
    )
    try:
        repository.create(validation, first_check_at=now + ACCEPTED_GRACE)
    except ValidationAlreadyExistsError:
        stored = repository.get(request.validation_id)
        if stored is None:
            raise
        if stored.request_fingerprint != fingerprint:
            fields = [name for name in ("phone",) if getattr(stored, name) != getattr(request, name)]
            raise ValidationConflictError(request.validation_id, fields or ["body"]) from None
        if stored.status is ValidationStatus.ACCEPTED and stored.first_sent_at is None:
            dispatcher.dispatch_item(VALIDATION_KIND, stored.validation_id)  # its message may be lost
        return ValidationIntakeResult(stored, created=False)
    dispatcher.dispatch_item(VALIDATION_KIND, validation.validation_id)
    return ValidationIntakeResult(validation, created=True)


class ValidationSettler:
    """One attempt at a validation, and one status check of it. Ports are injected."""

    def __init__(
        self,
        *,
        repository: ValidationRepository,
        payouts: PayoutsPort,
        mid: str | None,
        dispatcher: ValidationDispatcher | None,
        clock: Callable[[], datetime],
        wall_clock: Callable[[], float],
        check_delay_seconds: float = STATUS_CHECK_DELAY_SECONDS,
        metrics: MetricsPort | None = None,
    ) -> None:
        self.repository = repository
        self._payouts = payouts
        self._mid = mid
        self._dispatcher = dispatcher
        self._clock = clock
        self._wall_clock = wall_clock
        self._check_delay = check_delay_seconds
        self._metrics = metrics or NoMetrics()

    # ---- the attempt (PayoutFunction, an `attempt` message) ---------------------------------
    async def attempt(self, validation_id: str, budget: CallBudget) -> str:
        now, lease = self._clock(), self._wall_clock() + ATTEMPT_LEASE_SECONDS
        validation = await asyncio.to_thread(
            self.repository.take_attempt,
            validation_id,
            wall_now=self._wall_clock(),
            lease_until=lease,
            at=now,
        )
        if validation is None:
            if await asyncio.to_thread(self.repository.get, validation_id) is None:
                raise UnknownValidationError(validation_id)
            return "nothing to do: another attempt holds it, or it is past ACCEPTED"
        try:
            return await self._attempt(validation, budget)
        except BaseException:
            await asyncio.to_thread(self.repository.release_attempt, validation_id)
            raise

    def _refuse_if_misconfigured(self, validation: PayeeValidation, answer: PayoutsAnswer) -> None:
        if answer.outcome is Outcome.CONFIGURATION_ERROR:
            self._metrics.count("PaytmConfigurationErrors")
            raise ValidationConfigurationError(validation.validation_id, answer)

    async def _status(self, validation: PayeeValidation, timeout: float) -> PayoutsAnswer:
        return await self._payouts.order_status(validation.validation_id, timeout=timeout)

    async def _send(self, validation: PayeeValidation, budget: CallBudget) -> PayoutsAnswer:
        await asyncio.to_thread(self.repository.mark_sent, validation.validation_id, at=self._clock())
        answer = await self._payouts.validate(
            validation.validation_id,
            phone=validation.phone,
            callback_url=validation.callback_url,
            timeout=budget.call_timeout(),
        )
        self._refuse_if_misconfigured(validation, answer)
        return answer

    async def _attempt(self, validation: PayeeValidation, budget: CallBudget) -> str:
        if validation.first_sent_at is not None:
            # An earlier attempt may have reached Paytm: ask before anything else.
            status = await self._status(validation, budget.call_timeout())
            self._refuse_if_misconfigured(validation, status)
            if status.outcome is not Outcome.NOT_FOUND:
                return await self._apply_status(validation, status, holds_lease=True)
        sent = await self._send(validation, budget)
        decision = decide(validation, sent, status_answer=False)
        if decision is not None:
            return await self._apply(validation, sent, decision, holds_lease=True)
        # Ambiguous, or a verdict only the status query's record may confirm: ask.
        if budget.allows(self._check_delay + budget.call_timeout()):
            await asyncio.sleep(self._check_delay)
            status = await self._status(validation, budget.call_timeout())
            self._refuse_if_misconfigured(validation, status)
            if status.outcome is not Outcome.NOT_FOUND:
                return await self._apply_status(validation, status, holds_lease=True)
            if sent.outcome is Outcome.AMBIGUOUS and budget.allows(budget.call_timeout()):
                # Paytm never took it: send again, same orderId.
                sent = await self._send(validation, budget)
                decision = decide(validation, sent, status_answer=False)
                if decision is not None:
                    return await self._apply(validation, sent, decision, holds_lease=True)
        return await self._hand_off_unknown(validation, sent)

    async def _apply_status(
        self, validation: PayeeValidation, answer: PayoutsAnswer, *, holds_lease: bool
    ) -> str:
        decision = decide(validation, answer, status_answer=True, mid=self._mid)
        if decision is not None:
            return await self._apply(validation, answer, decision, holds_lease=holds_lease)
        if holds_lease:
            return await self._hand_off_unknown(validation, answer)
        return "nothing decided"

    async def _apply(
        self, validation: PayeeValidation, answer: PayoutsAnswer, decision: Decision, *, holds_lease: bool
    ) -> str:
        now = self._clock()
        if decision.target is ValidationStatus.ACCEPTED:
            await asyncio.to_thread(
                self.repository.record_check,
                validation.validation_id,
                at=now,
                next_check_at=now + ACCEPTED_FIRST_CHECK,
                facts=facts_of(answer),
                reason=decision.reason,
                release_attempt=holds_lease,
            )
            return "accepted by Paytm: the callback or the sweep brings the result"
        target = decision.target
        next_check = None
        if target is ValidationStatus.NEEDS_REVIEW and not decision.final_answer:
            next_check = now + REVIEW_CHECK_INTERVAL
        try:
            await asyncio.to_thread(
                self.repository.transition,
                validation.validation_id,
                expected=validation.status,
                target=target,
                at=now,
                reason=decision.reason,
                next_check_at=next_check,
                facts=facts_of(answer),
                pending_since=now if target is ValidationStatus.PENDING else None,
                unless_leased_at=None if holds_lease else self._wall_clock(),
            )
        except StaleTransitionError:
            return "moved meanwhile by another writer"
        self._metrics.count(f"Validations{target.value.title().replace('_', '')}")
        return target.value

    async def _hand_off_unknown(self, validation: PayeeValidation, answer: PayoutsAnswer) -> str:
        now = self._clock()
        await asyncio.to_thread(
            self.repository.record_check,
            validation.validation_id,
            at=now,
            next_check_at=now + UNKNOWN_OUTCOME_FIRST_CHECK,
            facts=ValidationFacts(code=answer.code, paytm_status=answer.status),
            reason=f"outcome unknown, the status query asks again: {said(answer)}",
            release_attempt=True,
        )
        self._metrics.count("ValidationsOutcomeUnknown")
        return "outcome unknown: the scheduled run checks it"

    # ---- a status check (callback, sweep, pending loop, one-off) ----------------------------
    async def check(self, validation_id: str, *, timeout: float, from_due_index: bool = False) -> str:
        """Ask the status query about one validation and apply the answer (sends no validate)."""
        validation = await asyncio.to_thread(self.repository.get, validation_id)
        if validation is None:
            raise UnknownValidationError(validation_id)
        if VALIDATION_LIFECYCLE.is_final(validation.status):
            if from_due_index:
                await asyncio.to_thread(self.repository.leave_due_index, validation_id)
            return validation.status.value
        now = self._clock()
        accepted = validation.status is ValidationStatus.ACCEPTED
        # An attempt in flight: asking the status sends nothing, so a check (a callback's, say)
        # may still settle it on a matching record; anything else it leaves to the attempt.
        leased = accepted and (validation.lease_until or 0) > self._wall_clock()
        if accepted and validation.first_sent_at is None:
            if leased:
                return "attempt in flight, not sent yet"
            # Never sent: its message was lost (or is still queued): queue it again.
            if self._dispatcher is not None:
                await asyncio.to_thread(self._dispatcher.dispatch_item, VALIDATION_KIND, validation_id)
            await asyncio.to_thread(self.repository.postpone_check, validation_id, until=now + ACCEPTED_GRACE)
            return "requeued"
        answer = await self._status(validation, timeout)
        now = self._clock()
        if answer.outcome is Outcome.CONFIGURATION_ERROR:
            self._metrics.count("PaytmConfigurationErrors")
        else:
            decision = decide(validation, answer, status_answer=True, mid=self._mid)
            if decision is not None:
                # Paytm's matching record is the truth, lease or not: an attempt in flight then
                # finds the validation moved at its next write and stops.
                return await self._apply(validation, answer, decision, holds_lease=leased)
        if leased:
            return "attempt in flight: it records what it learns"
        if answer.outcome is Outcome.NOT_FOUND and accepted and self._dispatcher is not None:
            # Sent, and Paytm has no such order: the attempt asks again and sends (same orderId).
            await asyncio.to_thread(self._dispatcher.dispatch_item, VALIDATION_KIND, validation_id)
        since = self._deadline_clock(validation)
        open_waiting = validation.status in (ValidationStatus.ACCEPTED, ValidationStatus.PENDING)
        # Not while our side is misconfigured: the validation stays ACCEPTED, so that the redrive
        # after the fix resumes it (an attempt takes only an ACCEPTED validation).
        misconfigured = answer.outcome is Outcome.CONFIGURATION_ERROR
        if open_waiting and not misconfigured and now - since >= VALIDATION_DEADLINE:
            since_what = (
                "it became pending" if validation.status is ValidationStatus.PENDING else "the first send"
            )
            hours = int(VALIDATION_DEADLINE.total_seconds() // 3600)
            reason = f"no final answer {hours} h after {since_what} (last answer {said(answer)})"
            try:
                await asyncio.to_thread(
                    self.repository.transition,
                    validation_id,
                    expected=validation.status,
                    target=ValidationStatus.NEEDS_REVIEW,
                    at=now,
                    reason=reason,
                    next_check_at=now + REVIEW_CHECK_INTERVAL,
                    facts=ValidationFacts(code=answer.code, paytm_status=answer.status),
                    unless_leased_at=self._wall_clock(),
                )
            except StaleTransitionError:
                return "moved meanwhile"
            self._metrics.count("ValidationsNeedsReview")
            return ValidationStatus.NEEDS_REVIEW.value
        if validation.status is ValidationStatus.PENDING:
            if from_due_index:
                await asyncio.to_thread(self.repository.file_as_pending, validation_id, pending_since=since)
            return "still pending"
        if answer.outcome is Outcome.CONFIGURATION_ERROR:
            wait = CONFIGURATION_RETRY
        elif validation.status is ValidationStatus.NEEDS_REVIEW:
            wait = REVIEW_CHECK_INTERVAL
        else:
            wait = ACCEPTED_RECHECK
        await asyncio.to_thread(
            self.repository.record_check,
            validation_id,
            at=now,
            next_check_at=now + wait,
            facts=ValidationFacts(code=answer.code, paytm_status=answer.status),
        )
        return f"{validation.status.value}: asked again in {int(wait.total_seconds())} s"

    @staticmethod
    def _deadline_clock(validation: PayeeValidation) -> datetime:
        if validation.status is ValidationStatus.PENDING and validation.pending_since is not None:
            return validation.pending_since
        return validation.first_sent_at or validation.created_at


class ValidationChecks(IndexedKind):
    """Validations as a kind of the scheduled run (tijori.lifecycle.scheduled.ScheduledKind)."""

    kind = VALIDATION_KIND
    check_ages = VALIDATION_CHECK_AGES

    def __init__(self, settler: ValidationSettler) -> None:
        super().__init__(settler.repository)
        self._settler = settler

    async def sweep_due(self, item_id: str, now: datetime, budget: CallBudget) -> list[str]:
        result = await self._settler.check(item_id, timeout=budget.call_timeout(), from_due_index=True)
        return ["requeued"] if result == "requeued" else ["checked"]

    async def check_pending(self, item_id: str, budget: CallBudget) -> list[str]:
        await self._settler.check(item_id, timeout=budget.call_timeout())
        return ["checked"]
