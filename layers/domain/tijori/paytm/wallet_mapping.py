"""Seed 000 request bodies and answers, as pure functions (tested with tables of cases)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Any

from tijori.payouts.models import Payout, PayoutMode
from tijori.paytm.wallet_codes import WalletOutcome, classify, classify_check_status

PLATFORM_NAME = "PayTM"
SERVER_IP = "127.0.0.1"


class TxnStatus(IntEnum):
    """checkStatus `txnList[].status`."""

    INIT = 0
    SUCCESS = 1
    FAILURE = 2
    PENDING = 3


@dataclass(frozen=True)
class WalletAnswer:
    """What one call told us. `outcome` is the error catalogue's reading of it."""

    outcome: WalletOutcome
    status_code: str | None
    message: str
    wallet_txn_id: str | None = None
    verified: bool | None = None  # VERIFY answers
    txn_status: TxnStatus | None = None  # checkStatus answers
    refunded_back: bool = False
    # What Paytm's record of the transaction says it was, to be matched against the payout
    # (checkStatus answers only; None when the record does not carry it).
    txn_amount: Decimal | None = None
    txn_sso_id: str | None = None


def decode_answer(content: bytes) -> Any:
    """A Paytm JSON answer with every number as an exact Decimal (`txnAmount` is a JSON number)."""
    return json.loads(content, parse_float=Decimal)


def _body(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def sales_to_user_credit_body(
    payout: Payout, *, merchant_guid: str, sales_wallet_guid: str, verify_only: bool
) -> str:
    """The exact JSON text that is signed and sent."""
    payee = payout.wallet_payee
    request: dict[str, Any] = {
        "requestType": "VERIFY" if verify_only else None,
        "merchantGuid": merchant_guid,
        "merchantOrderId": payout.order_id,
        "salesWalletGuid": sales_wallet_guid,
        "payeeEmailId": payee.email or "",
        "payeePhoneNumber": payee.phone or "",
        "payeeSsoId": payee.sso_id or "",
        "appliedToNewUsers": "Y" if payout.mode is PayoutMode.ANY_USER else "N",
        "amount": f"{payout.amount:.2f}",
        "currencyCode": payout.currency,
    }
    if payout.mode is PayoutMode.VERIFIED_USER:
        # 1: mobile verification, 2: email verification (seed 000 applyVerifiedUser).
        request["applyVerifiedUser"] = "2" if payee.email else "1"
    if payout.pending_days_limit is not None:
        request["pendingDaysLimit"] = str(payout.pending_days_limit)
    if payout.narration:
        request["narration"] = payout.narration
    return _body(
        {
            "request": request,
            "metadata": payout.order_id,
            "ipAddress": SERVER_IP,
            "operationType": "SALES_TO_USER_CREDIT",
            "platformName": PLATFORM_NAME,
        }
    )


def check_status_body(order_id: str, *, merchant_guid: str) -> str:
    return _body(
        {
            "request": {
                "requestType": "merchanttxnid",
                "txnType": "salestouser",
                "txnId": order_id,
                "merchantGuid": merchant_guid,
            },
            "platformName": PLATFORM_NAME,
            "operationType": "CHECK_TXN_STATUS",
        }
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _amount(value: Any) -> Decimal | None:
    """An exact amount from a JSON number or numeric text; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):  # a caller that decoded with floats: take its shortest repr
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def read_credit_answer(document: Any) -> WalletAnswer:
    """A salesToUserCredit answer (credit or VERIFY)."""
    if not isinstance(document, dict):
        return WalletAnswer(WalletOutcome.AMBIGUOUS, None, "answer is not a JSON object")
    code = _text(document.get("statusCode"))
    message = _text(document.get("statusMessage")) or ""
    outcome = classify(_text(document.get("status")), code)
    response = document.get("response")
    txn_id = _text(response.get("walletSysTransactionId")) if isinstance(response, dict) else None
    verified = response if isinstance(response, bool) else None
    return WalletAnswer(outcome, code, message, wallet_txn_id=txn_id, verified=verified)


def read_status_answer(document: Any, order_id: str) -> WalletAnswer:
    """A checkStatus answer for one merchant order id.

    First the request-level envelope, read with checkStatus's own table; only an SS_001 answer is
    read further, for the one transaction of this order: its status, amount and payee.
    """
    if not isinstance(document, dict):
        return WalletAnswer(WalletOutcome.AMBIGUOUS, None, "answer is not a JSON object")
    code = _text(document.get("statusCode"))
    message = _text(document.get("statusMessage")) or ""
    outcome = classify_check_status(_text(document.get("status")), code)
    if outcome is not WalletOutcome.SUCCESS:
        return WalletAnswer(outcome, code, message or "status request refused")
    response = document.get("response")
    transactions = response.get("txnList") if isinstance(response, dict) else None
    mine = [
        txn
        for txn in (transactions if isinstance(transactions, list) else [])
        if isinstance(txn, dict) and str(txn.get("merchantOrderId")) == order_id
    ]
    if len(mine) != 1:
        return WalletAnswer(WalletOutcome.AMBIGUOUS, code, f"{len(mine)} transactions for the order")
    txn = mine[0]
    try:
        txn_status = TxnStatus(int(str(txn.get("status"))))
    except ValueError:
        return WalletAnswer(WalletOutcome.AMBIGUOUS, code, f"unknown txn status {txn.get('status')!r}")
    txn_message = _text(txn.get("message")) or ""
    by_status = {
        TxnStatus.SUCCESS: WalletOutcome.SUCCESS,
        TxnStatus.FAILURE: WalletOutcome.FINAL_FAILURE,
        TxnStatus.PENDING: WalletOutcome.PENDING,
        TxnStatus.INIT: WalletOutcome.PENDING,
    }
    sso_id = _text(txn.get("ssoId"))
    return WalletAnswer(
        by_status[txn_status],
        code,
        txn_message,
        wallet_txn_id=_text(txn.get("txnGuid")),
        txn_status=txn_status,
        refunded_back=txn_status is TxnStatus.FAILURE and txn_message.upper() == "REFUNDED_BACK",
        txn_amount=_amount(txn.get("txnAmount")),
        txn_sso_id=sso_id if sso_id not in (None, "", "null") else None,
    )
