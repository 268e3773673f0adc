"""A prepaid payout's attempt (seed 003 creditAccount), at most once.

Seed 003 gives no status API and does not say that a repeated `clientTxnId` is refused, so a
resend could load the wallet twice. The rules, each enforced here:
- The claim records the send before it happens (`first_sent_at`); only proof that the request
  cannot have reached the provider (the connection was refused or never opened) takes it back.
  Such a send is retried (a few times now, then by the queue); the payout stays PROCESSING.
- Any other ambiguity (read timeout, dropped connection, 5xx, 1501, 1504, an unknown code, an
  answer that does not decrypt or is about another clientTxnId) makes the payout NEEDS_REVIEW at
  once, with the reason and a metric: never FAILED, never sent again.
- An attempt that finds a send recorded by an earlier attempt (it died, or its process did, while
  the request may have been out) does not send: NEEDS_REVIEW.
- A definitive answer settles it: SUCCESS only when the answer echoes our clientTxnId and the
  payout's exact amount (else NEEDS_REVIEW); a refusal is FAILED (nothing loaded); a configuration
  refusal (ours: key, envelope, headers, program settings) releases the payout and fails the
  message, so the DLQ holds it until a redrive after the fix.
- NEEDS_REVIEW prepaid payouts leave the due index: there is nothing to ask, a human decides.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tijori.lifecycle.outcomes import Outcome
from tijori.lifecycle.scheduled import CallBudget
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout
from tijori.payouts.ports import MetricsPort, OutcomeDetails, PayoutRepository, StaleTransitionError
from tijori.paytm.prepaid_mapping import PrepaidAnswer

__all__ = [
    "CONNECT_RETRY_DELAYS",
    "LoadSettlement",
    "PrepaidConfigurationError",
    "PrepaidLoader",
    "PrepaidNotSentError",
    "PrepaidPort",
    "review_load",
    "settle_load_answer",
]

CONNECT_RETRY_DELAYS = (0.5, 1.0, 2.0)
"""Seconds before each resend of a request whose connection was refused, within one attempt."""


class PrepaidPort(Protocol):
    async def credit_account(self, payout: Payout, *, now: datetime, timeout: float) -> PrepaidAnswer: ...


class PrepaidConfigurationError(Exception):
    """The provider refused the request as ours being wrong; nothing was loaded. Fix, then redrive."""

    def __init__(self, order_id: str, answer: PrepaidAnswer) -> None:
        super().__init__(f"{order_id}: prepaid configuration error {answer.said}")
        self.answer = answer


class PrepaidNotSentError(Exception):
    """Every send of this attempt was refused before it could reach the provider: retry later."""


@dataclass(frozen=True)
class LoadSettlement:
    target: PayoutStatus
    reason: str


def settle_load_answer(answer: PrepaidAnswer, payout: Payout) -> LoadSettlement | None:
    """What a creditAccount answer decides; None for a configuration refusal (nothing decided)."""
    if answer.outcome is Outcome.SUCCESS:
        problem = _success_mismatch(answer, payout)
        if problem is not None:
            return LoadSettlement(
                PayoutStatus.NEEDS_REVIEW, f"the provider answered SUCCESS, but {problem} ({answer.said})"
            )
        return LoadSettlement(
            PayoutStatus.SUCCESS,
            f"loaded into the prepaid wallet (accosaRefNo {answer.accosa_ref_no or 'none'})",
        )
    if answer.outcome in (Outcome.FINAL_FAILURE, Outcome.INVALID_REQUEST):
        return LoadSettlement(PayoutStatus.FAILED, f"refused by the provider, nothing loaded ({answer.said})")
    if answer.outcome is Outcome.CONFIGURATION_ERROR:
        return None
    return LoadSettlement(
        PayoutStatus.NEEDS_REVIEW,
        f"outcome unknown: {answer.said if answer.status_code else answer.message}; seed 003 has no status "
        "API, so the load is never sent again: check the wallet with the provider",
    )


def _success_mismatch(answer: PrepaidAnswer, payout: Payout) -> str | None:
    terms = payout.prepaid
    if terms is None or answer.client_txn_id != terms.client_txn_id:
        return "the answer does not echo the load's clientTxnId"
    if answer.amount is None:
        return "the answer carries no transactionAmount"
    if answer.amount != payout.amount:
        return f"it loaded {answer.amount} INR, the payout is {payout.amount:.2f} INR"
    return None


class PrepaidLoader:
    """One attempt at a claimed prepaid payout. Ports are injected."""

    def __init__(
        self,
        *,
        repository: PayoutRepository,
        prepaid: PrepaidPort,
        clock: Callable[[], datetime],
        metrics: MetricsPort,
        retry_delays: tuple[float, ...] = CONNECT_RETRY_DELAYS,
    ) -> None:
        self._repository = repository
        self._prepaid = prepaid
        self._clock = clock
        self._metrics = metrics
        self._retry_delays = retry_delays

    async def load(self, payout: Payout, claimed_at: datetime, budget: CallBudget) -> str:
        """`payout` is claimed (PROCESSING, leased) at `claimed_at`, its send recorded by the claim."""
        if payout.first_sent_at is not None and payout.first_sent_at != claimed_at:
            reason = (
                f"an earlier attempt sent the load at {payout.first_sent_at.isoformat()} and gave no "
                "answer; seed 003 has no status API, so it is never sent again: check the wallet"
            )
            return await self.needs_review(payout, reason)
        answer = await self._send(payout, budget)
        if not answer.reached_provider:
            raise PrepaidNotSentError(f"{payout.order_id}: {answer.message}")
        settlement = settle_load_answer(answer, payout)
        if settlement is None:
            self._metrics.count("PaytmConfigurationErrors")
            raise PrepaidConfigurationError(payout.order_id, answer)
        if settlement.target is PayoutStatus.NEEDS_REVIEW:
            return await self.needs_review(payout, settlement.reason, answer)
        await asyncio.to_thread(
            self._repository.transition,
            payout.order_id,
            expected=PayoutStatus.PROCESSING,
            target=settlement.target,
            at=self._clock(),
            reason=settlement.reason,
            next_check_at=None,
            details=_details(answer),
        )
        self._metrics.count(
            "PrepaidLoadsLoaded" if settlement.target is PayoutStatus.SUCCESS else "PrepaidLoadsRefused"
        )
        return settlement.target.value

    async def _send(self, payout: Payout, budget: CallBudget) -> PrepaidAnswer:
        answer = await self._prepaid.credit_account(payout, now=self._clock(), timeout=budget.call_timeout())
        for delay in self._retry_delays:
            if answer.reached_provider or not budget.allows(delay + budget.call_timeout()):
                break
            self._metrics.count("PrepaidConnectRetries")
            await asyncio.sleep(delay)
            answer = await self._prepaid.credit_account(
                payout, now=self._clock(), timeout=budget.call_timeout()
            )
        return answer

    async def needs_review(self, payout: Payout, reason: str, answer: PrepaidAnswer | None = None) -> str:
        reviewed = await review_load(
            self._repository, payout, reason, at=self._clock(), metrics=self._metrics, answer=answer
        )
        return PayoutStatus.NEEDS_REVIEW.value if reviewed else "settled meanwhile by another writer"


async def review_load(
    repository: PayoutRepository,
    payout: Payout,
    reason: str,
    *,
    at: datetime,
    metrics: MetricsPort,
    answer: PrepaidAnswer | None = None,
    unless_leased_at: float | None = None,
) -> bool:
    """PROCESSING -> NEEDS_REVIEW, out of the due index (nothing to ask), counted; False when
    another writer moved it first (or, with `unless_leased_at`, an attempt still holds it)."""
    try:
        await asyncio.to_thread(
            repository.transition,
            payout.order_id,
            expected=PayoutStatus.PROCESSING,
            target=PayoutStatus.NEEDS_REVIEW,
            at=at,
            reason=reason,
            next_check_at=None,
            details=None if answer is None else _details(answer),
            unless_leased_at=unless_leased_at,
        )
    except StaleTransitionError:
        return False
    metrics.count("PayoutsNeedingReview")
    metrics.count("PrepaidLoadsNeedingReview")
    return True


def _details(answer: PrepaidAnswer) -> OutcomeDetails:
    return OutcomeDetails(
        status_code=answer.status_code,
        status_message=answer.said if answer.status_code else answer.message,
        paytm_txn_id=answer.accosa_ref_no,
    )
