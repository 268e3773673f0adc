"""The paths of Paytm's official PG SDK for Python (`paytm-pg` 1.1.2 on PyPI), on the same orders
and refunds as the seeds' PG paths (`pg_api`): code written against the SDK runs unchanged against
the simulator.

- `POST /order/initiate?mid=&orderId=`: Initiate Transaction under the SDK's path, served by the
  very handler of `/theia/api/v1/initiateTransaction` (same checks, codes, idempotency, txnToken).
- `POST /v3/order/status` `{head, body: {mid, orderId, txnType?}}`: the order as
  `/merchant-status/getTxnStatus` reads it (`pg_api.status_payload`), in camelCase under
  `resultInfo`.
- `POST /refund/apply` `{body: {mid, orderId, refId, txnId, txnType, refundAmount, comments?},
  head}`: decided by the seed refund's own logic (`pg_api.refund_order`). Paytm's refund API is
  asynchronous: an accepted refund answers PENDING 601; a refused one TXN_FAILURE with the seed
  path's code (334, 600, 617, 619, 627).
- `POST /v2/refund/status` `{head, body: {mid, orderId, refId}}`: the refund as
  `/refund/HANDLER_INTERNAL/getRefundStatus` reads it.

Signatures, as the SDK makes them: `head.signature` is Paytm's checksum of the request's `body`
JSON text. The SDK builds that text by hand (`stringUtil.make_string`), then deletes every space
and turns every `'` into `"` (`format_string`); it signs that text and sends the whole request built
the same way, so the `body` it sends is character for character the text it signed. The check is
therefore the seed 004 rule, unchanged: over the exact `body` text as sent (`pg_api.split_signed`),
never a re-serialization. The cost of the SDK's habit falls on the merchant: values lose their
spaces ("part refund" arrives as "partrefund"). Answers are `{"head": {responseTimestamp,
version, clientId, signature}, "body": {...}}`, head first, `head.signature` over the exact body
text: the SDK cuts the body out of `str(response.content)` (the bytes' repr) between the first
`body` and the end, and checks the signature only when `resultStatus` is S, TXN_SUCCESS or PENDING.

Refusals (decisions, Paytm's codes for these APIs; all signed, `resultStatus` TXN_FAILURE): not a
`{head, body}` JSON object 1001; signature missing or not over the body text 330; then status:
MID not this merchant 335, unknown order 334; refund status: unknown order, refId or MID 631.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paytm_signing import verify_signature
from tijori_local.sim import pg_api
from tijori_local.sim.codes import message_for
from tijori_local.sim.context import SimContext
from tijori_local.sim.faults import apply_request_fault
from tijori_local.sim.pg_api import (
    IST,
    REFUND_API,
    TXN_API,
    PgOrder,
    PgRefund,
    _text,
    find_order,
    refresh,
    refund_order,
    request_signature,
    response_timestamp,
    signed_envelope,
    split_signed,
    status_payload,
)
from tijori_local.sim.wire import loads

__all__ = [
    "SDK_INITIATE_PATH",
    "SDK_MESSAGES",
    "SDK_PENDING",
    "SDK_REFUND_PATH",
    "SDK_REFUND_STATUS_PATH",
    "SDK_STATUS_PATH",
    "refund_result",
    "result_status",
    "routes",
]

SDK_INITIATE_PATH = "/order/initiate"
SDK_STATUS_PATH = "/v3/order/status"
SDK_REFUND_PATH = "/refund/apply"
SDK_REFUND_STATUS_PATH = "/v2/refund/status"

SDK_PENDING = "PENDING"
"""The pending literal of Paytm's v3/v2 JSON APIs (and the SDK's `LibraryConstants.PENDING_STATUS`),
whatever the seeds' paths call a not-yet-final order or refund."""

_FINAL = ("TXN_SUCCESS", "TXN_FAILURE")

SDK_MESSAGES: dict[str, str] = {
    "1001": "Request parameters are not valid",
    "335": "Mid is invalid",
    "601": "Refund request was raised for this transaction. But it is pending state",
    "620": "Refund failed",
}
"""The codes these paths answer that the seeds' catalogues (`codes.py`) do not hold: Paytm's texts
for the v3 status and refund APIs (620, a refund that failed after it was accepted, is a
decision: the simulator fails no accepted refund on its own)."""

_REFUND_RESULTS: dict[str, tuple[str, str]] = {
    "TXN_SUCCESS": ("TXN_SUCCESS", "10"),
    "TXN_FAILURE": ("TXN_FAILURE", "620"),
}
_USER_CREDIT_STATUS = {"TXN_SUCCESS": "SUCCESS", "TXN_FAILURE": "FAILURE"}
# The order's payment mode as Paytm's refund status names the method the money goes back to.
_PAY_METHODS = {
    "CC": "CREDIT_CARD",
    "DC": "DEBIT_CARD",
    "NB": "NET_BANKING",
    "UPI": "UPI",
    "PPI": "BALANCE",
}


def result_status(status: str) -> str:
    """`resultStatus` for an order's STATUS: the two final values as they are; anything else (an
    order not yet paid, or pending under whatever literal the seeds' paths use) is PENDING."""
    return status if status in _FINAL else SDK_PENDING


def refund_result(status: str) -> tuple[str, str]:
    """(`resultStatus`, `resultCode`) of the refund status API for a refund's status."""
    return _REFUND_RESULTS.get(status, (SDK_PENDING, "601"))


def _message(code: str, api: str) -> str:
    return SDK_MESSAGES.get(code) or message_for(code, api)


def _answer(
    ctx: SimContext, head: Mapping[str, Any], status: str, code: str, message: str, **fields: Any
) -> Response:
    body = {"resultInfo": {"resultStatus": status, "resultCode": code, "resultMsg": message}, **fields}
    reply_head = {
        "responseTimestamp": response_timestamp(ctx),
        "version": "v1",
        "clientId": head.get("clientId") or "C11",
    }
    return signed_envelope(ctx, reply_head, body)


def _refusal(ctx: SimContext, head: Mapping[str, Any], code: str, api: str, **fields: Any) -> Response:
    return _answer(ctx, head, "TXN_FAILURE", code, _message(code, api), **fields)


Serve = Callable[[SimContext, Mapping[str, Any], dict[str, Any]], Response]


async def _signed_call(request: Request, path: str, api: str, serve: Serve) -> Response:
    """Parse `{head, body}`, check `head.signature` over the exact body text, then `serve`; every
    answer goes through the fault book under this path and the body's orderId."""
    ctx: SimContext = request.app.state.sim
    split = split_signed(await request.body())
    order_hint = None if split is None else _text(split[0]["body"], "orderId")

    async def handle() -> Response:
        if split is None:
            return _refusal(ctx, {}, "1001", api)
        outer, body_text = split
        head = outer.get("head")
        head = head if isinstance(head, dict) else {}
        if not verify_signature(body_text, ctx.pg_key, request_signature(outer)):
            return _refusal(ctx, head, "330", api)
        return serve(ctx, head, outer["body"])

    ctx.requests.record(path, order_hint)
    return await apply_request_fault(ctx.faults, path, order_hint, handle)


def _handler(path: str, api: str, serve: Serve) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _signed_call(request, path, api, serve)

    return endpoint


# -- /v3/order/status --------------------------------------------------------------------------


def _payment_status(ctx: SimContext, head: Mapping[str, Any], body: dict[str, Any]) -> Response:
    order_id = _text(body, "orderId")
    if _text(body, "mid") != ctx.credentials.mid:
        return _refusal(ctx, head, "335", TXN_API, orderId=order_id)
    state = ctx.state
    with state.lock:
        order = find_order(state, order_id or "")
        if order is None:
            return _refusal(ctx, head, "334", TXN_API, orderId=order_id)
        refresh(state, order)
        seen = status_payload(ctx, order)
    return _answer(
        ctx,
        head,
        result_status(seen["STATUS"]),
        seen["RESPCODE"],
        seen["RESPMSG"],
        txnId=seen["TXNID"],
        bankTxnId=seen["BANKTXNID"],
        orderId=seen["ORDERID"],
        txnAmount=seen["TXNAMOUNT"],
        txnType=seen["TXNTYPE"],
        gatewayName=seen["GATEWAYNAME"],
        bankName=seen["BANKNAME"],
        mid=seen["MID"],
        paymentMode=seen["PAYMENTMODE"],
        refundAmt=seen["REFUNDAMT"],
        txnDate=seen["TXNDATE"],
    )


# -- /refund/apply -----------------------------------------------------------------------------

# The SDK's camelCase body -> the seed refund's JsonData names (what `refund_order` reads).
_REFUND_FIELDS = {
    "mid": "MID",
    "txnId": "TXNID",
    "orderId": "ORDERID",
    "refundAmount": "REFUNDAMOUNT",
    "txnType": "TXNTYPE",
    "refId": "REFID",
    "comments": "COMMENTS",
}


def _refund_apply(ctx: SimContext, head: Mapping[str, Any], body: dict[str, Any]) -> Response:
    data = {seed: body[sdk] for sdk, seed in _REFUND_FIELDS.items() if body.get(sdk) is not None}
    order_id, ref_id = _text(body, "orderId"), _text(body, "refId")
    echo = {
        "orderId": order_id,
        "mid": _text(body, "mid"),
        "refId": ref_id,
        "txnId": _text(body, "txnId"),
        "refundAmount": _text(body, "refundAmount"),
    }
    state = ctx.state
    with state.lock:  # re-entrant: refund_order takes it too; nothing moves in between
        order = find_order(state, order_id or "")
        already = order is not None and ref_id is not None and ref_id in order.refunds
        decided = loads(bytes(refund_order(ctx, data).body))
        refund = None if order is None or ref_id is None or already else order.refunds.get(ref_id)
        txn_date = None if order is None else status_payload(ctx, order)["TXNDATE"]
    if refund is None:  # refused: the seed path's code
        return _refusal(ctx, head, str(decided["RESPCODE"]), REFUND_API, **echo)
    accepted = {**echo, "txnTimestamp": txn_date, "refundId": refund.refund_id, "refundAmount": refund.amount}
    return _answer(ctx, head, SDK_PENDING, "601", _message("601", REFUND_API), **accepted)


# -- /v2/refund/status -------------------------------------------------------------------------


def _when(refund: PgRefund) -> str:
    return refund.at.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S.%f")


def _refund_status(ctx: SimContext, head: Mapping[str, Any], body: dict[str, Any]) -> Response:
    order_id, ref_id = _text(body, "orderId"), _text(body, "refId")
    state = ctx.state
    with state.lock:
        order = find_order(state, order_id or "")
        refund = None if order is None else order.refunds.get(ref_id or "")
        if order is None or refund is None or _text(body, "mid") != ctx.credentials.mid:
            return _refusal(ctx, head, "631", REFUND_API, orderId=order_id, refId=ref_id)
        fields = _refund_fields(ctx, order, refund)
    status = str(getattr(refund, "status", "TXN_SUCCESS"))
    outcome, code = refund_result(status)
    return _answer(
        ctx,
        head,
        outcome,
        code,
        _message(code, REFUND_API),
        **fields,
        userCreditInitiateStatus=_USER_CREDIT_STATUS.get(status, SDK_PENDING),
    )


def _refund_fields(ctx: SimContext, order: PgOrder, refund: PgRefund) -> dict[str, Any]:
    seen = status_payload(ctx, order)
    return {
        "orderId": order.order_id,
        "mid": ctx.credentials.mid,
        "refId": refund.ref_id,
        "refundId": refund.refund_id,
        "txnId": order.txn_id,
        "txnAmount": seen["TXNAMOUNT"],
        "refundAmount": refund.amount,
        "totalRefundAmount": order.refunded,
        "txnTimestamp": seen["TXNDATE"],
        "merchantRefundRequestTimestamp": _when(refund),
        "acceptRefundTimestamp": _when(refund),
        "acceptRefundStatus": "SUCCESS",
        "refundDetailInfoList": [
            {
                "refundType": "TO_SOURCE",
                "payMethod": _PAY_METHODS.get(order.payment_mode, order.payment_mode),
                "refundAmount": refund.amount,
            }
        ],
    }


def routes() -> list[Route]:
    return [
        Route(SDK_INITIATE_PATH, pg_api.initiate_transaction, methods=["POST"]),
        Route(SDK_STATUS_PATH, _handler(SDK_STATUS_PATH, TXN_API, _payment_status), methods=["POST"]),
        Route(SDK_REFUND_PATH, _handler(SDK_REFUND_PATH, REFUND_API, _refund_apply), methods=["POST"]),
        Route(
            SDK_REFUND_STATUS_PATH,
            _handler(SDK_REFUND_STATUS_PATH, REFUND_API, _refund_status),
            methods=["POST"],
        ),
    ]
