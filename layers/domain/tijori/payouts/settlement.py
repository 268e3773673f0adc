"""From a claimed payout to where the money really is (DESIGN.md, "Payout lifecycle").

The rules, each enforced here:
- The order id is Paytm's merchantOrderId on every attempt (rule 1).
- An ambiguous answer is never FAILED: check status (after the seed's 5 s), and send again with
  the same order id only when Paytm says the order does not exist (rules 2 and 3).
- The status answer decides only when it matches: SUCCESS needs Paytm's record of this order to
  carry the stored amount (exact decimal) and, for an sso_id payee, the same ssoId. A record that
  does not match is NEEDS_REVIEW with the reason, never a success (rule 3).
- An attempt that is not the first (the previous one died, timed out, or hit a configuration
  error) checks status before anything else, so a credit that reached Paytm is never sent twice.
- Configuration errors never finalise a payout: the attempt is released and the message fails
  (rule 4), so the DLQ holds it until a redrive after the fix.
- PENDING and still-ambiguous payouts are checked by the scheduled run (rule 5): every minute an
  Express execution of the pending-checks state machine runs `run_scheduled_checks`, which checks
  what is due in the due index (each item on its own) and every PENDING payout that has reached
  one of its fixed check ages since the last run (a cursor), so a run that died is caught up by
  the next. `check` is one check of one payout.
- NEEDS_REVIEW never overtakes an attempt in flight, and never throws away a later definitive
  answer: it is still checked daily, and a matching final answer settles it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from tijori.lifecycle.announcements import ANNOUNCE_GRACE
from tijori.lifecycle.scheduled import (
    CURSOR_STEP,
    FIRST_RUN_LOOKBACK,
    MAX_CALL_TIMEOUT_SECONDS,
    SWEEP_CONCURRENCY,
    SWEEP_FAILURE_BACKOFF,
    WRITE_RESERVE_SECONDS,
    CallBudget,
    IndexedKind,
    run_checks,
)
from tijori.payouts.intake import ACCEPTED_GRACE
from tijori.payouts.lifecycle import ALLOWED_TRANSITIONS, PayoutStatus, is_final
from tijori.payouts.models import Payee, Payout, PayoutMode, PayoutRail
from tijori.payouts.pending import (
    CHECK_AGES,
    REVIEW_CHECK_INTERVAL,
    UNKNOWN_OUTCOME_FIRST_CHECK,
    CheckOutcome,
    PendingCheck,
    next_check_age,
    next_wait,
    pending_clock_start,
    settlement_deadline,
)
from tijori.payouts.ports import (
    DueEntry,
    MetricsPort,
    NoMetrics,
    OutcomeDetails,
    PayoutDispatcher,
    PayoutRepository,
    StaleTransitionError,
)
from tijori.payouts.prepaid_load import (
    PrepaidConfigurationError,
    PrepaidLoader,
    PrepaidNotSentError,
    PrepaidPort,
    review_load,
)
from tijori.payouts.processing import PROCESSING_GRACE, UnknownPayoutError
from tijori.paytm.wallet_codes import WalletOutcome
from tijori.paytm.wallet_mapping import WalletAnswer

# Seed 000: "This API should be called only if the salesToUserCredit API's response is not
# received even after 5 seconds of sending the request."
STATUS_CHECK_DELAY_SECONDS = 5.0
# How long an attempt holds a payout (wall-clock); past it a redelivery may take over.
ATTEMPT_LEASE_SECONDS = 120.0
# A status check refused as a configuration error of ours comes back no sooner than this (and
# later as the refusals go on: `PayoutSettler._wait_seconds`).
CONFIGURATION_RETRY = timedelta(hours=1)


class WalletPort(Protocol):
    async def credit(self, payout: Payout, *, verify_only: bool, timeout: float) -> WalletAnswer: ...

    async def check_status(self, order_id: str, *, timeout: float) -> WalletAnswer: ...


class PaytmConfigurationError(Exception):
    """Paytm says our side is wrong (checksum key, merchant, sub-wallet): fix, then redrive."""

    def __init__(self, order_id: str, answer: WalletAnswer, *, before_any_credit_reached_paytm: bool) -> None:
        super().__init__(f"{order_id}: Paytm configuration error {answer.status_code}: {answer.message}")
        self.answer = answer
        self.before_any_credit_reached_paytm = before_any_credit_reached_paytm


class RetryLaterError(Exception):
    """Nothing was decided and no money can have moved (a VERIFY with no answer): retry the message."""


@dataclass(frozen=True)
class Settlement:
    target: PayoutStatus
    reason: str
    # The answer is Paytm's last word on this order (a final status that did not match): there is
    # nothing more to ask, only a human to decide.
    final_answer: bool = False


def _details(answer: WalletAnswer) -> OutcomeDetails:
    return OutcomeDetails(
        status_code=answer.status_code,
        status_message=answer.message or None,
        paytm_txn_id=answer.wallet_txn_id,
    )


def _said(answer: WalletAnswer) -> str:
    return f"{answer.status_code or 'no code'}: {answer.message or 'no message'}"


def _record_said(answer: WalletAnswer) -> str:
    """A status answer's transaction, as an operator reads it (no payee identifiers)."""
    if answer.txn_status is None:
        return f"{answer.outcome.value} ({_said(answer)})"
    amount = "no amount" if answer.txn_amount is None else f"{answer.txn_amount} INR"
    return f"txn {answer.txn_status.name} {amount} ({answer.message or 'no message'})"


def settle_credit_answer(answer: WalletAnswer) -> Settlement | None:
    """What a salesToUserCredit answer decides; None when it decides nothing (ambiguous)."""
    if answer.outcome is WalletOutcome.SUCCESS:
        return Settlement(PayoutStatus.SUCCESS, "credited to the payee's wallet")
    if answer.outcome is WalletOutcome.PENDING:
        return Settlement(PayoutStatus.PENDING, f"pending at Paytm ({_said(answer)})")
    if answer.outcome in (WalletOutcome.FINAL_FAILURE, WalletOutcome.INVALID_REQUEST):
        return Settlement(PayoutStatus.FAILED, f"refused by Paytm, no money with the payee ({_said(answer)})")
    return None


def status_mismatch(answer: WalletAnswer, payout: Payout) -> str | None:
    """Why Paytm's record for this order id is not this payout; None when it matches.

    The amount must be there and equal as an exact decimal. `ssoId` is Paytm's own user id, so it
    is compared only for a payout addressed by sso_id, and only where the record carries one."""
    if answer.txn_amount is None:
        return "Paytm's record of the order carries no amount"
    if answer.txn_amount != payout.amount:
        return f"Paytm's record is for {answer.txn_amount} INR, the payout is {payout.amount:.2f} INR"
    sso_id = payout.payee.sso_id if isinstance(payout.payee, Payee) else None
    if sso_id is not None and answer.txn_sso_id is not None and answer.txn_sso_id != sso_id:
        return "Paytm's record is for another ssoId than the payout's payee"
    return None


def settle_status_answer(answer: WalletAnswer, payout: Payout) -> Settlement | None:
    """What a checkStatus answer decides for this payout as it stands; None: nothing yet.

    Only the transaction outcomes (success, pending, failure) say anything about the credit;
    request-level failures of the status call (ambiguous, configuration, not found) never do."""
    current = payout.status
    if answer.outcome not in (WalletOutcome.SUCCESS, WalletOutcome.PENDING, WalletOutcome.FINAL_FAILURE):
        return None
    mismatch = status_mismatch(answer, payout)
    if mismatch is not None:
        final = answer.outcome is not WalletOutcome.PENDING
        if current is PayoutStatus.NEEDS_REVIEW and not final:
            return None
        return Settlement(
            PayoutStatus.NEEDS_REVIEW,
            f"status answer does not match the payout: {mismatch}; Paytm: {_record_said(answer)}",
            final_answer=final,
        )
    if answer.outcome is WalletOutcome.SUCCESS:
        after_review = " after review" if current is PayoutStatus.NEEDS_REVIEW else ""
        return Settlement(
            PayoutStatus.SUCCESS, f"credited to the payee's wallet (status check{after_review})"
        )
    if answer.outcome is WalletOutcome.PENDING:
        if current in (PayoutStatus.PENDING, PayoutStatus.NEEDS_REVIEW):
            return None
        return Settlement(
            PayoutStatus.PENDING, f"pending at Paytm (status check: {answer.message or 'PENDING'})"
        )
    if current is PayoutStatus.PENDING or (current is PayoutStatus.NEEDS_REVIEW and payout.was_pending):
        return Settlement(PayoutStatus.REVERSED, f"rolled back to the sub-wallet ({answer.message})")
    return Settlement(PayoutStatus.FAILED, f"not credited; money back on the sub-wallet ({answer.message})")


class PayoutSettler:
    """One attempt at a payout, and one turn of its pending loop. Ports are injected."""

    def __init__(
        self,
        *,
        repository: PayoutRepository,
        wallet: WalletPort,
        dispatcher: PayoutDispatcher | None,
        clock: Callable[[], datetime],
        wall_clock: Callable[[], float],
        check_delay_seconds: float = STATUS_CHECK_DELAY_SECONDS,
        metrics: MetricsPort | None = None,
        log_failure: Callable[[str, str], None] | None = None,
        prepaid: Callable[[], PrepaidPort] | None = None,
    ) -> None:
        """`prepaid`: builds the prepaid connector (seed 003) when a prepaid payout is attempted;
        without it such an attempt fails (a stack whose secret has no prepaid section)."""
        self._prepaid = prepaid
        self._repository = repository
        self.repository = repository
        self._wallet = wallet
        self._dispatcher = dispatcher
        self._clock = clock
        self._wall_clock = wall_clock
        self._check_delay = check_delay_seconds
        self._metrics = metrics or NoMetrics()
        self._log_failure = log_failure or (lambda order_id, problem: None)

    def _require_dispatcher(self) -> PayoutDispatcher:
        if self._dispatcher is None:
            raise RuntimeError("this function has no PayoutQueue to dispatch to")
        return self._dispatcher

    # ---- claiming ----------------------------------------------------------------------------
    async def _claim(self, order_id: str) -> tuple[Payout, bool, datetime] | None:
        """(payout, first attempt?, claim time) or None when another attempt holds it or it is
        settled.

        The claim also records the first send to Paytm (the credit follows at once; a VERIFY
        first only makes the deadline seconds earlier): one write, not two."""
        now, lease = self._clock(), self._wall_clock() + ATTEMPT_LEASE_SECONDS
        payout: Payout | None
        try:
            payout = await asyncio.to_thread(
                self._repository.transition,
                order_id,
                expected=PayoutStatus.ACCEPTED,
                target=PayoutStatus.PROCESSING,
                at=now,
                reason="claimed by the payout function",
                # Intake filed it due 15 minutes on: a claim seconds later keeps that entry (an
                # attempt that dies is found then; one still holding its lease is postponed).
                next_check_at=DueEntry.KEEP,
                count_attempt=True,
                lease_until=lease,
                first_send_at=now,
                read_back=True,
            )
        except StaleTransitionError:
            payout = None
        # (Were no payout read back, the take-over below is refused by the lease just written and
        # the attempt ends without sending: never a send without a claim.)
        if payout is not None:
            return payout, True, now
        taken = await asyncio.to_thread(
            self._repository.take_over_attempt,
            order_id,
            wall_now=self._wall_clock(),
            lease_until=lease,
            first_send_at=now,
        )
        if taken is not None:
            return taken, False, now
        if await asyncio.to_thread(self._repository.get, order_id) is None:
            raise UnknownPayoutError(order_id)
        return None

    # ---- one attempt -------------------------------------------------------------------------
    async def attempt(self, order_id: str, budget: CallBudget) -> str:
        claimed = await self._claim(order_id)
        if claimed is None:
            return "duplicate delivery: nothing to do"
        payout, first_attempt, claimed_at = claimed
        try:
            if payout.rail is PayoutRail.PREPAID:
                return await self._prepaid_loader().load(payout, claimed_at, budget)
            return await self._attempt(payout, first_attempt, budget)
        except (PrepaidConfigurationError, PrepaidNotSentError) as error:
            # Nothing can have been loaded by this attempt: take its send back (a later attempt
            # may send) and let the message fail (DLQ after a configuration error; retry otherwise).
            if payout.first_sent_at == claimed_at:
                await asyncio.to_thread(self._repository.unmark_sent, payout.order_id, at=claimed_at)
            await asyncio.to_thread(self._repository.release_attempt, payout.order_id)
            if isinstance(error, PrepaidConfigurationError):
                # Every send fails alike until someone fixes it, and the DLQ holds the message for
                # the redrive: the sweep queues the load again no sooner than this.
                until = self._clock() + CONFIGURATION_RETRY
                await asyncio.to_thread(self._repository.postpone_check, payout.order_id, until=until)
            raise
        except PaytmConfigurationError as error:
            if error.before_any_credit_reached_paytm and payout.first_sent_at == claimed_at:
                # This attempt recorded the first send, and Paytm refused it as ours being wrong
                # before any credit could be taken: the pending window must not start until a
                # send after the fix.
                await asyncio.to_thread(self._repository.unmark_sent, payout.order_id, at=claimed_at)
            await asyncio.to_thread(self._repository.release_attempt, payout.order_id)
            raise
        except BaseException:
            # This attempt is over, whatever broke it: the redelivery may take over at once (it
            # checks status first). Only a killed process leaves the lease to expire.
            await asyncio.to_thread(self._repository.release_attempt, payout.order_id)
            raise

    async def _attempt(self, payout: Payout, first_attempt: bool, budget: CallBudget) -> str:
        # Whether a credit of this attempt may have reached Paytm: a configuration error after
        # that must not un-start the pending window.
        reached = [False]

        def refuse_if_misconfigured(answer: WalletAnswer) -> None:
            if answer.outcome is WalletOutcome.CONFIGURATION_ERROR:
                raise PaytmConfigurationError(
                    payout.order_id, answer, before_any_credit_reached_paytm=not reached[0]
                )

        async def send_credit() -> WalletAnswer:
            credit = await self._wallet.credit(payout, verify_only=False, timeout=budget.call_timeout())
            refuse_if_misconfigured(credit)
            reached[0] = True
            return credit

        if not first_attempt:
            # An earlier attempt may have reached Paytm: ask before sending anything.
            status = await self._wallet.check_status(payout.order_id, timeout=budget.call_timeout())
            refuse_if_misconfigured(status)
            if status.outcome is not WalletOutcome.NOT_FOUND:
                return await self._apply_status(payout, status, holds_lease=True)
        if payout.mode is PayoutMode.VERIFIED_USER:
            verify = await self._wallet.credit(payout, verify_only=True, timeout=budget.call_timeout())
            refuse_if_misconfigured(verify)
            if verify.verified is None:
                if verify.outcome in (WalletOutcome.FINAL_FAILURE, WalletOutcome.INVALID_REQUEST):
                    # A definitive refusal of the payee, no verdict needed: VERIFY moves no money.
                    reason = f"payee refused by VERIFY ({_said(verify)})"
                    return await self._write(payout, Settlement(PayoutStatus.FAILED, reason), verify)
                raise RetryLaterError(f"{payout.order_id}: VERIFY gave no answer ({_said(verify)})")
            if not verify.verified:
                reason = f"payee is not an existing verified user: VERIFY answered false ({_said(verify)})"
                return await self._write(payout, Settlement(PayoutStatus.FAILED, reason), verify)
        credit = await send_credit()
        settlement = settle_credit_answer(credit)
        if settlement is not None:
            return await self._write(payout, settlement, credit)
        # Ambiguous (timeout, 5xx, not JSON, error text, unknown code, STUC_1007): ask.
        if budget.allows(self._check_delay + budget.call_timeout()):
            await asyncio.sleep(self._check_delay)
            status = await self._wallet.check_status(payout.order_id, timeout=budget.call_timeout())
            refuse_if_misconfigured(status)
            if status.outcome is WalletOutcome.NOT_FOUND and budget.allows(budget.call_timeout()):
                # Paytm says the order does not exist: the credit never arrived. Same order id.
                credit = await send_credit()
                settlement = settle_credit_answer(credit)
                if settlement is not None:
                    return await self._write(payout, settlement, credit)
            elif status.outcome is not WalletOutcome.NOT_FOUND:
                return await self._apply_status(payout, status, holds_lease=True)
        return await self._hand_off_unknown(payout, credit)

    async def _apply_status(self, payout: Payout, status: WalletAnswer, *, holds_lease: bool) -> str:
        settlement = settle_status_answer(status, payout)
        if settlement is None:
            if holds_lease:
                return await self._hand_off_unknown(payout, status)
            return "nothing decided"
        return await self._write(payout, settlement, status, holds_lease=holds_lease, from_status=True)

    @staticmethod
    def _next_check_after(settlement: Settlement, now: datetime) -> datetime | None:
        if settlement.target is PayoutStatus.NEEDS_REVIEW and not settlement.final_answer:
            return now + REVIEW_CHECK_INTERVAL
        return None

    async def _write(
        self,
        payout: Payout,
        settlement: Settlement,
        answer: WalletAnswer,
        *,
        holds_lease: bool = True,
        from_status: bool = False,
    ) -> str:
        """Write the settlement; if another writer moved the payout meanwhile, apply the same answer
        to where it is now rather than throw it away (a SUCCESS after NEEDS_REVIEW stays SUCCESS)."""
        current = payout
        for _ in range(3):
            now = self._clock()
            next_check_at, pending_since = self._next_check_after(settlement, now), None
            if settlement.target is PayoutStatus.PENDING:
                pending_since = pending_clock_start(current) or now
                if next_check_age(now - pending_since) is None:
                    # Its clock started before its last check age (the credit went out long after
                    # the claim): no run would find it by age again, so the due part checks it.
                    next_check_at, pending_since = now + UNKNOWN_OUTCOME_FIRST_CHECK, None
            try:
                await asyncio.to_thread(
                    self._repository.transition,
                    current.order_id,
                    expected=current.status,
                    target=settlement.target,
                    at=now,
                    reason=settlement.reason,
                    next_check_at=next_check_at,
                    details=_details(answer),
                    unless_leased_at=None if holds_lease else self._wall_clock(),
                    pending_since=pending_since,
                )
            except StaleTransitionError:
                fresh = await asyncio.to_thread(self._repository.get, current.order_id)
                if fresh is None or is_final(fresh.status):
                    return "settled meanwhile by another writer"
                if fresh.status is current.status:
                    return "left to the attempt in flight"
                next_settlement = settle_status_answer(answer, fresh) if from_status else settlement
                if next_settlement is None or next_settlement.target not in ALLOWED_TRANSITIONS[fresh.status]:
                    return f"{fresh.status.value} meanwhile; the answer decides nothing more"
                current, settlement = fresh, next_settlement
                continue
            self._after_transition(current, settlement)
            return settlement.target.value
        return "gave up after concurrent writers"

    def _after_transition(self, payout: Payout, settlement: Settlement) -> None:
        if settlement.target is PayoutStatus.NEEDS_REVIEW:
            if settlement.reason.startswith("status answer does not match"):
                self._metrics.count("PayoutStatusMismatches")
            if payout.status is not PayoutStatus.NEEDS_REVIEW:
                self._metrics.count("PayoutsNeedingReview")

    async def _hand_off_unknown(self, payout: Payout, answer: WalletAnswer) -> str:
        """Outcome unknown: stay PROCESSING, let go of the attempt (in the same write), and let
        the scheduled run ask Paytm in a minute."""
        now = self._clock()
        await asyncio.to_thread(
            self._repository.record_check,
            payout.order_id,
            at=now,
            next_check_at=now + UNKNOWN_OUTCOME_FIRST_CHECK,
            details=OutcomeDetails(
                status_code=answer.status_code, status_message=f"outcome unknown: {answer.message}"
            ),
            release_attempt=True,
        )
        return "outcome unknown: the scheduled run checks it"

    def _prepaid_loader(self) -> PrepaidLoader:
        if self._prepaid is None:
            raise RuntimeError("this function has no prepaid connector (seed 003)")
        return PrepaidLoader(
            repository=self._repository,
            prepaid=self._prepaid(),
            clock=self._clock,
            metrics=self._metrics,
        )

    async def _look_after_prepaid(self, payout: Payout, now: datetime) -> PendingCheck:
        """What a check or the sweep does with a prepaid payout: there is no status API to ask.
        PROCESSING with no attempt in flight: never sent (only a refused connection takes a send
        back) -> queued again; sent with no answer -> NEEDS_REVIEW."""
        if payout.status is PayoutStatus.PROCESSING:
            if payout.first_sent_at is None:
                await asyncio.to_thread(self._require_dispatcher().dispatch, payout.order_id)
                await asyncio.to_thread(
                    self._repository.postpone_check, payout.order_id, until=now + ACCEPTED_GRACE
                )
                return PendingCheck(
                    CheckOutcome.WAIT, payout.status, wait_seconds=int(ACCEPTED_GRACE.total_seconds())
                )
            reason = (
                f"the attempt that sent the load at {payout.first_sent_at.isoformat()} ended without an "
                "answer; seed 003 has no status API, so it is never sent again: check the wallet"
            )
            await review_load(
                self._repository,
                payout,
                reason,
                at=self._clock(),
                metrics=self._metrics,
                unless_leased_at=self._wall_clock(),
            )
            return PendingCheck(CheckOutcome.NEEDS_REVIEW, PayoutStatus.NEEDS_REVIEW, paytm_said=reason)
        # NEEDS_REVIEW: nothing to ask, a human decides; out of the due index.
        await asyncio.to_thread(self._repository.leave_due_index, payout.order_id)
        return PendingCheck(CheckOutcome.NEEDS_REVIEW, payout.status, paytm_said="seed 003 has no status API")

    # ---- one status check --------------------------------------------------------------------
    async def check(self, order_id: str, *, timeout: float, from_due_index: bool = False) -> PendingCheck:
        """Ask Paytm about one payout and apply the answer. A PENDING payout that is still pending
        costs no write: its checks come from its age (`from_due_index`: it was found among the
        due items, so it is filed by its pending clock instead)."""
        payout = await asyncio.to_thread(self._repository.get, order_id)
        if payout is None:
            raise UnknownPayoutError(order_id)
        if is_final(payout.status):
            return PendingCheck(outcome=CheckOutcome.FINAL, status=payout.status)
        now = self._clock()
        if payout.status is PayoutStatus.ACCEPTED:
            return PendingCheck(
                outcome=CheckOutcome.WAIT, status=payout.status, wait_seconds=self._wait_seconds(payout, now)
            )
        attempt_in_flight = payout.lease_until is not None and payout.lease_until > self._wall_clock()
        if payout.status is PayoutStatus.PROCESSING and attempt_in_flight:
            # Let the attempt finish before asking Paytm.
            return PendingCheck(
                outcome=CheckOutcome.WAIT, status=payout.status, wait_seconds=self._wait_seconds(payout, now)
            )
        if payout.rail is PayoutRail.PREPAID:
            return await self._look_after_prepaid(payout, now)
        status = await self._wallet.check_status(order_id, timeout=timeout)
        now = self._clock()
        problem = _said(status) if status.outcome is WalletOutcome.CONFIGURATION_ERROR else None
        wrote = False
        if problem is None:
            settlement = settle_status_answer(status, payout)
            if settlement is not None:
                result = await self._write(payout, settlement, status, holds_lease=False, from_status=True)
                wrote = result == settlement.target.value
                payout = await asyncio.to_thread(self._repository.get, order_id) or payout
                if is_final(payout.status):
                    return PendingCheck(CheckOutcome.FINAL, payout.status, paytm_said=_record_said(status))
            elif status.outcome is WalletOutcome.NOT_FOUND and payout.status is PayoutStatus.PROCESSING:
                # The credit never reached Paytm: queue the payout; its next attempt sends it.
                await asyncio.to_thread(self._require_dispatcher().dispatch, order_id)
        if payout.status is PayoutStatus.NEEDS_REVIEW:
            if not wrote:
                # Still no final answer: ask again tomorrow (a no-op once Paytm's final answer took
                # the payout out of the due index).
                await asyncio.to_thread(
                    self._repository.record_check,
                    order_id,
                    at=now,
                    next_check_at=now + REVIEW_CHECK_INTERVAL,
                    details=_details(status),
                )
            return PendingCheck(CheckOutcome.NEEDS_REVIEW, payout.status, paytm_said=_record_said(status))
        deadline = settlement_deadline(payout)
        # Paytm saying it never took an order whose outcome was unknown means its window never
        # started: the resend just queued decides, not a deadline counted from a send that did not
        # arrive. (For a payout Paytm once answered PENDING, "not found" is itself a mystery.)
        paytm_never_took_it = (
            status.outcome is WalletOutcome.NOT_FOUND and payout.status is PayoutStatus.PROCESSING
        )
        if deadline is not None and now >= deadline and not paytm_never_took_it:
            try:
                await asyncio.to_thread(
                    self._repository.transition,
                    order_id,
                    expected=payout.status,
                    target=PayoutStatus.NEEDS_REVIEW,
                    at=now,
                    reason=f"not final by the settlement deadline {deadline.isoformat()} "
                    f"(last answer {_said(status)})",
                    next_check_at=now + REVIEW_CHECK_INTERVAL,
                    details=_details(status),
                    unless_leased_at=self._wall_clock(),
                )
            except StaleTransitionError:
                return PendingCheck(outcome=CheckOutcome.WAIT, status=payout.status, wait_seconds=1)
            self._metrics.count("PayoutsNeedingReview")
            return PendingCheck(
                CheckOutcome.NEEDS_REVIEW, PayoutStatus.NEEDS_REVIEW, paytm_said=_said(status)
            )
        wait = self._wait_seconds(payout, now, configuration_problem=problem is not None)
        if payout.status is PayoutStatus.PENDING:
            if from_due_index:
                anchor = pending_clock_start(payout) or now
                await asyncio.to_thread(self._repository.file_as_pending, order_id, pending_since=anchor)
        else:
            await asyncio.to_thread(
                self._repository.record_check,
                order_id,
                at=now,
                next_check_at=now + timedelta(seconds=wait),
                details=_details(status),
            )
        return PendingCheck(
            outcome=CheckOutcome.WAIT,
            status=payout.status,
            wait_seconds=wait,
            configuration_problem=problem,
            paytm_said=_record_said(status),
        )

    async def recheck(self, order_id: str, *, timeout: float) -> dict[str, Any]:
        """An operator's status check now: ask Paytm whatever the payout's status, apply the answer
        where the rules allow (never over an attempt in flight), and say what happened."""
        before = await asyncio.to_thread(self._repository.get, order_id)
        if before is None:
            raise UnknownPayoutError(order_id)
        if before.rail is PayoutRail.PREPAID:
            return {
                "order_id": order_id,
                "status_before": before.status.value,
                "status_after": before.status.value,
                "applied": "nothing asked: seed 003 (prepaid loads) has no status API",
                "paytm": None,
                "amount": f"{before.amount:.2f}",
            }
        answer = await self._wallet.check_status(order_id, timeout=timeout)
        outcome = "nothing to apply: the payout is final" if is_final(before.status) else "nothing decided"
        in_flight = before.lease_until is not None and before.lease_until > self._wall_clock()
        if before.status is PayoutStatus.ACCEPTED or (before.status is PayoutStatus.PROCESSING and in_flight):
            outcome = "not applied: an attempt is queued or in flight"
        elif not is_final(before.status) and answer.outcome is not WalletOutcome.CONFIGURATION_ERROR:
            outcome = await self._apply_status(before, answer, holds_lease=False)
        after = await asyncio.to_thread(self._repository.get, order_id) or before
        return {
            "order_id": order_id,
            "status_before": before.status.value,
            "status_after": after.status.value,
            "applied": outcome,
            "paytm": {
                "outcome": answer.outcome.value,
                "status_code": answer.status_code,
                "message": answer.message,
                "txn_status": answer.txn_status.name if answer.txn_status is not None else None,
                "txn_amount": None if answer.txn_amount is None else str(answer.txn_amount),
                "paytm_txn_id": answer.wallet_txn_id,
                "matches_payout": (
                    status_mismatch(answer, before) is None if answer.txn_status is not None else None
                ),
            },
            "amount": f"{before.amount:.2f}",
        }

    # ---- the scheduled run ---------------------------------------------------------------------
    async def run_scheduled_checks(self, *, page_size: int, budget: CallBudget) -> dict[str, Any]:
        """One round of the scheduled run for payouts (tijori.lifecycle.scheduled.run_checks):
        ACCEPTED is queued again, PROCESSING whose attempt died and NEEDS_REVIEW (daily) are
        checked, and every PENDING payout that reached one of its check ages since the cursor."""
        return await run_checks(
            PayoutChecks(self),
            now=self._clock(),
            page_size=page_size,
            budget=budget,
            metrics=self._metrics,
            log_failure=self._log_failure,
        )

    async def sweep_one(self, order_id: str, now: datetime, budget: CallBudget) -> list[str]:
        payout = await asyncio.to_thread(self._repository.get, order_id)
        if payout is None:
            raise UnknownPayoutError(order_id)
        if is_final(payout.status):
            if now - payout.updated_at < ANNOUNCE_GRACE:
                # Just made final: its writer is publishing the event. A payout that kept an
                # overdue intake entry for its event mark is due at once; give the writer its grace.
                await asyncio.to_thread(
                    self._repository.postpone_check, order_id, until=payout.updated_at + ANNOUNCE_GRACE
                )
                return []
            await asyncio.to_thread(self._repository.leave_due_index, order_id)
            return []
        if payout.status is PayoutStatus.ACCEPTED:
            # The message was lost, or intake died between the write and the send. Moving the
            # next check forward keeps the same few items from starving the rest.
            await asyncio.to_thread(self._require_dispatcher().dispatch, order_id)
            await asyncio.to_thread(self._repository.postpone_check, order_id, until=now + ACCEPTED_GRACE)
            return ["requeued"]
        lease = payout.lease_until
        if payout.status is PayoutStatus.PROCESSING and lease is not None and lease > self._wall_clock():
            until = now + timedelta(seconds=lease - self._wall_clock()) + PROCESSING_GRACE
            await asyncio.to_thread(self._repository.postpone_check, order_id, until=until)
            return []
        if payout.rail is PayoutRail.PREPAID:
            looked = await self._look_after_prepaid(payout, now)
            return ["requeued"] if looked.outcome is CheckOutcome.WAIT else []
        await self.check(order_id, timeout=budget.call_timeout(), from_due_index=True)
        return ["checked"]

    def _wait_seconds(self, payout: Payout, now: datetime, *, configuration_problem: bool = False) -> int:
        """Seconds until the payout's next check: at the next check age of its pending clock, never
        past the settlement deadline.

        After a status check refused as a configuration error of ours (key, MID) every check fails
        alike until someone fixes it, and the attempt's message waits in the DLQ for the redrive:
        the ages count from the payout's last transition instead (a never-sent payout would
        otherwise be asked every minute), at least CONFIGURATION_RETRY apart."""
        if configuration_problem:
            since = payout.history[-1].at if payout.history else payout.updated_at
            wait = max(next_wait(now - since), CONFIGURATION_RETRY)
        else:
            wait = next_wait(now - (pending_clock_start(payout) or now))
        deadline = settlement_deadline(payout)
        if deadline is not None:
            wait = min(wait, max(deadline - now, timedelta(seconds=1)))
        return max(1, int(wait.total_seconds()))


class PayoutChecks(IndexedKind):
    """Payouts as a kind of the scheduled run (tijori.lifecycle.scheduled.ScheduledKind)."""

    kind = "payout"
    check_ages = CHECK_AGES

    def __init__(self, settler: PayoutSettler) -> None:
        super().__init__(settler.repository)
        self._settler = settler

    async def sweep_due(self, item_id: str, now: datetime, budget: CallBudget) -> list[str]:
        return await self._settler.sweep_one(item_id, now, budget)

    async def check_pending(self, item_id: str, budget: CallBudget) -> list[str]:
        await self._settler.check(item_id, timeout=budget.call_timeout())
        return ["checked"]


__all__ = [
    "ATTEMPT_LEASE_SECONDS",
    "CONFIGURATION_RETRY",
    "CURSOR_STEP",
    "FIRST_RUN_LOOKBACK",
    "MAX_CALL_TIMEOUT_SECONDS",
    "STATUS_CHECK_DELAY_SECONDS",
    "SWEEP_CONCURRENCY",
    "SWEEP_FAILURE_BACKOFF",
    "WRITE_RESERVE_SECONDS",
    "CallBudget",
    "PayoutChecks",
    "PayoutSettler",
    "PaytmConfigurationError",
    "RetryLaterError",
    "Settlement",
    "WalletPort",
    "settle_credit_answer",
    "settle_status_answer",
    "status_mismatch",
]
