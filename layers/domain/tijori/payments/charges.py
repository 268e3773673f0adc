"""Charges on a linked wallet (seed 002's Withdraw API, `directPay`): a payment Tijori sends itself,
from the queue, with the payout rules (it moves the customer's money).

- The merchant's order id is Paytm's `OrderId` on every attempt.
- Intake refuses a charge on a link that is not LINKED (nothing is stored or sent); the attempt
  looks again and fails the charge, unsent, if the link stopped being LINKED meanwhile.
- A lease on PROCESSING means two deliveries never both send. An attempt that is not the first
  (the previous one died or timed out) asks the Transaction Status API first.
- A timeout, 5xx, non-JSON answer, a CheckSum that does not verify or an unknown code is
  ambiguous: the status API (TXN_TYPE=WITHDRAW) is asked before anything else, and directPay is
  sent again, with the same OrderId, only when Paytm says it knows no such order.
- Only the status API's record makes a charge PAID, and only for this MID, order and amount
  (tijori.payments.rules); TXN_SUCCESS with another amount is NEEDS_REVIEW.
- Paytm rejecting the customer's token fails the charge (no money moved) and expires the link.
- An insufficient balance fails the charge with Paytm's code and a reason that says add money.
- A configuration error never finalises: the attempt is released and the message fails to the DLQ.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tijori.lifecycle.outcomes import Outcome
from tijori.lifecycle.scheduled import CallBudget
from tijori.lifecycle.store import AlreadyExistsError, StaleTransitionError
from tijori.payments.lifecycle import PaymentStatus
from tijori.payments.models import ChargeRequest, Customer, Payment, Step
from tijori.payments.ports import Dispatcher, PaymentRepository, PaytmFacts, PgPort, TxnStatusAnswer
from tijori.payments.rules import REVIEW_CHECK_INTERVAL, decide_payment
from tijori.payouts.ports import MetricsPort, NoMetrics
from tijori.wallet_links.lifecycle import WalletLinkStatus
from tijori.wallet_links.models import WalletLink
from tijori.wallet_links.ports import AutoDebitPort, TokenVault, WalletLinkRepository, Withdrawal

PAYMENT_KIND = "payment"
WITHDRAW_TXN_TYPE = "WITHDRAW"
# A charge still ACCEPTED this long after intake (its message was lost) is queued again.
ACCEPTED_GRACE = timedelta(minutes=15)
ATTEMPT_LEASE_SECONDS = 120.0
STATUS_CHECK_DELAY_SECONDS = 5.0
UNKNOWN_OUTCOME_FIRST_CHECK = timedelta(minutes=1)
UNSETTLED_RETRY = timedelta(minutes=5)
CONFIGURATION_RETRY = timedelta(hours=1)
_COMPARED_FIELDS = ("amount", "currency", "link_id", "metadata")


class ChargeConfigurationError(Exception):
    """Paytm says Tijori's side is wrong (checksum, MID): the message fails; a redrive resumes."""

    def __init__(self, order_id: str, code: str | None, message: str | None) -> None:
        super().__init__(f"{order_id}: Paytm configuration error {code}: {message}")
        self.code = code


class UnknownChargeError(Exception):
    """A queued order id that PaymentsTable does not hold as a charge."""


@dataclass(frozen=True)
class ChargeWallet:
    """What sending a charge needs beyond the status API: the link, its sealed token, directPay."""

    links: WalletLinkRepository
    vault: TokenVault
    autodebit: AutoDebitPort


def new_charge(request: ChargeRequest, link: WalletLink, now: datetime) -> Payment:
    return Payment(
        order_id=request.order_id,
        amount=request.amount,
        currency=request.currency,
        customer=Customer(customer_id=link.link_id, phone=link.phone),
        metadata=dict(request.metadata),
        request_fingerprint=request.fingerprint(),
        status=PaymentStatus.ACCEPTED,
        method="linked_wallet",
        link_id=link.link_id,
        created_at=now,
        updated_at=now,
        history=(Step(from_status=None, to_status="ACCEPTED", at=now, reason="charge accepted"),),
    )


def conflicting_fields(stored: Payment, request: ChargeRequest) -> list[str]:
    wanted = {
        "amount": request.amount,
        "currency": request.currency,
        "link_id": request.method.link_id,
        "metadata": dict(request.metadata),
    }
    return [name for name in _COMPARED_FIELDS if getattr(stored, name) != wanted[name]] or ["body"]


def store_charge(
    request: ChargeRequest, link: WalletLink, *, payments: PaymentRepository, now: datetime
) -> tuple[Payment, bool]:
    """Store a new charge (False: the order id was taken meanwhile; the caller re-reads)."""
    charge = new_charge(request, link, now)
    try:
        payments.create(charge, first_check_at=now + ACCEPTED_GRACE)
    except AlreadyExistsError:
        return charge, False
    return charge, True


def _facts(answer: TxnStatusAnswer | Withdrawal) -> PaytmFacts:
    facts = PaytmFacts(code=answer.code, message=answer.message)
    if isinstance(answer, TxnStatusAnswer):
        facts = PaytmFacts(
            code=answer.code,
            message=answer.message,
            paytm_txn_id=answer.txn_id,
            bank_txn_id=answer.bank_txn_id,
            payment_mode=answer.payment_mode,
        )
    return facts


class ChargeSettler:
    """One attempt at a charge, and one status check of a charge not yet settled by the status
    API. `wallet` is needed only to send (the scheduled run's checks do without it)."""

    def __init__(
        self,
        *,
        payments: PaymentRepository,
        pg: PgPort,
        dispatcher: Dispatcher | None,
        clock: Callable[[], datetime],
        wall_clock: Callable[[], float],
        wallet: ChargeWallet | None = None,
        check_delay_seconds: float = STATUS_CHECK_DELAY_SECONDS,
        metrics: MetricsPort | None = None,
    ) -> None:
        self.payments = payments
        self._pg = pg
        self._dispatcher = dispatcher
        self._clock = clock
        self._wall_clock = wall_clock
        self._wallet = wallet
        self._check_delay = check_delay_seconds
        self._metrics = metrics or NoMetrics()

    # ---- the attempt -------------------------------------------------------------------------
    async def attempt(self, order_id: str, budget: CallBudget) -> str:
        now, lease = self._clock(), self._wall_clock() + ATTEMPT_LEASE_SECONDS
        charge = await asyncio.to_thread(self.payments.claim, order_id, at=now, lease_until=lease)
        first_attempt = charge is not None
        if charge is None:
            charge = await asyncio.to_thread(
                self.payments.take_over, order_id, wall_now=self._wall_clock(), lease_until=lease
            )
        if charge is None:
            stored = await asyncio.to_thread(self.payments.get, order_id)
            if stored is None or not stored.is_charge:
                raise UnknownChargeError(order_id)
            return "duplicate delivery: nothing to do"
        try:
            return await self._attempt(charge, first_attempt, budget)
        except BaseException:
            await asyncio.to_thread(self.payments.release_attempt, order_id)
            raise

    async def _attempt(self, charge: Payment, first_attempt: bool, budget: CallBudget) -> str:
        if not first_attempt:
            # The previous attempt may have reached Paytm: its record decides before any resend.
            status = await self._status(charge, budget.call_timeout())
            if status.outcome is not Outcome.NOT_FOUND:
                return await self._apply(charge, status, holds_lease=True)
        if self._wallet is None:
            raise RuntimeError("sending a charge needs the wallet ports")
        link = await asyncio.to_thread(self._wallet.links.get, charge.link_id or "")
        now = self._clock()
        if link is None or link.status is not WalletLinkStatus.LINKED or link.sealed_token is None:
            state = "unknown" if link is None else link.status.value
            return await self._fail(
                charge, f"wallet link {charge.link_id!r} is {state}: nothing was sent to Paytm", None
            )
        if link.token_expired(now):
            await self._expire_link(link, "the token's expiry passed")
            return await self._fail(
                charge, f"wallet link {link.link_id!r} expired: nothing was sent to Paytm", None
            )
        token = await asyncio.to_thread(self._wallet.vault.open, link.link_id, link.sealed_token)
        may_resend = True
        while True:
            sent = await self._wallet.autodebit.direct_pay(
                charge.order_id, charge.amount, token, link.link_id, timeout=budget.call_timeout()
            )
            self._metrics.count("ChargesSent")
            if sent.outcome is Outcome.CONFIGURATION_ERROR:
                raise ChargeConfigurationError(charge.order_id, sent.code, sent.message)
            if sent.token_rejected:
                await self._expire_link(link, f"directPay rejected the token ({sent.code}: {sent.message})")
                reason = (
                    f"Paytm rejected the wallet token ({sent.code}: {sent.message}): no money moved; "
                    f"wallet link {link.link_id!r} is EXPIRED, link the wallet again"
                )
                return await self._fail(charge, reason, sent)
            if sent.outcome in (Outcome.FINAL_FAILURE, Outcome.INVALID_REQUEST):
                reason = f"directPay refused ({sent.code}: {sent.message})"
                if sent.insufficient_balance:
                    reason = (
                        f"insufficient balance in the linked wallet ({sent.code}: {sent.message}): add money "
                        f"first (GET /v1/wallet-links/{link.link_id}/balance?amount=..., then POST "
                        f"/v1/wallet-links/{link.link_id}/add-money)"
                    )
                    self._metrics.count("ChargesInsufficientBalance")
                return await self._fail(charge, reason, sent)
            # SUCCESS, PENDING or ambiguous: the status API's record decides.
            if sent.outcome is Outcome.AMBIGUOUS:
                if not budget.allows(self._check_delay + budget.call_timeout()):
                    return await self._hand_off_unknown(charge, sent.code, sent.message)
                await asyncio.sleep(self._check_delay)
            status = await self._status(charge, budget.call_timeout())
            never_taken = status.outcome is Outcome.NOT_FOUND and sent.outcome is Outcome.AMBIGUOUS
            if never_taken and may_resend and budget.allows(budget.call_timeout()):
                may_resend = False  # Paytm never took it: send again, the same OrderId
                continue
            return await self._apply(charge, status, holds_lease=True)

    async def _status(self, charge: Payment, timeout: float) -> TxnStatusAnswer:
        answer = await self._pg.transaction_status(
            charge.order_id, timeout=timeout, txn_type=WITHDRAW_TXN_TYPE
        )
        if answer.outcome is Outcome.CONFIGURATION_ERROR:
            raise ChargeConfigurationError(charge.order_id, answer.code, answer.message)
        return answer

    async def _expire_link(self, link: WalletLink, why: str) -> None:
        if self._wallet is None:
            return
        with contextlib.suppress(StaleTransitionError):
            await asyncio.to_thread(
                self._wallet.links.transition,
                link.link_id,
                expected=WalletLinkStatus.LINKED,
                target=WalletLinkStatus.EXPIRED,
                at=self._clock(),
                reason=f"{why}: link the wallet again (a new link)",
            )
            self._metrics.count("WalletLinksExpired")

    async def _fail(self, charge: Payment, reason: str, answer: Withdrawal | None) -> str:
        facts = _facts(answer) if answer is not None else None
        try:
            await asyncio.to_thread(
                self.payments.transition,
                charge.order_id,
                expected=charge.status,
                target=PaymentStatus.FAILED,
                at=self._clock(),
                reason=reason,
                next_check_at=None,
                facts=facts,
                release_attempt=True,
            )
        except StaleTransitionError:
            return "moved meanwhile by another writer"
        self._metrics.count("PaymentsFailed")
        return PaymentStatus.FAILED.value

    async def _apply(self, charge: Payment, answer: TxnStatusAnswer, *, holds_lease: bool) -> str:
        now = self._clock()
        decision = decide_payment(charge, answer, mid=self._pg.mid, now=now)
        if decision is None:
            if holds_lease:
                return await self._hand_off_unknown(charge, answer.code, answer.message)
            return "nothing decided"
        target = PaymentStatus(decision.target)
        facts = _facts(answer)
        if target is PaymentStatus.PAID:
            facts = PaytmFacts(
                code=facts.code,
                message=facts.message,
                paytm_txn_id=facts.paytm_txn_id,
                bank_txn_id=facts.bank_txn_id,
                payment_mode=facts.payment_mode,
                paid_amount=answer.amount,
            )
        next_check = None
        if target is PaymentStatus.NEEDS_REVIEW and not decision.final_answer:
            next_check = now + REVIEW_CHECK_INTERVAL
        try:
            await asyncio.to_thread(
                self.payments.transition,
                charge.order_id,
                expected=charge.status,
                target=target,
                at=now,
                reason=decision.reason,
                next_check_at=next_check,
                facts=facts,
                pending_since=now if target is PaymentStatus.PENDING else None,
                release_attempt=holds_lease,
                unless_leased_at=None if holds_lease else self._wall_clock(),
            )
        except StaleTransitionError:
            return "moved meanwhile by another writer"
        if target is PaymentStatus.NEEDS_REVIEW:
            self._metrics.count("PaymentStatusMismatches")
        self._metrics.count(f"Payments{target.value.title().replace('_', '')}")
        return target.value

    async def _hand_off_unknown(self, charge: Payment, code: str | None, message: str | None) -> str:
        now = self._clock()
        await asyncio.to_thread(
            self.payments.record_check,
            charge.order_id,
            at=now,
            next_check_at=now + UNKNOWN_OUTCOME_FIRST_CHECK,
            facts=PaytmFacts(code=code, message=f"outcome unknown: {message}"),
            release_attempt=True,
        )
        return "outcome unknown: the scheduled run checks it"

    # ---- a check of a charge not yet decided (the scheduled run, an operator) ----------------
    async def check(self, charge: Payment, *, timeout: float) -> str:
        now = self._clock()
        if charge.status is PaymentStatus.ACCEPTED:
            # Its message was lost: queue it again.
            if self._dispatcher is not None:
                await asyncio.to_thread(self._dispatcher.dispatch_item, PAYMENT_KIND, charge.order_id)
            await asyncio.to_thread(self.payments.postpone_check, charge.order_id, until=now + ACCEPTED_GRACE)
            return "requeued"
        if (charge.lease_until or 0) > self._wall_clock():
            await asyncio.to_thread(self.payments.postpone_check, charge.order_id, until=now + ACCEPTED_GRACE)
            return "attempt in flight"
        try:
            answer = await self._status(charge, timeout)
        except ChargeConfigurationError as error:
            facts = PaytmFacts(code=error.code, message=str(error))
            await asyncio.to_thread(
                self.payments.record_check,
                charge.order_id,
                at=now,
                next_check_at=now + CONFIGURATION_RETRY,
                facts=facts,
            )
            return "configuration error: asked again in an hour"
        decided = await self._apply(charge, answer, holds_lease=False)
        if decided != "nothing decided":
            return decided
        if answer.outcome is Outcome.NOT_FOUND and self._dispatcher is not None:
            # The attempt died before Paytm took the order: the next attempt asks, then sends.
            await asyncio.to_thread(self._dispatcher.dispatch_item, PAYMENT_KIND, charge.order_id)
        await asyncio.to_thread(
            self.payments.record_check,
            charge.order_id,
            at=now,
            next_check_at=now + UNSETTLED_RETRY,
            facts=PaytmFacts(code=answer.code, message=answer.message),
        )
        return f"{charge.status.value}: asked again in {int(UNSETTLED_RETRY.total_seconds())} s"


async def accept_charge(
    request: ChargeRequest,
    *,
    payments: PaymentRepository,
    usable_link: Callable[[str], Awaitable[WalletLink]],
    dispatcher: Dispatcher,
    now: datetime,
) -> tuple[Payment, bool]:
    """Store and queue a charge, or answer the stored one for an identical replay (even if its
    link has changed since). `usable_link` raises when the link is unknown or not LINKED: nothing
    is stored or sent then. PaymentConflictError for another body under the order id."""
    from tijori.payments.collection import PaymentConflictError

    for _ in range(2):
        stored = await asyncio.to_thread(payments.get, request.order_id)
        if stored is not None:
            if stored.request_fingerprint != request.fingerprint():
                raise PaymentConflictError(request.order_id, conflicting_fields(stored, request))
            if stored.status is PaymentStatus.ACCEPTED:
                await asyncio.to_thread(dispatcher.dispatch_item, PAYMENT_KIND, stored.order_id)
            return stored, False
        link = await usable_link(request.method.link_id)
        charge, created = await asyncio.to_thread(store_charge, request, link, payments=payments, now=now)
        if created:
            await asyncio.to_thread(dispatcher.dispatch_item, PAYMENT_KIND, charge.order_id)
            return charge, True
    raise AlreadyExistsError(request.order_id)
