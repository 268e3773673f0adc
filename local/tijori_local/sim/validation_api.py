"""Seed 001: Paytm Payouts wallet validation (`POST /bpay/api/v1/beneficiary/validate`).

The answer to the request is `ACCEPTED` (DE_002); the validation then completes and the result is
posted to `callbackUrl` (JSON, signed: `x-mid` and `x-checksum` headers over the raw body, as the
request is) and can be fetched with the disbursal status query, which the seed does not name:
Paytm Payouts' `POST /bpay/api/v1/disburse/order/query` with `{"orderId": ...}`.

Outcome (seed 001 codes): a payee with an active, KYC'd wallet → SUCCESS `DE_001` (the seed is
silent on the success code; DE_001 is Paytm Payouts' "successful") and the penny (Rs 1.00) moves
from the payouts sub-wallet to the user; a user whose wallet is missing or not KYC'd → SUCCESS
`DE_1222` (invalid wallet detail); a wallet whose balance limit the penny would breach → SUCCESS
`DE_1223`; no such user → FAILURE `DE_702`. A script (control API) can hold it PENDING (`DE_101`)
until resolved. The answer's `result.amount` is the penny only when it moved (DE_001): a record
that moved nothing carries no amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paytm_signing import generate_signature, verify_signature
from tijori_local.sim.callbacks import Callback
from tijori_local.sim.codes import message_for
from tijori_local.sim.context import SimContext
from tijori_local.sim.faults import apply_request_fault
from tijori_local.sim.wire import dumps, loads

__all__ = ["STATUS_QUERY_PATH", "VALIDATE_PATH", "resolve_validation", "routes"]

VALIDATE_PATH = "/bpay/api/v1/beneficiary/validate"
STATUS_QUERY_PATH = "/bpay/api/v1/disburse/order/query"
API = "validation"
PENNY = Decimal("1.00")
_PHONE = re.compile(r"^(\+?91)?[6-9]\d{9}$")
_MAX_ORDER_ID = 50
_MAX_CALLBACK_URL = 255

_STATUS_FOR_CODE = {
    "DE_001": "SUCCESS",
    "DE_1222": "SUCCESS",
    "DE_1223": "SUCCESS",
    "DE_101": "PENDING",
    "DE_702": "FAILURE",
}


@dataclass
class Validation:
    order_id: str
    paytm_order_id: str
    phone: str
    callback_url: str | None
    created_at: datetime
    status: str = "ACCEPTED"
    code: str = "DE_002"
    penny: Decimal | None = None  # what moved to the user (DE_001 only)

    def as_json(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "paytmOrderId": self.paytm_order_id,
            "beneficiaryPhoneNo": self.phone,
            "status": self.status,
            "statusCode": self.code,
            "createdAt": self.created_at.isoformat(),
        }


def _answer(
    status: str, code: str, *, result: dict[str, Any] | None = None, message: str | None = None
) -> Response:
    payload: dict[str, Any] = {
        "status": status,
        "statusCode": code,
        "statusMessage": message if message is not None else message_for(code, API),
    }
    if result is not None:
        payload["result"] = result
    return Response(dumps(payload), status_code=200, media_type="application/json")


def _failure(code: str, message: str | None = None) -> Response:
    return _answer("FAILURE", code, message=message)


def _records(ctx: SimContext) -> dict[str, Any]:
    return ctx.state.records.setdefault(API, {})


def _authenticate(ctx: SimContext, request: Request, raw: bytes) -> str | None:
    mid = request.headers.get("x-mid")
    checksum = request.headers.get("x-checksum")
    if not mid:
        return "DE_401"
    if mid != ctx.credentials.mid:
        return "DE_019"
    if not checksum:
        return "DE_408"
    if not verify_signature(raw, ctx.payouts_key, checksum):
        return "DE_409"
    if not ctx.state.merchant_active:
        return "DE_023"
    return None


def _result(ctx: SimContext, record: Validation) -> dict[str, Any]:
    result = {
        "mid": ctx.credentials.mid,
        "orderId": record.order_id,
        "paytmOrderId": record.paytm_order_id,
        "beneficiaryPhoneNo": record.phone,
    }
    if record.penny is not None:
        result["amount"] = format(record.penny, "f")
    return result


def _decide(ctx: SimContext, phone: str, order_id: str) -> str:
    """The validation's final code, moving the penny when the wallet is good (state lock held)."""
    state = ctx.state
    user = state.find_user("phone", phone[-10:])
    if user is None:
        return "DE_702"
    if not user.wallet_exists or not user.kyc:
        return "DE_1222"
    limit = user.limits.max_balance
    if limit is not None and state.balance(user.account) + PENNY > limit:
        return "DE_1223"
    wallet = state.sub_wallets[ctx.credentials.payouts.subwallet_guid]
    state.move(wallet.account, user.account, PENNY, order_id=order_id, kind="penny_drop")
    return "DE_001"


def _callback_for(
    ctx: SimContext, record: Validation, status: str, code: str, *, key: str | None = None
) -> Callback:
    assert record.callback_url is not None
    body = dumps(
        {
            "status": status,
            "statusCode": code,
            "statusMessage": message_for(code, API),
            "result": _result(ctx, record),
        }
    )
    signing_key = ctx.payouts_key if key is None else key
    headers = {
        "Content-Type": "application/json",
        "x-mid": ctx.credentials.mid,
        "x-checksum": generate_signature(body, signing_key),
    }
    return Callback(record.callback_url, body, headers)


def _send_callback(ctx: SimContext, record: Validation) -> None:
    if record.callback_url is None:
        return
    callback = _callback_for(ctx, record, record.status, record.code)
    callback.stale = lambda: _callback_for(ctx, record, "PENDING", "DE_101")
    # A forger does not have the merchant key; it claims success.
    callback.forged = lambda: _callback_for(ctx, record, "SUCCESS", "DE_001", key="F0RGED-KEY-16-by")
    ctx.callbacks.dispatch(callback, path=VALIDATE_PATH, order_id=record.order_id)


def resolve_validation(ctx: SimContext, order_id: str, outcome: str) -> Validation:
    """Control API: finish a PENDING validation as SUCCESS (checks the wallet) or FAILURE."""
    with ctx.state.lock:
        record = _records(ctx).get(order_id)
        if not isinstance(record, Validation) or record.status != "PENDING":
            raise KeyError(order_id)
        code = _decide(ctx, record.phone, record.order_id) if outcome == "SUCCESS" else "DE_702"
        record.status, record.code = _STATUS_FOR_CODE[code], code
        record.penny = PENNY if code == "DE_001" else None
    _send_callback(ctx, record)
    return record


async def _read_request(request: Request) -> tuple[bytes, Any, str | None]:
    """The raw body (what the checksum covers), its JSON (None if not JSON), and its orderId."""
    raw = await request.body()
    try:
        body = loads(raw)
    except ValueError:
        body = None
    order_hint = str(body.get("orderId")) if isinstance(body, dict) and body.get("orderId") else None
    return raw, body, order_hint


async def validate(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    raw, body, order_hint = await _read_request(request)
    ctx.requests.record(VALIDATE_PATH, order_hint)

    async def handle() -> Response:
        refused = _authenticate(ctx, request, raw)
        if refused is not None:
            return _failure(refused)
        if not isinstance(body, dict):
            return _failure("DE_057")
        for name in ("orderId", "subwalletGuid", "beneficiaryPhoneNo"):
            if not str(body.get(name) or "").strip():
                return _failure("DE_010", f"{name} is mandatory and it's can't be null or blank")
        order_id = str(body["orderId"]).strip()
        if len(order_id) > _MAX_ORDER_ID:
            return _failure(
                "DE_013", f"orderId doesn't contain valid length, It should be {_MAX_ORDER_ID} or less"
            )
        callback_url = str(body.get("callbackUrl") or "").strip() or None
        if callback_url is not None and (
            len(callback_url) > _MAX_CALLBACK_URL or not callback_url.startswith(("http://", "https://"))
        ):
            return _failure("DE_011", "callbackUrl doesn't contain a valid value")
        phone = str(body["beneficiaryPhoneNo"]).strip()
        if not _PHONE.match(phone):
            return _failure("DE_011", "beneficiaryPhoneNo doesn't contain a valid value")
        state = ctx.state
        with state.lock:
            wallet = state.sub_wallets.get(str(body["subwalletGuid"]).strip())
            if wallet is None or wallet.kind != "PAYOUTS":
                return _failure("DE_704")
            records = _records(ctx)
            if order_id in records:
                return _failure("DE_040")
            if state.balance(wallet.account) < PENNY:
                return _failure("DE_029")
            record = Validation(order_id, state.next_txn_id(), phone[-10:], callback_url, ctx.clock.now())
            records[order_id] = record
            script = state.take_script("validation", order_id)
            if script is not None and script.outcome == "PENDING":
                record.status, record.code = "PENDING", "DE_101"
            else:
                code = _decide(ctx, record.phone, record.order_id)
                if script is not None and script.outcome == "FAILURE":
                    code = "DE_702"
                record.status, record.code = _STATUS_FOR_CODE[code], code
                record.penny = PENNY if code == "DE_001" else None
        if record.status != "PENDING":
            _send_callback(ctx, record)
        return _answer("ACCEPTED", "DE_002")

    return await apply_request_fault(ctx.faults, VALIDATE_PATH, order_hint, handle)


async def status_query(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    raw, body, order_hint = await _read_request(request)
    ctx.requests.record(STATUS_QUERY_PATH, order_hint)

    async def handle() -> Response:
        refused = _authenticate(ctx, request, raw)
        if refused is not None:
            return _failure(refused)
        if not isinstance(body, dict):
            return _failure("DE_057")
        if not order_hint:
            return _failure("DE_010", "orderId is mandatory and it's can't be null or blank")
        with ctx.state.lock:
            record = _records(ctx).get(order_hint)
        if not isinstance(record, Validation):
            return _failure("DE_039")
        return _answer(record.status, record.code, result=_result(ctx, record))

    return await apply_request_fault(ctx.faults, STATUS_QUERY_PATH, order_hint, handle)


def routes() -> list[Route]:
    return [
        Route(VALIDATE_PATH, validate, methods=["POST"]),
        Route(STATUS_QUERY_PATH, status_query, methods=["POST"]),
    ]
