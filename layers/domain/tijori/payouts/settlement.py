"""From a claimed payout to where the money really is (DESIGN.md, "Payout lifecycle").

The rules, each enforced here:
- The order id is Paytm's merchantOrderId on every attempt (rule 1).
- An ambiguous answer is never FAILED: check status (after the seed's 5 s), and send again with
  the same order id only when Paytm says the order does not exist (rules 2 and 3).
- An attempt that is not the first (the previous one died, timed out, or hit a configuration
  error) checks status before anything else, so a credit that reached Paytm is never sent twice.
- Configuration errors never finalise a payout: the attempt is released and the message fails
  (rule 4), so the DLQ holds it until a redrive after the fix.
- PENDING and still-ambiguous payouts get one named execution of the pending-retry state machine
  (rule 5); `check_payout` is one turn of that loop, and of the scheduled sweep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from tijori.payouts.lifecycle import PayoutStatus, is_final
from tijori.payouts.models import Payout, PayoutMode
from tijori.payouts.pending import CheckOutcome, PendingCheck, next_wait, settlement_deadline
from tijori.payouts.ports import (
    OutcomeDetails,
    PayoutDispatcher,
    PayoutRepository,
    StaleTransitionError,
)
from tijori.payouts.processing import PROCESSING_GRACE, UnknownPayoutError
from tijori.paytm.wallet_codes import WalletOutcome
from tijori.paytm.wallet_mapping import WalletAnswer

# Seed 000: "This API should be called only if the salesToUserCredit API's response is not
# received even after 5 seconds of sending the request."
STATUS_CHECK_DELAY_SECONDS = 5.0
MAX_CALL_TIMEOUT_SECONDS = 10.0
# Kept back from every call's timeout for the state writes that follow it.
WRITE_RESERVE_SECONDS = 3.0
# How long an attempt holds a payout (wall-clock); past it a redelivery may take over.
ATTEMPT_LEASE_SECONDS = 120.0


class WalletPort(Protocol):
    async def credit(self, payout: Payout, *, verify_only: bool, timeout: float) -> WalletAnswer: ...

    async def check_status(self, order_id: str, *, timeout: float) -> WalletAnswer: ...


class PendingRetryStarter(Protocol):
    def start(self, order_id: str) -> None:
        """Start the payout's one named execution; a second start is a no-op."""


class PaytmConfigurationError(Exception):
    """Paytm says our side is wrong (checksum key, merchant, sub-wallet): fix, then redrive."""

    def __init__(self, order_id: str, answer: WalletAnswer) -> None:
        super().__init__(f"{order_id}: Paytm configuration error {answer.status_code}: {answer.message}")
        self.answer = answer


class RetryLaterError(Exception):
    """Nothing was decided and no money can have moved (a VERIFY with no answer): retry the message."""


@dataclass(frozen=True)
class CallBudget:
    """Timeouts derived from the Lambda's remaining time."""

    remaining_seconds: Callable[[], float]

    def call_timeout(self) -> float:
        return max(0.5, min(MAX_CALL_TIMEOUT_SECONDS, self.remaining_seconds() - WRITE_RESERVE_SECONDS))

    def allows(self, seconds: float) -> bool:
        return self.remaining_seconds() - WRITE_RESERVE_SECONDS > seconds + 1.0


@dataclass(frozen=True)
class Settlement:
    target: PayoutStatus
    reason: str


def _details(answer: WalletAnswer) -> OutcomeDetails:
    return OutcomeDetails(
        status_code=answer.status_code,
        status_message=answer.message or None,
        paytm_txn_id=answer.wallet_txn_id,
    )


def _said(answer: WalletAnswer) -> str:
    return f"{answer.status_code or 'no code'}: {answer.message or 'no message'}"


def settle_credit_answer(answer: WalletAnswer) -> Settlement | None:
    """What a salesToUserCredit answer decides; None when it decides nothing (ambiguous)."""
    if answer.outcome is WalletOutcome.SUCCESS:
        return Settlement(PayoutStatus.SUCCESS, "credited to the payee's wallet")
    if answer.outcome is WalletOutcome.PENDING:
        return Settlement(PayoutStatus.PENDING, f"pending at Paytm ({_said(answer)})")
    if answer.outcome in (WalletOutcome.FINAL_FAILURE, WalletOutcome.INVALID_REQUEST):
        return Settlement(PayoutStatus.FAILED, f"refused by Paytm, no money with the payee ({_said(answer)})")
    return None


def settle_status_answer(answer: WalletAnswer, current: PayoutStatus) -> Settlement | None:
    """What a checkStatus answer decides for a payout in `current`; None: nothing yet."""
    if answer.outcome is WalletOutcome.SUCCESS:
        return Settlement(PayoutStatus.SUCCESS, "credited to the payee's wallet (status check)")
    if answer.outcome is WalletOutcome.PENDING:
        if current is PayoutStatus.PENDING:
            return None
        return Settlement(
            PayoutStatus.PENDING, f"pending at Paytm (status check: {answer.message or 'PENDING'})"
        )
    if answer.outcome is WalletOutcome.FINAL_FAILURE:
        if current is PayoutStatus.PENDING:
            return Settlement(PayoutStatus.REVERSED, f"rolled back to the sub-wallet ({answer.message})")
        return Settlement(
            PayoutStatus.FAILED, f"not credited; money back on the sub-wallet ({answer.message})"
        )
    return None


class PayoutSettler:
    """One attempt at a payout, and one turn of its pending loop. Ports are injected."""

    def __init__(
        self,
        *,
        repository: PayoutRepository,
        wallet: WalletPort,
        pending_retry: PendingRetryStarter,
        dispatcher: PayoutDispatcher | None,
        clock: Callable[[], datetime],
        wall_clock: Callable[[], float],
        check_delay_seconds: float = STATUS_CHECK_DELAY_SECONDS,
    ) -> None:
        self._repository = repository
        self._wallet = wallet
        self._pending_retry = pending_retry
        self._dispatcher = dispatcher
        self._clock = clock
        self._wall_clock = wall_clock
        self._check_delay = check_delay_seconds

    def _require_dispatcher(self) -> PayoutDispatcher:
        if self._dispatcher is None:
            raise RuntimeError("this function has no PayoutQueue to dispatch to")
        return self._dispatcher

    # ---- claiming ----------------------------------------------------------------------------
    async def _claim(self, order_id: str) -> tuple[Payout, bool] | None:
        """(payout, first attempt?) or None when another attempt holds it or it is settled."""
        now, lease = self._clock(), self._wall_clock() + ATTEMPT_LEASE_SECONDS
        try:
            payout = await asyncio.to_thread(
                self._repository.transition,
                order_id,
                expected=PayoutStatus.ACCEPTED,
                target=PayoutStatus.PROCESSING,
                at=now,
                reason="claimed by the payout function",
                next_check_at=now + PROCESSING_GRACE,
                count_attempt=True,
                lease_until=lease,
            )
            return payout, True
        except StaleTransitionError:
            pass
        taken = await asyncio.to_thread(
            self._repository.take_over_attempt, order_id, wall_now=self._wall_clock(), lease_until=lease
        )
        if taken is not None:
            return taken, False
        if await asyncio.to_thread(self._repository.get, order_id) is None:
            raise UnknownPayoutError(order_id)
        return None

    # ---- one attempt -------------------------------------------------------------------------
    async def attempt(self, order_id: str, budget: CallBudget) -> str:
        claimed = await self._claim(order_id)
        if claimed is None:
            return "duplicate delivery: nothing to do"
        payout, first_attempt = claimed
        try:
            return await self._attempt(payout, first_attempt, budget)
        except BaseException:
            # This attempt is over, whatever broke it: the redelivery may take over at once (it
            # checks status first). Only a killed process leaves the lease to expire.
            await asyncio.to_thread(self._repository.release_attempt, payout.order_id)
            raise

    async def _attempt(self, payout: Payout, first_attempt: bool, budget: CallBudget) -> str:
        if not first_attempt:
            # An earlier attempt may have reached Paytm: ask before sending anything.
            status = await self._wallet.check_status(payout.order_id, timeout=budget.call_timeout())
            self._raise_on_configuration_error(payout, status)
            if status.outcome is not WalletOutcome.NOT_FOUND:
                return await self._apply_status(payout, status)
        if payout.mode is PayoutMode.VERIFIED_USER:
            verify = await self._wallet.credit(payout, verify_only=True, timeout=budget.call_timeout())
            self._raise_on_configuration_error(payout, verify)
            if verify.verified is None:
                raise RetryLaterError(f"{payout.order_id}: VERIFY gave no answer ({_said(verify)})")
            if not verify.verified:
                reason = f"payee is not an existing verified user: VERIFY answered false ({_said(verify)})"
                return await self._write(payout, Settlement(PayoutStatus.FAILED, reason), verify)
        credit = await self._wallet.credit(payout, verify_only=False, timeout=budget.call_timeout())
        self._raise_on_configuration_error(payout, credit)
        settlement = settle_credit_answer(credit)
        if settlement is not None:
            return await self._write(payout, settlement, credit)
        # Ambiguous (timeout, 5xx, not JSON, error text, unknown code, STUC_1007): ask.
        if budget.allows(self._check_delay + budget.call_timeout()):
            await asyncio.sleep(self._check_delay)
            status = await self._wallet.check_status(payout.order_id, timeout=budget.call_timeout())
            self._raise_on_configuration_error(payout, status)
            if status.outcome is WalletOutcome.NOT_FOUND and budget.allows(budget.call_timeout()):
                # Paytm says the order does not exist: the credit never arrived. Same order id.
                credit = await self._wallet.credit(payout, verify_only=False, timeout=budget.call_timeout())
                self._raise_on_configuration_error(payout, credit)
                settlement = settle_credit_answer(credit)
                if settlement is not None:
                    return await self._write(payout, settlement, credit)
            elif status.outcome is not WalletOutcome.NOT_FOUND:
                return await self._apply_status(payout, status)
        return await self._hand_off_unknown(payout, credit)

    def _raise_on_configuration_error(self, payout: Payout, answer: WalletAnswer) -> None:
        if answer.outcome is WalletOutcome.CONFIGURATION_ERROR:
            raise PaytmConfigurationError(payout.order_id, answer)

    async def _apply_status(self, payout: Payout, status: WalletAnswer) -> str:
        settlement = settle_status_answer(status, payout.status)
        if settlement is None:
            return await self._hand_off_unknown(payout, status)
        return await self._write(payout, settlement, status)

    async def _write(self, payout: Payout, settlement: Settlement, answer: WalletAnswer) -> str:
        now = self._clock()
        next_check = now + next_wait(timedelta(0)) if settlement.target is PayoutStatus.PENDING else None
        try:
            await asyncio.to_thread(
                self._repository.transition,
                payout.order_id,
                expected=payout.status,
                target=settlement.target,
                at=now,
                reason=settlement.reason,
                next_check_at=next_check,
                details=_details(answer),
            )
        except StaleTransitionError:
            return "settled meanwhile by another writer"
        if settlement.target is PayoutStatus.PENDING:
            await asyncio.to_thread(self._pending_retry.start, payout.order_id)
        return settlement.target.value

    async def _hand_off_unknown(self, payout: Payout, answer: WalletAnswer) -> str:
        """Outcome unknown: stay PROCESSING, let go of the attempt, and let the state machine ask."""
        now = self._clock()
        await asyncio.to_thread(
            self._repository.record_check,
            payout.order_id,
            at=now,
            next_check_at=now + PROCESSING_GRACE,
            details=OutcomeDetails(
                status_code=answer.status_code, status_message=f"outcome unknown: {answer.message}"
            ),
        )
        await asyncio.to_thread(self._repository.release_attempt, payout.order_id)
        await asyncio.to_thread(self._pending_retry.start, payout.order_id)
        return "outcome unknown: handed to the pending-retry state machine"

    # ---- one turn of the pending loop --------------------------------------------------------
    async def check(self, order_id: str, *, timeout: float) -> PendingCheck:
        payout = await asyncio.to_thread(self._repository.get, order_id)
        if payout is None:
            raise UnknownPayoutError(order_id)
        if is_final(payout.status):
            return PendingCheck(outcome=CheckOutcome.FINAL, status=payout.status)
        if payout.status is PayoutStatus.NEEDS_REVIEW:
            return PendingCheck(outcome=CheckOutcome.NEEDS_REVIEW, status=payout.status)
        now = self._clock()
        wait = self._wait_seconds(payout, now)
        if payout.status is PayoutStatus.ACCEPTED:
            return PendingCheck(outcome=CheckOutcome.WAIT, status=payout.status, wait_seconds=wait)
        attempt_in_flight = payout.lease_until is not None and payout.lease_until > self._wall_clock()
        if payout.status is PayoutStatus.PROCESSING and attempt_in_flight:
            # Let the attempt finish before asking Paytm.
            return PendingCheck(outcome=CheckOutcome.WAIT, status=payout.status, wait_seconds=wait)
        status = await self._wallet.check_status(order_id, timeout=timeout)
        now = self._clock()
        problem = _said(status) if status.outcome is WalletOutcome.CONFIGURATION_ERROR else None
        if problem is None:
            settlement = settle_status_answer(status, payout.status)
            if settlement is not None:
                await self._write(payout, settlement, status)
                payout = await asyncio.to_thread(self._repository.get, order_id) or payout
                if is_final(payout.status):
                    return PendingCheck(outcome=CheckOutcome.FINAL, status=payout.status)
            elif status.outcome is WalletOutcome.NOT_FOUND and payout.status is PayoutStatus.PROCESSING:
                # The credit never reached Paytm: queue the payout; its next attempt sends it.
                await asyncio.to_thread(self._require_dispatcher().dispatch, order_id)
        deadline = settlement_deadline(payout)
        if now >= deadline and not is_final(payout.status):
            try:
                await asyncio.to_thread(
                    self._repository.transition,
                    order_id,
                    expected=payout.status,
                    target=PayoutStatus.NEEDS_REVIEW,
                    at=now,
                    reason=f"not final by the settlement deadline {deadline.isoformat()} "
                    f"(last answer {_said(status)})",
                    next_check_at=None,
                    details=_details(status),
                )
            except StaleTransitionError:
                return PendingCheck(outcome=CheckOutcome.WAIT, status=payout.status, wait_seconds=1)
            return PendingCheck(outcome=CheckOutcome.NEEDS_REVIEW, status=PayoutStatus.NEEDS_REVIEW)
        wait = self._wait_seconds(payout, now)
        # The sweep steps in only if the state machine stops checking for a good while.
        await asyncio.to_thread(
            self._repository.record_check,
            order_id,
            at=now,
            next_check_at=now + timedelta(seconds=2 * wait) + PROCESSING_GRACE,
            details=_details(status),
        )
        return PendingCheck(
            outcome=CheckOutcome.WAIT, status=payout.status, wait_seconds=wait, configuration_problem=problem
        )

    # ---- the scheduled sweep -----------------------------------------------------------------
    async def sweep(self, *, limit: int, timeout: float) -> dict[str, list[str]]:
        """Whatever is overdue: queue ACCEPTED again, hand PROCESSING whose attempt died to a new
        attempt, check PENDING (and make sure its execution exists), so that a payout whose
        message was lost or whose execution never started or died still finishes."""
        done: dict[str, list[str]] = {"requeued": [], "checked": []}
        for order_id in await asyncio.to_thread(self._repository.due_for_check, self._clock(), limit=limit):
            payout = await asyncio.to_thread(self._repository.get, order_id)
            if payout is None or is_final(payout.status):
                continue
            lease_running = payout.lease_until is not None and payout.lease_until > self._wall_clock()
            if payout.status is PayoutStatus.ACCEPTED:
                await asyncio.to_thread(self._require_dispatcher().dispatch, order_id)
                done["requeued"].append(order_id)
            elif not lease_running:
                await self.check(order_id, timeout=timeout)
                await asyncio.to_thread(self._pending_retry.start, order_id)
                done["checked"].append(order_id)
        return done

    @staticmethod
    def _wait_seconds(payout: Payout, now: datetime) -> int:
        deadline = settlement_deadline(payout)
        wait = min(next_wait(now - payout.created_at), max(deadline - now, timedelta(seconds=1)))
        return max(1, int(wait.total_seconds()))
