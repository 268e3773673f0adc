"""AutoDebitPort over the seed 002 connector (tijori.paytm.autodebit_client): the connector's
answers read into the domain's (tijori.wallet_links.ports), so no wire format reaches the domain."""

from __future__ import annotations

from decimal import Decimal

import httpx
from pydantic import SecretStr

from paytm_signing import MerchantCredentials
from tijori.paytm.autodebit_client import PaytmAutoDebitClient
from tijori.paytm.autodebit_codes import BALANCE_TOKEN_REJECTED, INSUFFICIENT_BALANCE
from tijori.wallet_links import ports

__all__ = ["PaytmAutoDebitGateway"]


class PaytmAutoDebitGateway:
    def __init__(self, client: PaytmAutoDebitClient) -> None:
        self._client = client

    @classmethod
    def for_merchant(
        cls,
        http: httpx.AsyncClient,
        accounts_base_url: str,
        pg_base_url: str,
        credentials: MerchantCredentials,
    ) -> PaytmAutoDebitGateway:
        return cls(PaytmAutoDebitClient(http, accounts_base_url, pg_base_url, credentials))

    async def send_otp(self, phone: str, email: str | None, *, timeout: float) -> ports.OtpSent:
        answer = await self._client.send_otp(phone, email, timeout=timeout)
        return ports.OtpSent(answer.outcome, answer.state, answer.code, answer.message)

    async def verify_otp(self, state: str, otp: str, *, timeout: float) -> ports.TokenIssued:
        answer = await self._client.verify_otp(state, otp, timeout=timeout)
        return ports.TokenIssued(
            outcome=answer.outcome,
            access_token=answer.access_token,
            expires_at=answer.expires_at,
            customer_id=answer.resource_owner_id,
            code=answer.code,
            message=answer.message,
            wrong_otp=answer.wrong_otp,
        )

    async def token_details(self, token: SecretStr, *, timeout: float) -> ports.TokenDetails:
        answer = await self._client.token_details(token, timeout=timeout)
        return ports.TokenDetails(
            answer.outcome, answer.known, answer.expires_at, answer.code, answer.message
        )

    async def revoke(self, token: SecretStr, *, timeout: float) -> ports.Revoked:
        answer = await self._client.revoke(token, timeout=timeout)
        return ports.Revoked(answer.outcome, answer.http_status)

    async def check_balance(self, token: SecretStr, amount: Decimal, *, timeout: float) -> ports.Balance:
        answer = await self._client.check_balance(token, amount, timeout=timeout)
        return ports.Balance(
            outcome=answer.outcome,
            funds_sufficient=answer.funds_sufficient,
            add_money_allowed=answer.add_money_allowed,
            deficit=answer.deficit,
            code=answer.code,
            message=answer.message,
            token_rejected=(answer.code or "") in BALANCE_TOKEN_REJECTED,
        )

    async def direct_pay(
        self, order_id: str, amount: Decimal, token: SecretStr, cust_id: str, *, timeout: float
    ) -> ports.Withdrawal:
        answer = await self._client.direct_pay(order_id, amount, token, cust_id, timeout=timeout)
        return ports.Withdrawal(
            outcome=answer.outcome,
            status=answer.status,
            order_id=answer.order_id,
            amount=answer.amount,
            txn_id=answer.txn_id,
            bank_txn_id=answer.bank_txn_id,
            code=answer.code,
            message=answer.message,
            token_rejected=answer.token_rejected,
            insufficient_balance=(answer.code or "") == INSUFFICIENT_BALANCE,
        )

    def add_money_form(
        self, order_id: str, amount: Decimal, token: SecretStr, cust_id: str, callback_url: str
    ) -> ports.AddMoneyForm:
        form = self._client.add_money_form(order_id, amount, token, cust_id, callback_url)
        return ports.AddMoneyForm(action=form.action, fields=dict(form.fields))
