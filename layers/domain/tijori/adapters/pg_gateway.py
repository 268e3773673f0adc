"""The payments logic's PG port (tijori.payments.ports.PgPort) over Paytm PG's connector
(tijori.paytm.pg_client): the connector speaks Paytm's fields, the port plain answers."""

from __future__ import annotations

import httpx

from paytm_signing import MerchantCredentials
from tijori.payments import ports
from tijori.payments.models import Payment, Refund
from tijori.paytm.pg_client import PaytmPgClient
from tijori.paytm.pg_mapping import RefundAnswer as PgRefundAnswer
from tijori.paytm.pg_mapping import pg_merchant

__all__ = ["PaytmPgGateway", "pg_merchant"]


class PaytmPgGateway:
    def __init__(self, client: PaytmPgClient, mid: str) -> None:
        self._client = client
        self.mid = mid

    @classmethod
    def for_merchant(
        cls, http: httpx.AsyncClient, base_url: str, credentials: MerchantCredentials
    ) -> PaytmPgGateway:
        """The gateway of the secret's PG product (raises naming the section when it is absent)."""
        merchant = pg_merchant(credentials)
        return cls(PaytmPgClient(http, base_url, merchant), merchant.mid)

    async def initiate_transaction(
        self, payment: Payment, *, callback_url: str, timeout: float
    ) -> ports.InitiateAnswer:
        answer = await self._client.initiate_transaction(
            payment.order_id,
            payment.amount,
            payment.customer.customer_id,
            callback_url=callback_url,
            phone=payment.customer.phone,
            email=payment.customer.email,
            timeout=timeout,
        )
        return ports.InitiateAnswer(
            outcome=answer.outcome,
            code=answer.result_code,
            message=answer.message or answer.reason,
            txn_token=answer.txn_token,
        )

    async def transaction_status(
        self, order_id: str, *, txn_type: str | None = None, timeout: float
    ) -> ports.TxnStatusAnswer:
        """`txn_type`: seed 002's TXN_TYPE, "WITHDRAW" for an auto-debit charge; None for a payment."""
        answer = await self._client.transaction_status(order_id, txn_type=txn_type, timeout=timeout)
        return ports.TxnStatusAnswer(
            outcome=answer.outcome,
            status=answer.status,
            code=answer.resp_code,
            message=answer.resp_msg or answer.reason,
            order_id=answer.order_id,
            mid=answer.mid,
            amount=answer.txn_amount,
            txn_id=answer.txn_id,
            bank_txn_id=answer.bank_txn_id,
            payment_mode=answer.payment_mode,
        )

    async def refund(self, refund: Refund, *, paytm_txn_id: str, timeout: float) -> ports.RefundAnswer:
        answer = await self._client.refund(
            order_id=refund.order_id,
            txn_id=paytm_txn_id,
            ref_id=refund.refund_id,
            amount=refund.amount,
            comments=refund.reason,
            timeout=timeout,
        )
        return _refund_answer(answer)

    async def refund_status(self, order_id: str, refund_id: str, *, timeout: float) -> ports.RefundAnswer:
        answer = await self._client.refund_status(order_id=order_id, ref_id=refund_id, timeout=timeout)
        return _refund_answer(answer)


def _refund_answer(answer: PgRefundAnswer) -> ports.RefundAnswer:
    return ports.RefundAnswer(
        outcome=answer.outcome,
        status=answer.status,
        code=answer.resp_code,
        message=answer.resp_msg or answer.reason,
        ref_id=answer.ref_id,
        refund_id=answer.refund_id,
        amount=answer.refund_amount,
        order_id=answer.order_id,
    )
