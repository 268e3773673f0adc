"""Seed 000: `/wallet-web/salesToUserCredit` and `/wallet-web/checkStatus`.

Every answer is HTTP 200 with Paytm's envelope (`type`, `requestGuid`, `orderId`, `status`,
`statusCode`, `statusMessage`, `response`, `metadata`); business errors are `status: FAILURE`
with the seed's code. The `mid` and `checksumhash` headers are checked over the raw body bytes
before the body is even parsed.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paytm_signing import verify_signature
from tijori_local.sim.codes import message_for
from tijori_local.sim.context import SimContext
from tijori_local.sim.faults import apply_request_fault
from tijori_local.sim.planted_records import wallet_entry
from tijori_local.sim.state import BusinessError, CreditRequest, CreditStatus, SalesCredit
from tijori_local.sim.wire import InvalidAmountError, dumps, json_number, loads, parse_amount

__all__ = ["CHECK_STATUS_PATH", "SALES_TO_USER_CREDIT_PATH", "routes"]

SALES_TO_USER_CREDIT_PATH = "/wallet-web/salesToUserCredit"
CHECK_STATUS_PATH = "/wallet-web/checkStatus"

_ORDER_ID = re.compile(r"^[A-Za-z0-9_\-@.:/|]{1,50}$")
_PHONE = re.compile(r"^[6-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_SSO_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_CHECK_STATUS_TYPES = {"merchanttxnid", "wallettxnid", "refundreftxnid"}
_TXN_TYPES = {"SALES_TO_USER_CREDIT", "salestouser"}


def _json(payload: dict[str, Any]) -> Response:
    return Response(dumps(payload), status_code=200, media_type="application/json")


def _envelope(
    *,
    order_id: str | None,
    status: str,
    code: str,
    message: str | None = None,
    response: Any = None,
    metadata: Any = None,
) -> Response:
    return _json(
        {
            "type": None,
            "requestGuid": None,
            "orderId": order_id,
            "status": status,
            "statusCode": code,
            "statusMessage": message if message is not None else message_for(code),
            "response": response,
            "metadata": metadata,
        }
    )


def _failure(
    code: str, *, order_id: str | None = None, metadata: Any = None, message: str | None = None
) -> Response:
    return _envelope(order_id=order_id, status="FAILURE", code=code, message=message, metadata=metadata)


def _authenticate(ctx: SimContext, request: Request, raw: bytes) -> str | None:
    """The seed's checks on the headers: a failure code, or None when the caller is the merchant."""
    mid = request.headers.get("mid")
    if not mid or mid != ctx.credentials.mid:
        return "GE_1017"
    if not verify_signature(raw, ctx.wallet_key, request.headers.get("checksumhash")):
        return "GE_1008"
    if not ctx.state.merchant_active:
        return "GE_1035"
    return None


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool | dict | list):
        raise BusinessError("GE_2")
    text = str(value).strip()
    return text or None


def _parse_credit(ctx: SimContext, outer: dict[str, Any]) -> tuple[str, CreditRequest]:
    """Format checks of a salesToUserCredit body, in the order the codes are given below."""
    body = outer.get("request")
    if not isinstance(body, dict):
        raise BusinessError("GE_2")
    for name in ("platformName", "ipAddress"):
        if not _text(outer, name):
            raise BusinessError("GE_2")
    if _text(outer, "operationType") != "SALES_TO_USER_CREDIT":
        raise BusinessError("GE_2")
    if _text(body, "merchantGuid") != ctx.credentials.wallet.merchant_guid:
        raise BusinessError("GE_1017")
    order_id = _text(body, "merchantOrderId")
    if order_id is None or not _ORDER_ID.match(order_id):
        raise BusinessError("STUC_1006")
    sales_wallet_guid = _text(body, "salesWalletGuid")
    if sales_wallet_guid is None:
        raise BusinessError("STUC_1005")

    raw_type = _text(body, "requestType")
    if raw_type is None or raw_type.upper() == "NULL":
        request_type = "NULL"
    elif raw_type.upper() == "VERIFY":
        request_type = "VERIFY"
    else:
        raise BusinessError("GE_2")

    sso_id, phone, email = (
        _text(body, "payeeSsoId"),
        _text(body, "payeePhoneNumber"),
        _text(body, "payeeEmailId"),
    )
    payee_kind: Any
    if sso_id is not None:
        if not _SSO_ID.match(sso_id):
            raise BusinessError("STUC_1008")
        payee_kind, payee = "ssoId", sso_id
    elif phone is not None:
        if not _PHONE.match(phone):
            raise BusinessError("GE_1032")
        payee_kind, payee = "phone", phone
    elif email is not None:
        if not _EMAIL.match(email):
            raise BusinessError("GE_1011")
        payee_kind, payee = "email", email.lower()
    else:
        raise BusinessError("STUC_1008")

    raw_amount = body.get("amount")
    amount = Decimal("0.00")
    if request_type == "NULL" or raw_amount not in (None, ""):
        try:
            amount = parse_amount(raw_amount)
        except InvalidAmountError:
            raise BusinessError("GE_1007") from None
    currency = _text(body, "currencyCode")
    if (request_type == "NULL" or currency is not None) and currency != "INR":
        raise BusinessError("GE_1018")

    applied = (_text(body, "appliedToNewUsers") or "N").upper()
    if applied not in ("Y", "N"):
        raise BusinessError("GE_2")
    verified = _text(body, "applyVerifiedUser")
    if verified is not None and verified not in ("1", "2", "3"):
        raise BusinessError("GE_2")
    days_text = _text(body, "pendingDaysLimit")
    pending_days: int | None = None
    if days_text is not None:
        if not days_text.isdigit():
            raise BusinessError("GE_2")
        pending_days = int(days_text)

    return request_type, CreditRequest(
        order_id=order_id,
        sales_wallet_guid=sales_wallet_guid,
        sales_wallet_name=_text(body, "salesWalletName"),
        payee_kind=payee_kind,
        payee=payee,
        amount=amount,
        applied_to_new_users=applied == "Y",
        apply_verified_user=verified,
        pending_days=pending_days,
        metadata=outer.get("metadata"),
    )


def _parse_json(raw: bytes) -> Any:
    try:
        return loads(raw)
    except ValueError:
        return None


def _order_id_hint(outer: Any) -> str | None:
    """The order id a fault rule may match on, read leniently before any validation."""
    if not isinstance(outer, dict) or not isinstance(outer.get("request"), dict):
        return None
    request = outer["request"]
    value = request.get("merchantOrderId", request.get("txnId"))
    return None if value is None else str(value)


def _credit_answer(credit: SalesCredit, metadata: Any) -> Response:
    response = {"walletSysTransactionId": credit.wallet_txn_id}
    if credit.status == CreditStatus.SUCCESS:
        return _envelope(
            order_id=credit.order_id, status="SUCCESS", code="SUCCESS", response=response, metadata=metadata
        )
    assert credit.code is not None
    status = "PENDING" if credit.status == CreditStatus.PENDING else "FAILURE"
    return _envelope(
        order_id=credit.order_id, status=status, code=credit.code, response=response, metadata=metadata
    )


async def sales_to_user_credit(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    raw = await request.body()
    outer = _parse_json(raw)
    order_hint = _order_id_hint(outer)
    ctx.requests.record(SALES_TO_USER_CREDIT_PATH, order_hint)

    async def handle() -> Response:
        refused = _authenticate(ctx, request, raw)
        if refused is not None:
            return _failure(refused)
        if not isinstance(outer, dict):
            return _failure("GE_2")
        metadata = outer.get("metadata")
        try:
            request_type, credit_request = _parse_credit(ctx, outer)
            if request_type == "VERIFY":
                verified, reason = ctx.state.verify_payee(credit_request)
                if verified:
                    return _envelope(
                        order_id=credit_request.order_id,
                        status="SUCCESS",
                        code="SUCCESS",
                        response=True,
                        metadata=metadata,
                    )
                assert reason is not None
                return _envelope(
                    order_id=credit_request.order_id,
                    status="FAILURE",
                    code=reason,
                    response=False,
                    metadata=metadata,
                )
            credit = ctx.state.sales_to_user_credit(credit_request)
        except BusinessError as exc:
            return _failure(exc.code, order_id=order_hint, metadata=metadata, message=exc.message)
        return _credit_answer(credit, metadata)

    return await apply_request_fault(ctx.faults, SALES_TO_USER_CREDIT_PATH, order_hint, handle)


def _txn_entry(credit: SalesCredit) -> dict[str, Any]:
    return {
        "txnGuid": credit.wallet_txn_id,
        "txnAmount": json_number(credit.amount),
        "status": int(credit.status),
        "message": credit.message,
        "txnErrorCode": None if credit.status == CreditStatus.SUCCESS else "",
        "ssoId": credit.sso_id,
        "txnType": "SALES_TO_USER_CREDIT",
        "merchantOrderId": credit.order_id,
        "pgTxnId": "null",
        "pgRefundId": "null",
        "cashbackTxnId": None,
        "isLimitPending": credit.is_limit_pending,
    }


async def check_status(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    raw = await request.body()
    outer = _parse_json(raw)
    ctx.requests.record(CHECK_STATUS_PATH, _order_id_hint(outer))

    async def handle() -> Response:
        refused = _authenticate(ctx, request, raw)
        if refused is not None:
            return _failure(refused)
        body = outer.get("request") if isinstance(outer, dict) else None
        if not isinstance(body, dict):
            return _failure("GE_2")
        try:
            # Seed 000: platformName and operationType CHECK_TXN_STATUS are mandatory.
            if not _text(outer, "platformName") or _text(outer, "operationType") != "CHECK_TXN_STATUS":
                return _failure("GE_2")
        except BusinessError as exc:
            return _failure(exc.code)
        request_type = str(body.get("requestType") or "").strip().lower()
        if request_type not in _CHECK_STATUS_TYPES:
            return _failure("CTS_0001")
        try:
            if _text(body, "merchantGuid") != ctx.credentials.wallet.merchant_guid:
                return _failure("GE_1017")
            if _text(body, "txnType") not in _TXN_TYPES:
                return _failure("GE_2")
            txn_id = _text(body, "txnId")
        except BusinessError as exc:
            return _failure(exc.code)
        credit = None if txn_id is None else ctx.state.find_credit(request_type, txn_id)
        if credit is None:
            return _failure("STUC_1009")
        return _envelope(
            order_id=None,
            status="SUCCESS",
            code="SS_001",
            message="SUCCESS",
            response={"txnList": [wallet_entry(ctx.state, _txn_entry(credit))]},
        )

    return await apply_request_fault(ctx.faults, CHECK_STATUS_PATH, _order_id_hint(outer), handle)


def routes() -> list[Route]:
    return [
        Route(SALES_TO_USER_CREDIT_PATH, sales_to_user_credit, methods=["POST"]),
        Route(CHECK_STATUS_PATH, check_status, methods=["POST"]),
    ]
