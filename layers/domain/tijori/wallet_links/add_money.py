"""Add money (seed 002, STEP 3): the customer tops up their linked wallet through Paytm's
processTransaction form.

Seed 002 puts the customer's token in that form (`SSO_TOKEN`), so the form goes only to the
customer's own browser: the merchant gets a one-time URL of Tijori's, whose secret part is stored
only as a hash; the URL serves the auto-submitting form once (then 410), within the order's 15
minutes. InitiateFunction issues the order and the URL (`AddMoneyDesk`); CallbackFunction, which
holds the stack's open routes, serves the form (`AddMoneyForms`). The order is a payment with
method `add_money`: CREATED until Paytm's callback asks for a status check and the Transaction
Status API confirms it (tijori.payments.collection).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import SecretStr

from tijori.lifecycle.store import AlreadyExistsError
from tijori.payments.collection import PaymentConflictError
from tijori.payments.lifecycle import PaymentStatus
from tijori.payments.models import Customer, Payment, Step
from tijori.payments.ports import PaymentRepository
from tijori.payments.rules import CREATED_FIRST_CHECK, TOKEN_TTL
from tijori.wallet_links.lifecycle import WalletLinkStatus
from tijori.wallet_links.linking import WalletLinker
from tijori.wallet_links.models import AddMoneyRequest, AddMoneyTicket
from tijori.wallet_links.ports import AddMoneyForm, TokenVault, WalletLinkRepository

ADD_MONEY_PATH = "/v1/add-money/{ticket}"


class AddMoneyFormGoneError(Exception):
    """The one-time URL is unknown, already used, or past its order's 15 minutes."""


@dataclass(frozen=True)
class AddMoneyIssued:
    payment: Payment
    created: bool
    form_url: str | None
    form_expires_at: datetime | None


def ticket_key(ticket: str) -> str:
    """What is stored of a one-time URL's secret: its hash (the table never holds a usable URL)."""
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()


def new_add_money(link_id: str, phone: str, request: AddMoneyRequest, now: datetime) -> Payment:
    return Payment(
        order_id=request.order_id,
        amount=request.amount,
        currency="INR",
        customer=Customer(customer_id=link_id, phone=phone),
        return_url=request.return_url,
        request_fingerprint=request.fingerprint(link_id),
        status=PaymentStatus.CREATED,
        method="add_money",
        link_id=link_id,
        token_expires_at=now + TOKEN_TTL,
        created_at=now,
        updated_at=now,
        history=(Step(from_status=None, to_status="CREATED", at=now, reason="add-money form issued"),),
    )


class AddMoneyDesk:
    def __init__(
        self,
        *,
        linker: WalletLinker,
        payments: PaymentRepository,
        clock: Callable[[], datetime],
        public_base_url: str,
        callback_url: str,
        paytm_pg_base_url: str,
    ) -> None:
        self._linker = linker
        self._payments = payments
        self._clock = clock
        self._public_base_url = public_base_url.rstrip("/")
        self._callback_url = callback_url
        self._paytm_pg_base_url = paytm_pg_base_url

    async def issue(self, link_id: str, request: AddMoneyRequest) -> AddMoneyIssued:
        """A CREATED add-money order and a fresh one-time form URL for it (a replay of the same
        body while the order is CREATED and in time gets a new URL; the old one still works once)."""
        stored = await asyncio.to_thread(self._payments.get, request.order_id)
        created = stored is None
        if stored is None:
            link = await self._linker.usable(link_id)
            payment = new_add_money(link.link_id, link.phone, request, self._clock())
            try:
                await asyncio.to_thread(
                    self._payments.create, payment, first_check_at=payment.created_at + CREATED_FIRST_CHECK
                )
            except AlreadyExistsError:
                created = False
                stored = await asyncio.to_thread(self._payments.get, request.order_id)
                if stored is None:
                    raise
        if stored is not None:
            if stored.request_fingerprint != request.fingerprint(link_id):
                raise PaymentConflictError(request.order_id, ["order_id"])
            payment = stored
        expires = payment.token_expires_at or payment.created_at + TOKEN_TTL
        now = self._clock()
        if payment.status is not PaymentStatus.CREATED or now >= expires:
            return AddMoneyIssued(payment, created, None, None)
        if not created:
            # A replay: the link may have changed since the order was made (checked just now
            # for a new order).
            await self._linker.usable(link_id)
        ticket = secrets.token_urlsafe(32)
        record = AddMoneyTicket(
            order_id=payment.order_id,
            link_id=link_id,
            amount=payment.amount,
            expires_at=expires,
            callback_url=self._callback_url,
            paytm_pg_base_url=self._paytm_pg_base_url,
        )
        await asyncio.to_thread(self._linker.links.create_ticket, ticket_key(ticket), record)
        url = self._public_base_url + ADD_MONEY_PATH.format(ticket=ticket)
        return AddMoneyIssued(payment, created, url, expires)


FormBuilder = Callable[[AddMoneyTicket, SecretStr, str], AddMoneyForm]
"""(ticket, token, cust_id) -> the signed form (the seed 002 connector's, with the merchant's keys)."""


class AddMoneyForms:
    """Serves a one-time add-money URL: the ticket is marked used in the same write that finds it,
    so it serves once; then the order must still be CREATED and its link LINKED."""

    def __init__(
        self,
        *,
        links: WalletLinkRepository,
        payments: PaymentRepository,
        vault: TokenVault,
        build_form: FormBuilder,
        clock: Callable[[], datetime],
    ) -> None:
        self._links = links
        self._payments = payments
        self._vault = vault
        self._build_form = build_form
        self._clock = clock

    def serve(self, ticket: str) -> AddMoneyForm:
        now = self._clock()
        record = self._links.take_ticket(ticket_key(ticket), now=now)
        if record is None:
            raise AddMoneyFormGoneError("this add-money link was used already, has expired, or never existed")
        payment = self._payments.get(record.order_id)
        if payment is None or payment.status is not PaymentStatus.CREATED:
            raise AddMoneyFormGoneError("this add-money order is no longer open")
        link = self._links.get(record.link_id)
        usable = link is not None and link.status is WalletLinkStatus.LINKED and not link.token_expired(now)
        if link is None or link.sealed_token is None or not usable:
            raise AddMoneyFormGoneError("the wallet link of this add-money order is no longer linked")
        token = self._vault.open(link.link_id, link.sealed_token)
        return self._build_form(record, token, link.link_id)


_SUBMIT_SCRIPT = "document.getElementById('paytm-add-money').submit();"


def add_money_page(form: AddMoneyForm) -> tuple[str, dict[str, str]]:
    """The auto-submitting page and the headers it is served with: never cached or stored (it
    carries the customer's token), no referrer, and a content security policy that lets it run
    only its own submit script and post only to Paytm."""
    inputs = "\n".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in form.fields.items()
    )
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Paytm - add money</title></head>'
        f'<body><form id="paytm-add-money" method="post" action="{html.escape(form.action)}">\n{inputs}\n'
        '<noscript><button type="submit">Continue to Paytm</button></noscript></form>'
        f"<script>{_SUBMIT_SCRIPT}</script></body></html>\n"
    )
    script_hash = base64.b64encode(hashlib.sha256(_SUBMIT_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    action = urlsplit(form.action)
    headers = {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'sha256-{script_hash}'; "
            f"form-action {action.scheme}://{action.netloc}; frame-ancestors 'none'"
        ),
    }
    return page, headers
