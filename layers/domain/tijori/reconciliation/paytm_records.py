"""Each status API's answer as a PaytmRecord (tests/unit/test_reconciliation_rules.py).

The answers are the ones the settlement code reads (wallet checkStatus, seed 000; PG transaction
status and refund status, seed 002), already classified by their families' code tables; this
module only says which of them is paid, not paid, pending, unknown, or no answer at all.
"""

from __future__ import annotations

from tijori.lifecycle.outcomes import Outcome
from tijori.payments.ports import PgPort, RefundAnswer, TxnStatusAnswer
from tijori.payouts.settlement import WalletPort
from tijori.paytm.wallet_mapping import WalletAnswer
from tijori.reconciliation.rules import ItemOnRecord, PaytmRecord, PaytmState

STATE_OF_OUTCOME: dict[Outcome, PaytmState] = {
    Outcome.SUCCESS: PaytmState.PAID,
    Outcome.FINAL_FAILURE: PaytmState.NOT_PAID,
    Outcome.PENDING: PaytmState.PENDING,
    Outcome.NOT_FOUND: PaytmState.NOT_FOUND,
    # The status request itself failed: Paytm's record was not read.
    Outcome.AMBIGUOUS: PaytmState.NO_ANSWER,
    Outcome.CONFIGURATION_ERROR: PaytmState.NO_ANSWER,
    Outcome.INVALID_REQUEST: PaytmState.NO_ANSWER,
}


def _on_record(state: PaytmState, record: PaytmRecord) -> PaytmRecord:
    """An answer without Paytm's record of the order carries no amount to compare."""
    if state in (PaytmState.NOT_FOUND, PaytmState.NO_ANSWER):
        return PaytmRecord(state, None, record.status, record.code, record.message)
    return record


def wallet_record(answer: WalletAnswer) -> PaytmRecord:
    state = STATE_OF_OUTCOME[answer.outcome]
    status = answer.txn_status.name if answer.txn_status is not None else None
    return _on_record(
        state, PaytmRecord(state, answer.txn_amount, status, answer.status_code, answer.message or None)
    )


def payment_record(answer: TxnStatusAnswer) -> PaytmRecord:
    state = STATE_OF_OUTCOME[answer.outcome]
    return _on_record(state, PaytmRecord(state, answer.amount, answer.status, answer.code, answer.message))


def refund_record(answer: RefundAnswer) -> PaytmRecord:
    state = STATE_OF_OUTCOME[answer.outcome]
    return _on_record(state, PaytmRecord(state, answer.amount, answer.status, answer.code, answer.message))


class WalletStatusAsker:
    """Payouts: seed 000 checkStatus by the payout's order id."""

    def __init__(self, wallet: WalletPort) -> None:
        self._wallet = wallet

    async def ask(self, item: ItemOnRecord, *, timeout: float) -> PaytmRecord:
        return wallet_record(await self._wallet.check_status(item.order_id, timeout=timeout))


class PaymentStatusAsker:
    """Payments: the Transaction Status API by order id."""

    def __init__(self, pg: PgPort) -> None:
        self._pg = pg

    async def ask(self, item: ItemOnRecord, *, timeout: float) -> PaytmRecord:
        return payment_record(await self._pg.transaction_status(item.order_id, timeout=timeout))


class RefundStatusAsker:
    """Refunds: the Refund Status API by the payment's order id and the refund's REFID."""

    def __init__(self, pg: PgPort) -> None:
        self._pg = pg

    async def ask(self, item: ItemOnRecord, *, timeout: float) -> PaytmRecord:
        return refund_record(await self._pg.refund_status(item.order_id, item.item_id, timeout=timeout))
