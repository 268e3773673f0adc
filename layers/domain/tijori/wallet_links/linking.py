"""Linking a customer's Paytm wallet by OTP, and what a merchant does with a link: verify it, check
its balance, hand the customer an add-money form, revoke it. Ports are injected.

Rules enforced here (issue 13):
- The customer's token is sealed by the vault before it is stored, opened only to call Paytm, and
  never returned, logged or put in a trace; leaving LINKED forgets it in the same write.
- Link creation and OTP attempts are bounded per phone (PhoneRateLimiter): the API cannot be used
  to spray OTPs. A replay of a stored link takes no allowance.
- 5 wrong OTPs fail the link; a new link is needed.
- A link Paytm no longer knows the token of (Validate Token 530, a balance check or a charge that
  finds it rejected) becomes EXPIRED.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pydantic import SecretStr

from tijori.lifecycle.outcomes import Outcome
from tijori.lifecycle.store import AlreadyExistsError, StaleTransitionError
from tijori.payments.models import Step
from tijori.payouts.ports import MetricsPort, NoMetrics
from tijori.wallet_links.lifecycle import WALLET_LINK_LIFECYCLE, WalletLinkStatus
from tijori.wallet_links.models import MAX_WRONG_OTPS, WalletLink, WalletLinkRequest
from tijori.wallet_links.ports import (
    AutoDebitPort,
    Balance,
    PhoneRateLimiter,
    TokenVault,
    WalletLinkRepository,
)

LINK_ACTION = "link"
OTP_ACTION = "otp"


@dataclass(frozen=True)
class LinkLimits:
    """Per phone, per rolling window (issue 13 rule 5)."""

    links_per_window: int = 5
    otp_attempts_per_window: int = 10
    window_seconds: int = 3600


class UnknownLinkError(Exception):
    def __init__(self, link_id: str) -> None:
        super().__init__(f"no wallet link with link_id {link_id!r}")
        self.link_id = link_id


class LinkConflictError(Exception):
    def __init__(self, link_id: str, fields: list[str]) -> None:
        super().__init__(f"link_id {link_id!r} already exists with a different {', '.join(fields)}")
        self.link_id = link_id
        self.fields = fields


class LinkNotUsableError(Exception):
    """The link is not in a status that allows this; nothing was sent to Paytm."""

    def __init__(self, link: WalletLink, message: str) -> None:
        super().__init__(message)
        self.link = link


class RateLimitedError(Exception):
    def __init__(self, action: str, retry_after_seconds: int) -> None:
        what = "new wallet links" if action == LINK_ACTION else "OTP attempts"
        super().__init__(f"too many {what} for this phone: retry after {retry_after_seconds} s")
        self.action = action
        self.retry_after_seconds = retry_after_seconds


class PaytmRefusedLinkError(Exception):
    """Paytm refused the customer's request (a wrong OTP, an invalid phone): the field and Paytm's
    code say which; `link` is the link as left."""

    def __init__(self, link: WalletLink, field: str, code: str | None, message: str | None) -> None:
        super().__init__(f"Paytm refused: {code} {message}")
        self.link = link
        self.field = field
        self.code = code
        self.paytm_message = message


class PaytmUnavailableError(Exception):
    """No usable answer from Paytm (timeout, 5xx, unreadable): nothing changed; retry the same
    request."""


class AutoDebitConfigurationError(Exception):
    """Paytm says Tijori's side is wrong (client credentials, checksum): nothing changed."""

    def __init__(self, code: str | None, message: str | None) -> None:
        super().__init__(f"Paytm refused Tijori's credentials: {code} {message}")
        self.code = code


@dataclass(frozen=True)
class LinkIntakeResult:
    link: WalletLink
    created: bool


@dataclass(frozen=True)
class BalanceView:
    link_id: str
    amount: Decimal
    funds_sufficient: bool
    add_money_allowed: bool
    add_money_amount: Decimal | None

    def view(self) -> dict[str, object]:
        return {
            "link_id": self.link_id,
            "amount": f"{self.amount:.2f}",
            "funds_sufficient": self.funds_sufficient,
            "add_money_allowed": self.add_money_allowed,
            "add_money_amount": None if self.add_money_amount is None else f"{self.add_money_amount:.2f}",
        }


_SEND_OTP_FIELDS = {"431": "phone", "465": "email"}


def new_link(request: WalletLinkRequest, now: datetime) -> WalletLink:
    return WalletLink(
        link_id=request.link_id,
        phone=request.phone,
        email=request.email,
        request_fingerprint=request.fingerprint(),
        status=WalletLinkStatus.OTP_SENT,
        created_at=now,
        updated_at=now,
        history=(Step(from_status=None, to_status="OTP_SENT", at=now, reason="link asked by the merchant"),),
    )


def _refuse_if_misconfigured(outcome: Outcome, code: str | None, message: str | None) -> None:
    if outcome is Outcome.CONFIGURATION_ERROR:
        raise AutoDebitConfigurationError(code, message)
    if outcome is Outcome.AMBIGUOUS:
        raise PaytmUnavailableError(f"Paytm gave no usable answer ({code or 'no code'}: {message or 'none'})")


class WalletLinker:
    def __init__(
        self,
        *,
        links: WalletLinkRepository,
        vault: TokenVault,
        paytm: AutoDebitPort,
        limiter: PhoneRateLimiter,
        clock: Callable[[], datetime],
        limits: LinkLimits | None = None,
        metrics: MetricsPort | None = None,
    ) -> None:
        self.links = links
        self._vault = vault
        self._paytm = paytm
        self._limiter = limiter
        self._clock = clock
        self._limits = limits or LinkLimits()
        self._metrics = metrics or NoMetrics()

    # ---- helpers -----------------------------------------------------------------------------
    async def _get(self, link_id: str) -> WalletLink:
        link = await asyncio.to_thread(self.links.get, link_id)
        if link is None:
            raise UnknownLinkError(link_id)
        return link

    async def _take_allowance(self, phone: str, action: str) -> None:
        limit = (
            self._limits.links_per_window if action == LINK_ACTION else self._limits.otp_attempts_per_window
        )
        decision = await asyncio.to_thread(
            self._limiter.take,
            phone,
            action,
            limit=limit,
            window_seconds=self._limits.window_seconds,
            now=self._clock(),
        )
        if not decision.allowed:
            self._metrics.count("WalletLinkRateLimited")
            raise RateLimitedError(action, decision.retry_after_seconds)

    async def _move(
        self, link: WalletLink, target: WalletLinkStatus, reason: str, *, code: str | None = None
    ) -> WalletLink:
        """A transition from the link's status; whoever moved it meanwhile, the link as stored."""
        with contextlib.suppress(StaleTransitionError):
            await asyncio.to_thread(
                self.links.transition,
                link.link_id,
                expected=link.status,
                target=target,
                at=self._clock(),
                reason=reason,
                code=code,
            )
            self._metrics.count(f"WalletLinks{target.value.title().replace('_', '')}")
        return await self._get(link.link_id)

    def open_token(self, link: WalletLink) -> SecretStr:
        if link.status is not WalletLinkStatus.LINKED or link.sealed_token is None:
            raise LinkNotUsableError(link, f"wallet link {link.link_id!r} is {link.status.value}, not LINKED")
        return self._vault.open(link.link_id, link.sealed_token)

    async def usable(self, link_id: str) -> WalletLink:
        """The link, LINKED with a live token, or LinkNotUsableError (nothing is sent)."""
        link = await self._get(link_id)
        if link.status is WalletLinkStatus.LINKED and link.token_expired(self._clock()):
            link = await self.mark_expired(link, "the token's expiry passed")
        if link.status is not WalletLinkStatus.LINKED:
            raise LinkNotUsableError(
                link, f"wallet link {link_id!r} is {link.status.value}: only a LINKED link can be used"
            )
        return link

    async def mark_expired(self, link: WalletLink, why: str, *, code: str | None = None) -> WalletLink:
        return await self._move(
            link, WalletLinkStatus.EXPIRED, f"{why}: link the wallet again (a new link)", code=code
        )

    # ---- POST /v1/wallet-links ---------------------------------------------------------------
    async def create(self, request: WalletLinkRequest, *, timeout: float) -> LinkIntakeResult:
        stored = await asyncio.to_thread(self.links.get, request.link_id)
        created = stored is None
        if stored is None:
            await self._take_allowance(request.phone, LINK_ACTION)
            link = new_link(request, self._clock())
            try:
                await asyncio.to_thread(self.links.create, link)
            except AlreadyExistsError:
                created = False
                stored = await asyncio.to_thread(self.links.get, request.link_id)
                if stored is None:
                    raise
        if stored is not None:
            if stored.request_fingerprint != request.fingerprint():
                fields = [n for n in ("phone", "email") if getattr(stored, n) != getattr(request, n)]
                raise LinkConflictError(request.link_id, fields or ["body"])
            link = stored
        if link.status is not WalletLinkStatus.OTP_SENT or link.paytm_state is not None:
            return LinkIntakeResult(link, created)  # a replay: nothing is sent again
        answer = await self._paytm.send_otp(link.phone, link.email, timeout=timeout)
        _refuse_if_misconfigured(answer.outcome, answer.code, answer.message)
        if answer.outcome is Outcome.SUCCESS and answer.state:
            await asyncio.to_thread(
                self.links.record_otp_sent, link.link_id, state=answer.state, at=self._clock()
            )
            self._metrics.count("WalletLinkOtpsSent")
            return LinkIntakeResult(await self._get(link.link_id), created)
        field = _SEND_OTP_FIELDS.get(answer.code or "", "phone")
        failed = await self._move(
            link,
            WalletLinkStatus.FAILED,
            f"Send OTP refused ({answer.code}: {answer.message})",
            code=answer.code,
        )
        raise PaytmRefusedLinkError(failed, field, answer.code, answer.message)

    # ---- POST /v1/wallet-links/{link_id}/otp -------------------------------------------------
    async def submit_otp(self, link_id: str, otp: str, *, timeout: float) -> WalletLink:
        link = await self._get(link_id)
        if link.status is not WalletLinkStatus.OTP_SENT:
            raise LinkNotUsableError(
                link, f"wallet link {link_id!r} is {link.status.value}: an OTP is taken only while OTP_SENT"
            )
        if link.paytm_state is None:
            raise LinkNotUsableError(
                link, f"no OTP was sent for wallet link {link_id!r} yet: repeat POST /v1/wallet-links"
            )
        await self._take_allowance(link.phone, OTP_ACTION)
        answer = await self._paytm.verify_otp(link.paytm_state, otp, timeout=timeout)
        _refuse_if_misconfigured(answer.outcome, answer.code, answer.message)
        now = self._clock()
        if answer.outcome is Outcome.SUCCESS and answer.access_token is not None:
            sealed = await asyncio.to_thread(self._vault.seal, link_id, answer.access_token)
            try:
                await asyncio.to_thread(
                    self.links.transition,
                    link_id,
                    expected=WalletLinkStatus.OTP_SENT,
                    target=WalletLinkStatus.LINKED,
                    at=now,
                    reason="OTP verified: the wallet is linked",
                    sealed_token=sealed,
                    token_expires_at=answer.expires_at,
                    customer_id=answer.customer_id,
                )
                self._metrics.count("WalletLinksLinked")
            except StaleTransitionError:
                pass
            return await self._get(link_id)
        if answer.wrong_otp:
            left = await asyncio.to_thread(
                self.links.record_wrong_otp, link_id, at=now, code=answer.code, fail_at=MAX_WRONG_OTPS
            )
            self._metrics.count("WalletLinkWrongOtps")
            raise PaytmRefusedLinkError(left or await self._get(link_id), "otp", answer.code, answer.message)
        failed = await self._move(
            link,
            WalletLinkStatus.FAILED,
            f"Verify OTP refused ({answer.code}: {answer.message}): a new link is needed",
            code=answer.code,
        )
        raise PaytmRefusedLinkError(failed, "otp", answer.code, answer.message)

    # ---- GET /v1/wallet-links/{link_id}[?verify=true] ----------------------------------------
    async def get(self, link_id: str, *, verify: bool, timeout: float) -> WalletLink:
        link = await self._get(link_id)
        if not verify or link.status is not WalletLinkStatus.LINKED:
            return link
        token = await asyncio.to_thread(self.open_token, link)
        answer = await self._paytm.token_details(token, timeout=timeout)
        if answer.known is False:
            return await self.mark_expired(
                link, f"Paytm no longer knows the token ({answer.code})", code=answer.code
            )
        _refuse_if_misconfigured(answer.outcome, answer.code, answer.message)
        return link

    # ---- DELETE /v1/wallet-links/{link_id} ---------------------------------------------------
    async def revoke(self, link_id: str, *, timeout: float) -> WalletLink:
        link = await self._get(link_id)
        if link.status in WALLET_LINK_LIFECYCLE.finals:
            return link  # nothing to revoke (an EXPIRED link's token is gone): a no-op
        if link.sealed_token is not None:
            token = await asyncio.to_thread(self._vault.open, link_id, link.sealed_token)
            answer = await self._paytm.revoke(token, timeout=timeout)
            if answer.outcome not in (Outcome.SUCCESS, Outcome.NOT_FOUND):
                _refuse_if_misconfigured(
                    Outcome.AMBIGUOUS
                    if answer.outcome is not Outcome.CONFIGURATION_ERROR
                    else answer.outcome,
                    str(answer.http_status) if answer.http_status else None,
                    "Revoke Access API",
                )
        reason = "revoked by the merchant: the token is deleted"
        if link.status is WalletLinkStatus.OTP_SENT:
            reason = "deleted by the merchant before the OTP was verified"
        return await self._move(link, WalletLinkStatus.REVOKED, reason)

    # ---- GET /v1/wallet-links/{link_id}/balance?amount= --------------------------------------
    async def balance(self, link_id: str, amount: Decimal, *, timeout: float) -> BalanceView:
        link = await self.usable(link_id)
        token = await asyncio.to_thread(self.open_token, link)
        answer: Balance = await self._paytm.check_balance(token, amount, timeout=timeout)
        if answer.token_rejected:
            expired = await self.mark_expired(
                link, f"Check Balance rejected the token ({answer.code})", code=answer.code
            )
            raise LinkNotUsableError(expired, f"wallet link {link_id!r} is EXPIRED: Paytm rejected its token")
        _refuse_if_misconfigured(answer.outcome, answer.code, answer.message)
        if answer.outcome is not Outcome.SUCCESS or answer.funds_sufficient is None:
            raise PaytmUnavailableError(f"Check Balance refused: {answer.code} {answer.message}")
        deficit = None if answer.funds_sufficient else answer.deficit
        return BalanceView(
            link_id=link_id,
            amount=amount,
            funds_sufficient=answer.funds_sufficient,
            add_money_allowed=bool(answer.add_money_allowed),
            add_money_amount=deficit,
        )
