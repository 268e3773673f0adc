"""Seed 004 (PG Initiate Transaction) and the life of a PG order after it: the checkout's outcome
(driven by the control API), the signed form callback, transaction status, refund and refund
status (the last three as seed 002 gives them).

- `POST /theia/api/v1/initiateTransaction?mid=&orderId=`: `{"head": {"signature"}, "body": {...}}`.
  The signature is checked over the **exact text of the `body` value as sent** (the substring of
  the raw request, not a re-serialization): every sample in the seed signs the serialization of
  `body` and then sends that same serializer's output, so the substring is what was signed for
  Java, Node, PHP, Python (with its `", "` separators) and C# alike. Answers are signed the same
  way: `head.signature` over the exact `body` text of the answer.
- The checkout is completed, failed or left pending with `POST /_sim/pg/checkout/{orderId}`; the
  result is POSTed as a form (`CHECKSUMHASH` over the other fields, Paytm's params checksum) to
  the request's `callbackUrl`.
- Transaction status (`/merchant-status/getTxnStatus`, and the sample's
  `/theia/HANDLER_INTERNAL/getTxnStatus`), refund (`/refund/HANDLER_INTERNAL/REFUND`) and refund
  status (`/refund/HANDLER_INTERNAL/getRefundStatus`) take `JsonData` (query string or form field,
  or a raw JSON body) with the params checksum inside (`CHECKSUMHASH`; the refund table calls it
  `CHECKSUM`, both are accepted). The params checksum is exactly the official `paytmchecksum`
  library's: the values as sent, never stripped.
- A refund succeeds at once unless scripted (`POST /_sim/pg/refunds/{REFID}/script`) or a refund
  fault is armed: then it fails at once, or stays pending (holding its amount against what can
  still be refunded, no money moved) until `POST /_sim/pg/refunds/{REFID}/settle` settles it.
- Not-yet-final orders and pending refunds read `ctx.pg_pending_status` (TXN_PENDING or PENDING).

One order-id namespace per merchant holds PG payments, auto-debit withdrawals and add-money
orders (`state.records["pg"]`); transaction status and refunds serve all three.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paytm_signing import generate_signature, verify_signature
from tijori_local.sim.callbacks import Callback
from tijori_local.sim.codes import message_for
from tijori_local.sim.context import DEFAULT_PG_PENDING_STATUS, PG_PENDING_STATUSES, SimContext
from tijori_local.sim.faults import REFUND_FAULTS, apply_request_fault
from tijori_local.sim.planted_records import planted_pg_status, planted_refund_status
from tijori_local.sim.state import EXTERNAL, SimState
from tijori_local.sim.wire import ZERO, InvalidAmountError, dumps, loads, parse_amount

__all__ = [
    "INITIATE_PATH",
    "ORDERS",
    "PENDING_STATUS",
    "REFUND_FAILURE_CODE",
    "REFUND_PATH",
    "REFUND_PENDING_CODE",
    "REFUND_SCRIPTS",
    "REFUND_STATUS_PATH",
    "REFUND_SUCCESS_CODE",
    "STATUS_PATHS",
    "CheckoutError",
    "PgOrder",
    "PgRefund",
    "RefundRefusedError",
    "RefundScript",
    "accept_refund",
    "complete_checkout",
    "find_refund",
    "initiate_body",
    "install",
    "json_data",
    "member_spans",
    "pg_account",
    "routes",
    "script_refund",
    "settle_refund",
    "signed_envelope",
    "signed_json_data",
    "signed_request",
]

INITIATE_PATH = "/theia/api/v1/initiateTransaction"
STATUS_PATHS = ("/merchant-status/getTxnStatus", "/theia/HANDLER_INTERNAL/getTxnStatus")
REFUND_PATH = "/refund/HANDLER_INTERNAL/REFUND"
REFUND_STATUS_PATH = "/refund/HANDLER_INTERNAL/getRefundStatus"
ORDERS = "pg"
API = "pg"
TXN_API = "pg-txn"
REFUND_API = "pg-refund"
TOKEN_TTL = timedelta(minutes=15)
IST = timezone(timedelta(hours=5, minutes=30))

_ORDER_ID = re.compile(r"^[A-Za-z0-9_\-@.]{1,50}$")
# Seed 004: "Special characters allowed in CustId are @, ! ,_ ,$" (and seed 002's CUST_ID, 50).
_CUST_ID = re.compile(r"^[A-Za-z0-9@!_$]{1,64}$")
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(parse_float=Decimal)
_FORGED_KEY = "F0RGED-KEY-16-by"

OrderKind = Literal["PAYMENT", "WITHDRAW", "ADD_MONEY"]

PENDING_STATUS = DEFAULT_PG_PENDING_STATUS
"""The default pending literal, seed 002's TXN_PENDING (add money: "only three values: TXN_SUCCESS,
TXN_FAILURE, TXN_PENDING"). What a not-yet-final order or refund actually reads — in status
answers, callbacks, stale callbacks and the add-money page alike — is the simulator's setting
`ctx.pg_pending_status` (TXN_PENDING, or PENDING as Paytm's public docs and SDKs spell it)."""

REFUND_SCRIPTS = "pg-refund-scripts"
"""`state.records` key: REFID -> RefundScript, set by the control API before the refund is sent."""
REFUND_SUCCESS_CODE = "10"
REFUND_PENDING_CODE = "601"
REFUND_FAILURE_CODE = "602"
_REFUND_FAULT_OUTCOMES = {"refund_pending": "PENDING", "refund_failure": "FAILURE"}

# The checkout's outcome -> (STATUS, RESPCODE) (Paytm's PG codes; the seeds name none).
_OUTCOMES: dict[str, tuple[str | None, str]] = {
    "SUCCESS": ("TXN_SUCCESS", "01"),
    "FAILURE": ("TXN_FAILURE", "227"),
    "PENDING": (None, "402"),  # STATUS: the pending literal, ctx.pg_pending_status
}
_PAYMENT_MODES = {
    "CC": ("HDFC", "HDFC Bank"),
    "DC": ("HDFC", "HDFC Bank"),
    "NB": ("ICICI", "ICICI Bank"),
    "UPI": ("PPBL", "Paytm Payments Bank"),
    "PPI": ("WALLET", "WALLET"),
}


def pg_account(mid: str) -> str:
    """Where the merchant's PG collections sit (payments and withdrawals, less refunds)."""
    return f"pg:{mid}"


@dataclass
class PgRefund:
    """One refund request accepted for an order (its REFID is taken from then on, whatever its fate).

    `status` is "TXN_SUCCESS" (the money went back), the simulator's pending literal (TXN_PENDING
    or PENDING: the amount is held against what can still be refunded, no money has moved) or
    "TXN_FAILURE" (nothing moved; the amount is refundable again). `refund_id` is Paytm's REFUNDID,
    shown to the merchant only once the refund succeeded ("for every successful refund")."""

    ref_id: str
    refund_id: str
    amount: Decimal
    txn_type: str
    comments: str | None
    at: datetime
    status: str = "TXN_SUCCESS"
    resp_code: str = REFUND_SUCCESS_CODE
    resp_msg: str | None = None
    settled_at: datetime | None = None

    @property
    def is_pending(self) -> bool:
        return self.status in PG_PENDING_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "TXN_SUCCESS"

    @property
    def message(self) -> str:
        return self.resp_msg if self.resp_msg is not None else message_for(self.resp_code, REFUND_API)

    def as_json(self) -> dict[str, Any]:
        return {
            "refId": self.ref_id,
            "refundId": self.refund_id,
            "amount": self.amount,
            "status": self.status,
            "respCode": self.resp_code,
            "at": self.at.isoformat(),
            "settledAt": None if self.settled_at is None else self.settled_at.isoformat(),
        }


@dataclass(frozen=True)
class RefundScript:
    """What the refund with this REFID will do when it is sent: stay PENDING or FAILURE at once."""

    outcome: Literal["PENDING", "FAILURE"]
    code: str | None = None
    message: str | None = None


@dataclass
class PgOrder:
    """One order id of the merchant: a PG payment, an auto-debit withdrawal or an add-money."""

    order_id: str
    kind: OrderKind
    amount: Decimal
    cust_id: str
    callback_url: str | None
    created_at: datetime
    txn_id: str
    currency: str = "INR"
    txn_token: str | None = None
    token_expires: datetime | None = None
    request_body: Any = None
    # CREATED (checkout not done), the pending literal (ctx.pg_pending_status), TXN_SUCCESS, TXN_FAILURE
    status: str = "CREATED"
    resp_code: str = "402"
    resp_msg: str | None = None
    payment_mode: str = ""
    gateway: str = ""
    bank_name: str = ""
    bank_txn_id: str = ""
    txn_date: datetime | None = None
    payer_account: str | None = None  # where the money came from (refunds go back there)
    payee_account: str | None = None  # where it went (pg:<mid>, or the user's wallet for add money)
    refunds: dict[str, PgRefund] = field(default_factory=dict)

    @property
    def captured(self) -> Decimal:
        return self.amount if self.status == "TXN_SUCCESS" else ZERO

    @property
    def is_pending(self) -> bool:
        return self.status in PG_PENDING_STATUSES

    @property
    def refunded(self) -> Decimal:
        """What has really gone back: successful refunds only (REFUNDAMT, TOTALREFUNDAMT)."""
        return sum((r.amount for r in self.refunds.values() if r.succeeded), ZERO)

    @property
    def refund_pending(self) -> Decimal:
        """Held by refunds still pending: not yet refunded, but no longer refundable either."""
        return sum((r.amount for r in self.refunds.values() if r.is_pending), ZERO)

    @property
    def refundable(self) -> Decimal:
        """What a new refund may still take: Paytm never lets pending + done exceed the capture."""
        return self.captured - self.refunded - self.refund_pending

    def as_json(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "kind": self.kind,
            "txnId": self.txn_id,
            "amount": self.amount,
            "status": self.status,
            "respCode": self.resp_code,
            "paymentMode": self.payment_mode,
            "txnToken": self.txn_token,
            "tokenExpires": None if self.token_expires is None else self.token_expires.isoformat(),
            "refunded": self.refunded,
            "refundPending": self.refund_pending,
            "refunds": [r.as_json() for r in self.refunds.values()],
            "createdAt": self.created_at.isoformat(),
        }


def orders(state: SimState) -> dict[str, Any]:
    return state.records.setdefault(ORDERS, {})


def find_order(state: SimState, order_id: str) -> PgOrder | None:
    order = orders(state).get(order_id)
    return order if isinstance(order, PgOrder) else None


def refresh(state: SimState, order: PgOrder) -> None:
    """A checkout never started before its txnToken expired fails (no money moved, no callback)."""
    if (
        order.status == "CREATED"
        and order.token_expires is not None
        and state.clock.now() >= order.token_expires
    ):
        order.status, order.resp_code = "TXN_FAILURE", "141"
        order.resp_msg = None


def install(ctx: SimContext) -> None:
    """Add the PG invariant to the conservation check: per order, refunds done plus refunds pending
    never exceed what was captured, the ledger moved exactly the successful refunds back (a pending
    or failed one moves nothing), and the PG account holds exactly captured minus refunded of the
    orders paid into it."""
    state = ctx.state
    account = pg_account(ctx.credentials.mid)

    def check() -> list[str]:
        problems: list[str] = []
        expected = ZERO
        moved_back: dict[str, Decimal] = {}
        for entry in state.ledger:
            if entry.kind == "pg_refund" and entry.order_id is not None:
                moved_back[entry.order_id] = moved_back.get(entry.order_id, ZERO) + entry.amount
        for order in orders(state).values():
            if not isinstance(order, PgOrder):
                continue
            if order.refunded + order.refund_pending > order.captured:
                problems.append(
                    f"pg order {order.order_id} refunded {order.refunded} + pending "
                    f"{order.refund_pending} > captured {order.captured}"
                )
            if moved_back.get(order.order_id, ZERO) != order.refunded:
                problems.append(
                    f"pg order {order.order_id}: ledger refunded {moved_back.get(order.order_id, ZERO)}"
                    f" != successful refunds {order.refunded}"
                )
            if order.payee_account == account:
                expected += order.captured - order.refunded
        if state.balance(account) != expected:
            problems.append(f"{account} holds {state.balance(account)} != captured - refunded {expected}")
        return problems

    state.invariants.append(check)


# -- wire helpers shared with the auto-debit API ------------------------------------------------


def member_spans(text: str) -> dict[str, tuple[int, int]] | None:
    """The [start, end) of each top-level member value of a JSON object text (None if not one).
    Lets a signature be checked over the exact text of `body` as the client sent it."""
    try:
        i = _WS.match(text, 0).end()  # type: ignore[union-attr]
        if text[i : i + 1] != "{":
            return None
        i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        spans: dict[str, tuple[int, int]] = {}
        if text[i : i + 1] == "}":
            end = i
        else:
            while True:
                if text[i : i + 1] != '"':
                    return None
                key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
                i = _WS.match(text, i).end()  # type: ignore[union-attr]
                if text[i : i + 1] != ":":
                    return None
                i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
                _, value_end = _DECODER.raw_decode(text, i)
                spans[key] = (i, value_end)
                i = _WS.match(text, value_end).end()  # type: ignore[union-attr]
                if text[i : i + 1] == ",":
                    i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
                    continue
                if text[i : i + 1] != "}":
                    return None
                end = i
                break
        if _WS.match(text, end + 1).end() != len(text):  # type: ignore[union-attr]
            return None
        return spans
    except ValueError:
        return None


def split_signed(raw: bytes) -> tuple[dict[str, Any], str] | None:
    """`{"head":..., "body":...}` -> (parsed whole, exact text of `body`), or None if malformed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    spans = member_spans(text)
    if spans is None or "body" not in spans:
        return None
    outer = loads(text)
    if not isinstance(outer, dict) or not isinstance(outer.get("body"), dict):
        return None
    start, end = spans["body"]
    return outer, text[start:end]


def request_signature(outer: Mapping[str, Any]) -> str | None:
    head = outer.get("head")
    if not isinstance(head, dict):
        return None
    signature = head.get("signature")
    return signature if isinstance(signature, str) else None


def signed_envelope(ctx: SimContext, head: dict[str, Any], body: dict[str, Any]) -> Response:
    """`{"head": {..., "signature"}, "body": {...}}` with the signature over the exact body text."""
    body_bytes = dumps(body)
    signed_head = {**head, "signature": generate_signature(body_bytes, ctx.pg_key)}
    content = b'{"head":' + dumps(signed_head) + b',"body":' + body_bytes + b"}"
    return Response(content, status_code=200, media_type="application/json")


def response_timestamp(ctx: SimContext) -> str:
    return str(int(ctx.clock.timestamp() * 1000))


JSON_DATA = "JsonData"
_JSON_DATA_FORM = re.compile(r"^\s*JsonData(?:\s|\+|%20)*=")


def _json_data_value(params: Mapping[str, Any]) -> Any:
    """The `JsonData` entry of a query or form, its name read trimmed: the directPay sample writes
    `?JsonData ={...}`, with a space before the `=`."""
    if JSON_DATA in params:
        return params[JSON_DATA]
    return next((value for name, value in params.items() if name.strip() == JSON_DATA), None)


def json_data_text(query: Mapping[str, str], content_type: str, raw: bytes) -> str | None:
    """The `JsonData` text of a request, wherever seed 002 puts it: the query string (the
    getTxnStatus and directPay samples, `?JsonData={...}`, on any method), a form field (the
    withdraw curl's `--data-urlencode 'JsonData=...'`, the tables' "passed as JSON string in
    JsonData parameter name"), or the raw JSON body (kept for clients that post the JSON itself).
    A form body is recognised by its content type or, without one, by starting with `JsonData=`."""
    text = _json_data_value(query)
    if text is not None:
        return str(text)
    body = raw.decode("utf-8", "replace")
    if not body.strip():
        return None
    looks_like_form = _JSON_DATA_FORM.match(body) is not None
    if "application/x-www-form-urlencoded" in content_type.lower() or looks_like_form:
        values = _json_data_value(parse_qs(body, keep_blank_values=True))
        if values:
            return str(values[0])
        if looks_like_form:
            return None
    return body


async def json_data(request: Request) -> dict[str, Any] | None:
    """Seed 002's `JsonData` parameter parsed (see `json_data_text`); None if absent or not an object."""
    text = json_data_text(request.query_params, request.headers.get("content-type", ""), await request.body())
    if text is None:
        return None
    try:
        data = loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def params_of(data: Mapping[str, Any], *drop: str) -> dict[str, str | None]:
    """JsonData (or a form) as the string params Paytm's checksum signs, minus the `drop` names.

    Strings are taken **exactly as sent** — the official `paytmchecksum` library signs the values
    as they are (no stripping), so a value with leading or trailing spaces signs with its spaces.
    `None` stays None (signed, like the text "null" in any case, as the empty string: the library's
    rule, applied by `paytm_signing`). The library takes only strings; JSON values that are not
    strings are signed as their JSON text (a number as written, `true`/`false`, a compact object)."""
    params: dict[str, str | None] = {}
    for name, value in data.items():
        if name in drop:
            continue
        if value is None or isinstance(value, str):
            params[name] = value
        elif isinstance(value, dict | list):
            params[name] = dumps(value).decode()
        elif isinstance(value, bool):
            params[name] = "true" if value else "false"
        else:
            params[name] = str(value)
    return params


def params_checksum_ok(ctx: SimContext, data: Mapping[str, Any], *names: str) -> bool:
    """Paytm's params checksum (values in key order, joined by "|", exactly as the official library
    builds the string) in one of `names`; the checksum fields themselves are not signed."""
    signature = next((data[n] for n in names if isinstance(data.get(n), str)), None)
    if signature is None:
        return False
    return verify_signature(params_of(data, *names), ctx.pg_key, signature.strip())


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = str(value).strip()
    return text or None


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


def _txn_date(order: PgOrder) -> str:
    when = order.txn_date or order.created_at
    return when.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S.%f")


def txn_message(order: PgOrder) -> str:
    return order.resp_msg if order.resp_msg is not None else message_for(order.resp_code, TXN_API)


# -- initiateTransaction ------------------------------------------------------------------------


class _RefusedError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _initiate_answer(ctx: SimContext, head: Mapping[str, Any], code: str, **extra: Any) -> Response:
    status = "S" if code in ("0000", "0002") else "F"
    body: dict[str, Any] = {
        "resultInfo": {"resultStatus": status, "resultCode": code, "resultMsg": message_for(code, API)},
        **extra,
    }
    if status == "F":
        body["extraParamsMap"] = None
    reply_head = {
        "responseTimestamp": response_timestamp(ctx),
        "version": "v1",
        "clientId": head.get("clientId") or "C11",
    }
    return signed_envelope(ctx, reply_head, body)


def _has_pipe(value: Any) -> bool:
    if isinstance(value, str):
        return "|" in value
    if isinstance(value, dict):
        return any(_has_pipe(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_pipe(v) for v in value)
    return False


def _new_token(ctx: SimContext) -> str:
    return secrets.token_hex(16) + response_timestamp(ctx)


def _validate_initiate(ctx: SimContext, request: Request, body: dict[str, Any]) -> tuple[str, Decimal, str]:
    """The seed's checks after the checksum, in this order; returns (orderId, amount, custId)."""
    amount_obj = body.get("txnAmount")
    user_info = body.get("userInfo")
    query_mid, query_order = request.query_params.get("mid"), request.query_params.get("orderId")
    mandatory_missing = (
        not query_mid
        or not query_order
        or _text(body, "requestType") is None
        or _text(body, "mid") is None
        or _text(body, "orderId") is None
        or (_text(body, "websiteName") is None and _text(body, "callbackUrl") is None)
        or not isinstance(amount_obj, dict)
        or amount_obj.get("value") in (None, "")
        or _text(amount_obj, "currency") is None
        or not isinstance(user_info, dict)
        or _text(user_info, "custId") is None
    )
    if mandatory_missing:
        raise _RefusedError("1007")
    assert isinstance(amount_obj, dict)
    assert isinstance(user_info, dict)
    mid, order_id = str(_text(body, "mid")), str(_text(body, "orderId"))
    if query_mid != mid:
        raise _RefusedError("2013")
    if query_order != order_id:
        raise _RefusedError("2014")
    if _has_pipe(body):
        raise _RefusedError("1008")
    if mid != ctx.credentials.mid or _text(body, "requestType") != "Payment":
        raise _RefusedError("1001")
    if not _ORDER_ID.match(order_id):
        raise _RefusedError("1001")
    try:
        amount = parse_amount(amount_obj.get("value"))
    except InvalidAmountError:
        raise _RefusedError("2007") from None
    if _text(amount_obj, "currency") != "INR":
        raise _RefusedError("1001")
    cust_id = str(_text(user_info, "custId"))
    if not _CUST_ID.match(cust_id):
        raise _RefusedError("1001")
    callback_url = _text(body, "callbackUrl")
    if callback_url is not None and not callback_url.startswith(("http://", "https://")):
        raise _RefusedError("1001")
    return order_id, amount, cust_id


async def initiate_transaction(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    raw = await request.body()
    split = split_signed(raw)
    order_hint = request.query_params.get("orderId")

    async def handle() -> Response:
        if split is None:
            return _initiate_answer(ctx, {}, "1001")
        outer, body_text = split
        head = outer.get("head") if isinstance(outer.get("head"), dict) else {}
        assert isinstance(head, dict)
        if not verify_signature(body_text, ctx.pg_key, request_signature(outer)):
            return _initiate_answer(ctx, head, "2005")
        body: dict[str, Any] = outer["body"]
        state = ctx.state
        try:
            order_id, amount, cust_id = _validate_initiate(ctx, request, body)
            authenticated = False
            sso_token = _text(body, "paytmSsoToken") or _text(body, "ssoToken")
            if sso_token is not None:
                from tijori_local.sim.autodebit_api import user_for_token

                if user_for_token(ctx, sso_token) is None:
                    raise _RefusedError("2004")
                authenticated = True
            with state.lock:
                existing = find_order(state, order_id)
                if existing is not None:
                    if existing.request_body != body:
                        raise _RefusedError("2023")
                    expires = existing.token_expires
                    if expires is not None and ctx.clock.now() >= expires:
                        # The repeat would hand back a dead txnToken: the session is over.
                        refresh(state, existing)
                        raise _RefusedError("1006")
                    return _initiate_answer(
                        ctx,
                        head,
                        "0002",
                        txnToken=existing.txn_token,
                        isPromoCodeValid=False,
                        authenticated=authenticated,
                    )
                now = ctx.clock.now()
                order = PgOrder(
                    order_id=order_id,
                    kind="PAYMENT",
                    amount=amount,
                    cust_id=cust_id,
                    callback_url=_text(body, "callbackUrl"),
                    created_at=now,
                    txn_id=state.next_txn_id(),
                    txn_token=_new_token(ctx),
                    token_expires=now + TOKEN_TTL,
                    request_body=body,
                )
                orders(state)[order_id] = order
        except _RefusedError as refused:
            return _initiate_answer(ctx, head, refused.code)
        return _initiate_answer(
            ctx, head, "0000", txnToken=order.txn_token, isPromoCodeValid=False, authenticated=authenticated
        )

    # The request's own path: the PG SDK's `/order/initiate` is served by this handler too.
    ctx.requests.record(request.url.path, order_hint)
    return await apply_request_fault(ctx.faults, request.url.path, order_hint, handle)


# -- the checkout's outcome and the PG callback -------------------------------------------------


class CheckoutError(Exception):
    """The control API cannot do that to this order (HTTP 404 / 409 with this message)."""

    def __init__(self, message: str, status_code: int = 409) -> None:
        super().__init__(message)
        self.status_code = status_code


def callback_fields(ctx: SimContext, order: PgOrder, *, status: str | None = None) -> dict[str, str]:
    """The PG callback's form fields (Paytm's names), without CHECKSUMHASH."""
    code = order.resp_code if status is None else _OUTCOMES["PENDING"][1]
    message = txn_message(order) if status is None else message_for(code, TXN_API)
    return {
        "MID": ctx.credentials.mid,
        "ORDERID": order.order_id,
        "TXNID": order.txn_id,
        "TXNAMOUNT": _money(order.amount),
        "CURRENCY": order.currency,
        "STATUS": status or order.status,
        "RESPCODE": code,
        "RESPMSG": message,
        "BANKTXNID": order.bank_txn_id,
        "TXNDATE": _txn_date(order),
        "GATEWAYNAME": order.gateway,
        "BANKNAME": order.bank_name,
        "PAYMENTMODE": order.payment_mode,
    }


def _form_callback(url: str, fields: dict[str, str], key: str) -> Callback:
    signed = {**fields, "CHECKSUMHASH": generate_signature(fields, key)}
    return Callback(
        url, urlencode(signed).encode("ascii"), {"Content-Type": "application/x-www-form-urlencoded"}
    )


def send_callback(ctx: SimContext, order: PgOrder, path: str) -> None:
    if order.callback_url is None:
        return
    url = order.callback_url
    fields = callback_fields(ctx, order)
    callback = _form_callback(url, fields, ctx.pg_key)
    callback.stale = lambda: _form_callback(
        url, callback_fields(ctx, order, status=ctx.pg_pending_status), ctx.pg_key
    )

    def forged() -> Callback:
        claimed = {**fields, "STATUS": "TXN_SUCCESS", "RESPCODE": "01", "RESPMSG": message_for("01", TXN_API)}
        return _form_callback(url, claimed, _FORGED_KEY)

    callback.forged = forged
    ctx.callbacks.dispatch(callback, path=path, order_id=order.order_id)


def complete_checkout(ctx: SimContext, order_id: str, body: Mapping[str, Any]) -> PgOrder:
    """Control API: the customer's checkout (PG payment or add money) ends SUCCESS, FAILURE or
    PENDING; a PENDING one can later be settled SUCCESS or FAILURE. Posts the callback."""
    outcome = str(body.get("outcome", "")).upper()
    if outcome not in _OUTCOMES:
        raise CheckoutError(f"outcome must be one of {sorted(_OUTCOMES)}", 400)
    state = ctx.state
    with state.lock:
        order = find_order(state, order_id)
        if order is None or order.kind == "WITHDRAW":
            raise CheckoutError(f"no PG or add-money order {order_id!r}", 404)
        now = ctx.clock.now()
        if order.status == "CREATED" and order.token_expires is not None and now >= order.token_expires:
            refresh(state, order)
            raise CheckoutError("1006 Your Session has expired (txnToken older than 15 minutes)")
        if order.status == "CREATED":
            pass
        elif order.is_pending:
            if outcome == "PENDING":
                raise CheckoutError("the order is already PENDING")
        else:
            raise CheckoutError(f"the order is already final: {order.status}")
        mode = str(body.get("payment_mode") or order.payment_mode or "CC").upper()
        if mode not in _PAYMENT_MODES or (mode == "PPI" and order.kind == "PAYMENT"):
            raise CheckoutError(f"payment_mode must be one of {sorted(set(_PAYMENT_MODES) - {'PPI'})}", 400)
        final_status, code = _OUTCOMES[outcome]
        order.payment_mode = mode
        order.gateway, order.bank_name = _PAYMENT_MODES[mode]
        order.txn_date = now
        order.resp_code = str(body.get("resp_code") or code)
        order.resp_msg = None if body.get("resp_msg") is None else str(body["resp_msg"])
        order.status = final_status or ctx.pg_pending_status
        if outcome == "SUCCESS":
            order.bank_txn_id = state.next_txn_id()
            target = order.payee_account or pg_account(ctx.credentials.mid)
            order.payee_account = target
            order.payer_account = EXTERNAL
            kind = "add_money" if order.kind == "ADD_MONEY" else "pg_capture"
            state.move(EXTERNAL, target, order.amount, order_id=order.order_id, kind=kind)
    path = INITIATE_PATH if order.kind == "PAYMENT" else "/theia/processTransaction"
    send_callback(ctx, order, path)
    return order


# -- transaction status -------------------------------------------------------------------------


def _txn_reply(payload: dict[str, Any]) -> Response:
    return Response(dumps(payload), status_code=200, media_type="application/json")


def _txn_refusal(code: str, order_id: str | None, extra: Mapping[str, Any] | None = None) -> Response:
    return _txn_reply(
        {
            "ORDERID": order_id,
            "STATUS": "TXN_FAILURE",
            "RESPCODE": code,
            "RESPMSG": message_for(code, TXN_API),
            **(extra or {}),
        }
    )


def status_payload(ctx: SimContext, order: PgOrder) -> dict[str, Any]:
    status = order.status if order.status != "CREATED" else ctx.pg_pending_status
    return {
        "TXNID": order.txn_id,
        "BANKTXNID": order.bank_txn_id,
        "ORDERID": order.order_id,
        "TXNAMOUNT": _money(order.amount),
        "STATUS": status,
        "TXNTYPE": "SALE",
        "GATEWAYNAME": order.gateway,
        "RESPCODE": order.resp_code,
        "RESPMSG": txn_message(order),
        "BANKNAME": order.bank_name,
        "MID": ctx.credentials.mid,
        "PAYMENTMODE": order.payment_mode,
        "REFUNDAMT": _money(order.refunded),
        "TXNDATE": _txn_date(order),
    }


async def transaction_status(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    data = await json_data(request)
    order_hint = _text(data, "ORDERID") if data is not None else None

    async def handle() -> Response:
        if data is None or order_hint is None:
            return _txn_refusal("334", order_hint)
        if not params_checksum_ok(ctx, data, "CHECKSUMHASH"):
            return _txn_refusal("330", order_hint)
        if _text(data, "MID") != ctx.credentials.mid:
            return _txn_refusal("305", order_hint)
        state = ctx.state
        with state.lock:
            # TXN_TYPE (optional, seed 002 names WITHDRAW) is signed but picks nothing: one order id
            # is one transaction in the merchant's namespace, whatever kind it is.
            order = find_order(state, order_hint)
            if order is None:
                return _txn_refusal("334", order_hint)
            refresh(state, order)
            return _txn_reply(planted_pg_status(state, status_payload(ctx, order), ctx.pg_pending_status))

    ctx.requests.record(request.url.path, order_hint)
    return await apply_request_fault(ctx.faults, request.url.path, order_hint, handle)


# -- refund and refund status -------------------------------------------------------------------


class RefundRefusedError(Exception):
    """A refund request Paytm refuses outright (RESPCODE `code`, TXN_FAILURE, nothing recorded)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def refund_scripts(state: SimState) -> dict[str, Any]:
    return state.records.setdefault(REFUND_SCRIPTS, {})


def find_refund(state: SimState, ref_id: str) -> tuple[PgOrder, PgRefund] | None:
    """The order and refund a REFID belongs to (REFIDs are unique across the merchant's orders)."""
    for order in orders(state).values():
        if isinstance(order, PgOrder) and ref_id in order.refunds:
            return order, order.refunds[ref_id]
    return None


def accept_refund(
    ctx: SimContext,
    order: PgOrder,
    ref_id: str,
    amount_value: Any,
    txn_type: str,
    comments: str | None,
    *,
    path: str = REFUND_PATH,
) -> PgRefund:
    """Take a refund request for `order` (the caller holds `state.lock` and has checked the MID,
    the order and its TXNID): 617 REFID already used, 600 order not refundable, 619 amount invalid
    or above what is still refundable (captured - refunded - pending) raise `RefundRefusedError`.

    Otherwise the refund is recorded and its outcome decided, first match wins: a script for this
    REFID (control API), a `refund_pending` / `refund_failure` fault armed for `path` (and order),
    else success. Money moves only on success (`payee → payer`, ledger kind `pg_refund`); a pending
    refund holds its amount against later refunds until `settle_refund` settles it; a failed one
    moves nothing and frees its amount. The REFID stays taken in every case."""
    state = ctx.state
    if find_refund(state, ref_id) is not None:
        raise RefundRefusedError("617")
    if order.status != "TXN_SUCCESS" or order.kind == "ADD_MONEY" or order.payer_account is None:
        raise RefundRefusedError("600")
    try:
        amount = parse_amount(amount_value)
    except InvalidAmountError:
        raise RefundRefusedError("619") from None
    if amount > order.refundable:
        raise RefundRefusedError("619")
    assert order.payee_account is not None
    refund = PgRefund(ref_id, state.next_txn_id(), amount, txn_type, comments, ctx.clock.now())
    script = refund_scripts(state).pop(ref_id, None)
    outcome: str
    if isinstance(script, RefundScript):
        outcome, code, message = script.outcome, script.code, script.message
    else:
        fault = ctx.faults.take(REFUND_FAULTS, path, order.order_id)
        outcome = "SUCCESS" if fault is None else _REFUND_FAULT_OUTCOMES[fault.kind]
        code = message = None
    order.refunds[ref_id] = refund
    if outcome == "PENDING":
        refund.status, refund.resp_code = ctx.pg_pending_status, REFUND_PENDING_CODE
    elif outcome == "FAILURE":
        _fail_refund(ctx, refund, code, message)
    else:
        _succeed_refund(ctx, order, refund)
    return refund


def _succeed_refund(ctx: SimContext, order: PgOrder, refund: PgRefund) -> None:
    assert order.payee_account is not None
    assert order.payer_account is not None
    ctx.state.move(
        order.payee_account, order.payer_account, refund.amount, order_id=order.order_id, kind="pg_refund"
    )
    refund.status, refund.resp_code, refund.resp_msg = "TXN_SUCCESS", REFUND_SUCCESS_CODE, None
    refund.settled_at = ctx.clock.now()


def _fail_refund(ctx: SimContext, refund: PgRefund, code: str | None, message: str | None) -> None:
    refund.status, refund.resp_code, refund.resp_msg = "TXN_FAILURE", code or REFUND_FAILURE_CODE, message
    refund.settled_at = ctx.clock.now()


def script_refund(ctx: SimContext, ref_id: str, body: Mapping[str, Any]) -> RefundScript:
    """Control API: the refund that will be sent with this REFID stays PENDING (601) until settled,
    or fails at once (FAILURE, `code` default 602, optional `message`). 409 if the REFID is taken."""
    outcome = str(body.get("outcome", "")).upper()
    if outcome not in ("PENDING", "FAILURE"):
        raise CheckoutError("outcome must be PENDING or FAILURE (a refund succeeds unless scripted)", 400)
    for name in ("code", "message"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise CheckoutError(f"{name} must be a string", 400)
    if outcome == "PENDING" and (body.get("code") is not None or body.get("message") is not None):
        raise CheckoutError(
            f"a PENDING refund always reads {REFUND_PENDING_CODE}; code/message are for FAILURE", 400
        )
    script = RefundScript(
        "PENDING" if outcome == "PENDING" else "FAILURE", body.get("code"), body.get("message")
    )
    with ctx.state.lock:
        if find_refund(ctx.state, ref_id) is not None:
            raise CheckoutError(f"REFID {ref_id!r} is already used by a refund")
        refund_scripts(ctx.state)[ref_id] = script
    return script


def settle_refund(ctx: SimContext, ref_id: str, body: Mapping[str, Any]) -> tuple[PgOrder, PgRefund]:
    """Control API: a pending refund ends SUCCESS (the money goes back now, REFUNDID shown) or
    FAILURE (`code` default 602; nothing moves and the amount is refundable again).
    404 unknown REFID, 409 not pending."""
    outcome = str(body.get("outcome", "")).upper()
    if outcome not in ("SUCCESS", "FAILURE"):
        raise CheckoutError("outcome must be SUCCESS or FAILURE", 400)
    for name in ("code", "message"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise CheckoutError(f"{name} must be a string", 400)
    if outcome == "SUCCESS" and (body.get("code") is not None or body.get("message") is not None):
        raise CheckoutError(
            f"a successful refund always reads {REFUND_SUCCESS_CODE}; code/message are for FAILURE", 400
        )
    with ctx.state.lock:
        found = find_refund(ctx.state, ref_id)
        if found is None:
            raise CheckoutError(f"no refund with REFID {ref_id!r}", 404)
        order, refund = found
        if not refund.is_pending:
            raise CheckoutError(f"the refund is already final: {refund.status}")
        if outcome == "SUCCESS":
            _succeed_refund(ctx, order, refund)
        else:
            _fail_refund(ctx, refund, body.get("code"), body.get("message"))
    return order, refund


def _refund_reply(
    code: str,
    data: Mapping[str, Any],
    order: PgOrder | None,
    *,
    status: str | None = None,
    message: str | None = None,
    **extra: Any,
) -> Response:
    payload: dict[str, Any] = {
        "MID": _text(data, "MID"),
        "TXNID": order.txn_id if order else _text(data, "TXNID"),
        "ORDERID": _text(data, "ORDERID"),
        "TXNAMOUNT": _money(order.amount) if order else None,
        "REFUNDAMOUNT": _text(data, "REFUNDAMOUNT"),
        "TXNDATE": _txn_date(order) if order else None,
        "RESPCODE": code,
        "RESPMSG": message if message is not None else message_for(code, REFUND_API),
        "STATUS": status or ("TXN_SUCCESS" if code == REFUND_SUCCESS_CODE else "TXN_FAILURE"),
        "REFID": _text(data, "REFID"),
        **extra,
    }
    return _txn_reply(payload)


def _refund(ctx: SimContext, data: Mapping[str, Any]) -> Response:
    if not params_checksum_ok(ctx, data, "CHECKSUM", "CHECKSUMHASH"):
        return _refund_reply("330", data, None)
    return refund_order(ctx, data)


def refund_order(ctx: SimContext, data: Mapping[str, Any]) -> Response:
    """A refund request whose checksum is already verified (JsonData names), decided and done;
    shared with the PG SDK's `/refund/apply` (pg_sdk_api), which checks its own signature."""
    order_id, ref_id, txn_id = _text(data, "ORDERID"), _text(data, "REFID"), _text(data, "TXNID")
    txn_type = (_text(data, "TXNTYPE") or "").upper()
    if (
        _text(data, "MID") != ctx.credentials.mid
        or not ref_id
        or not txn_id
        or txn_type not in ("REFUND", "CANCEL")
    ):
        return _refund_reply("600", data, None)
    state = ctx.state
    with state.lock:
        order = find_order(state, order_id or "")
        if order is None:
            return _refund_reply("334", data, None)
        refresh(state, order)
        if order.txn_id != txn_id:
            return _refund_reply("627", data, order)
        try:
            refund = accept_refund(
                ctx, order, ref_id, data.get("REFUNDAMOUNT"), txn_type, _text(data, "COMMENTS")
            )
        except RefundRefusedError as refused:
            return _refund_reply(refused.code, data, order)
    if refund.succeeded:
        return _refund_reply(refund.resp_code, data, order, REFUNDID=refund.refund_id)
    # Pending (601, the pending literal) or failed at once (602 or the scripted code): no REFUNDID,
    # the seed gives one "for every successful refund".
    return _refund_reply(refund.resp_code, data, order, status=refund.status, message=refund.message)


async def refund(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    data = await json_data(request)
    order_hint = _text(data, "ORDERID") if data is not None else None

    async def handle() -> Response:
        if data is None:
            return _refund_reply("600", {}, None)
        return _refund(ctx, data)

    ctx.requests.record(REFUND_PATH, order_hint)
    return await apply_request_fault(ctx.faults, REFUND_PATH, order_hint, handle)


def refund_status_payload(ctx: SimContext, order: PgOrder, found: PgRefund) -> dict[str, Any]:
    """The seed's refund status fields for one refund in whatever state it is: STATUS TXN_SUCCESS /
    the pending literal / TXN_FAILURE with RESPCODE 10 / 601 / 602 (or the scripted code);
    REFUNDID only once successful ("" before); TOTALREFUNDAMT counts successful refunds only."""
    return {
        "TXNID": order.txn_id,
        "BANKTXNID": order.bank_txn_id,
        "ORDERID": order.order_id,
        "TXNAMOUNT": _money(order.amount),
        "STATUS": found.status,
        "GATEWAY": order.gateway,
        "RESPCODE": found.resp_code,
        "RESPMSG": found.message,
        "MID": ctx.credentials.mid,
        "PAYMENTMODE": order.payment_mode,
        "REFUNDAMOUNT": _money(found.amount),
        "TOTALREFUNDAMT": _money(order.refunded),
        "TXNDATE": _txn_date(order),
        "REFUNDDATE": found.at.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "REFUNDTYPE": found.txn_type,
        "REFID": found.ref_id,
        "REFUNDID": found.refund_id if found.succeeded else "",
    }


async def refund_status(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    data = await json_data(request)
    order_hint = _text(data, "ORDERID") if data is not None else None

    async def handle() -> Response:
        if data is None:
            return _refund_reply("631", {}, None)
        if not params_checksum_ok(ctx, data, "CHECKSUMHASH", "CHECKSUM"):
            return _refund_reply("330", data, None)
        state = ctx.state
        with state.lock:
            order = find_order(state, order_hint or "")
            ref_id = _text(data, "REFID") or ""
            found = None if order is None else order.refunds.get(ref_id)
            if order is None or found is None or _text(data, "MID") != ctx.credentials.mid:
                return _refund_reply("631", data, None)
            payload = planted_refund_status(
                state, refund_status_payload(ctx, order, found), ctx.pg_pending_status
            )
        return _txn_reply(payload)

    ctx.requests.record(REFUND_STATUS_PATH, order_hint)
    return await apply_request_fault(ctx.faults, REFUND_STATUS_PATH, order_hint, handle)


def routes() -> list[Route]:
    return [
        Route(INITIATE_PATH, initiate_transaction, methods=["POST"]),
        *(Route(path, transaction_status, methods=["GET", "POST"]) for path in STATUS_PATHS),
        Route(REFUND_PATH, refund, methods=["GET", "POST"]),
        Route(REFUND_STATUS_PATH, refund_status, methods=["GET", "POST"]),
    ]


# -- request builders (tests, bench, demos: what a merchant sends) -------------------------------


def initiate_body(mid: str, order_id: str, website_name: str = "WEBSTAGING", **fields: Any) -> dict[str, Any]:
    """Seed 004's sample `body`, for this merchant; `fields` override (None removes)."""
    body: dict[str, Any] = {
        "requestType": "Payment",
        "mid": mid,
        "websiteName": website_name,
        "orderId": order_id,
        "txnAmount": {"value": "1.00", "currency": "INR"},
        "userInfo": {"custId": "CUST_001"},
        "callbackUrl": "https://merchant.example/paytm/callback",
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def signed_request(
    body: Mapping[str, Any],
    key: str,
    *,
    signature: str | None = None,
    head: Mapping[str, Any] | None = None,
) -> bytes:
    """`{"body":..., "head": {..., "signature"}}` as the seed's samples build it: sign the body's
    JSON text, then send that same text. `head` adds fields beside the signature (seed 002's check
    balance requires clientId, version, requestTimestamp and channelId there)."""
    body_bytes = dumps(body)
    sig = generate_signature(body_bytes, key) if signature is None else signature
    return b'{"body":' + body_bytes + b',"head":' + dumps({**(head or {}), "signature": sig}) + b"}"


def signed_json_data(data: Mapping[str, Any], key: str, field_name: str = "CHECKSUMHASH") -> str:
    """A `JsonData` value with Paytm's params checksum in `field_name`."""
    checksum = generate_signature(params_of(data), key)
    return dumps({**data, field_name: checksum}).decode()
