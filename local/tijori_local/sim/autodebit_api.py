"""Seed 002: Paytm Auto-Debit — account linking, check balance, add money and withdraw.

- Linking (the seed's OAuth host, served under the same base URL): `POST /signin/otp`,
  `POST /signin/validate/otp` (`Authorization: Basic base64(clientId:clientSecret)`),
  `GET|POST /user/details` (`session_token` header), `DELETE /oauth2/accessToken/{token}`.
  The OTP is 6 random digits, readable as the phone's SMS inbox shows it
  (`GET /_sim/autodebit/sms?phone=`, the latest one sent to that phone) or by its `state`
  (`GET /_sim/autodebit/otp/{state}`); it is valid 10 simulated minutes and once. A phone with no
  user answers responseCode 02 (register) and verifying the OTP creates the user (wallet, no KYC,
  balance 0). Tokens are valid 30 simulated days unless revoked or their sessions are ended
  (`POST /_sim/autodebit/sessions/end`).
- Check balance `POST /paymentservices/pay/consult`: every field of the seed's request `head`
  table (clientId, version, requestTimestamp, channelId, signature) is required (CS_0001),
  `head.signature` over the exact `body` text (as in seed 004), answer signed the same way;
  `deficitAmount` = amount - wallet balance.
- Add money `POST /theia/processTransaction` (form, `REQUEST_TYPE=ADD_MONEY`, params checksum in
  `CHECKSUMHASH`): opens an add-money checkout (HTML page); the customer's payment is driven by
  `POST /_sim/pg/checkout/{ORDER_ID}` and lands in the user's wallet as money from outside.
- Withdraw `/order/directPay` (and the path of the seed's withdraw curl,
  `/pgplus-paymentservices/HANDLER_FF/withdrawScw`) (`JsonData` in the query string, a form field
  or the raw body; params checksum in `CheckSum`/`checkSum`; `MID` or the curl's `MId`, `CustId` or
  the curl's `CustomerId`): debits the wallet into the merchant's PG account; the answer carries
  `CheckSum` over its other fields, each as its JSON text (`answer_checksum_params`).

Params checksums are checked over the values exactly as sent (the official library's string);
business checks read the values trimmed.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paytm_signing import generate_signature, verify_signature
from tijori_local.sim.codes import message_for
from tijori_local.sim.context import SimContext
from tijori_local.sim.faults import apply_request_fault
from tijori_local.sim.pg_api import (
    TOKEN_TTL,
    PgOrder,
    find_order,
    json_data,
    orders,
    params_checksum_ok,
    pg_account,
    request_signature,
    response_timestamp,
    signed_envelope,
    signed_request,
    split_signed,
)
from tijori_local.sim.state import User
from tijori_local.sim.wire import ZERO, InvalidAmountError, dumps, json_number, loads, parse_amount

__all__ = [
    "ADD_MONEY_PATH",
    "CONSULT_PATH",
    "CONSULT_SAMPLE_HEAD",
    "DIRECT_PAY_PATH",
    "SEND_OTP_PATH",
    "USER_DETAILS_PATH",
    "VERIFY_OTP_PATH",
    "WITHDRAW_SCW_PATH",
    "answer_checksum_params",
    "end_sessions",
    "is_phone",
    "issue_token",
    "latest_otp_sent_to",
    "otp_for",
    "routes",
    "signed_consult_request",
    "user_for_token",
    "withdraw_ledger",
    "withdraw_params",
]

SEND_OTP_PATH = "/signin/otp"
VERIFY_OTP_PATH = "/signin/validate/otp"
USER_DETAILS_PATH = "/user/details"
REVOKE_PATH = "/oauth2/accessToken/{token}"
CONSULT_PATH = "/paymentservices/pay/consult"
ADD_MONEY_PATH = "/theia/processTransaction"
DIRECT_PAY_PATH = "/order/directPay"
WITHDRAW_SCW_PATH = "/pgplus-paymentservices/HANDLER_FF/withdrawScw"
"""The URL of seed 002's withdraw curl (`curl -g ".../HANDLER_FF/withdrawScw" --data-urlencode
'JsonData=...'`): the same withdraw as directPay."""

OTPS = "autodebit-otp"
TOKENS = "autodebit-tokens"
OAUTH_API = "oauth"
CONSULT_API = "consult"
TXN_API = "pg-txn"
OTP_TTL = timedelta(minutes=10)
ACCESS_TOKEN_TTL = timedelta(days=30)
_PHONE = re.compile(r"^[5-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_ORDER_ID = re.compile(r"^[A-Za-z0-9_\-@]{1,64}$")
# directPay CustId "String,32 char"; add money's CUST_ID (50) "Special characters e.g @, ! ,_ $ are
# allowed": those four are the only ones taken (seed 004 names the same list as the allowed ones).
_WITHDRAW_CUST_ID = re.compile(r"^[A-Za-z0-9@!_$]{1,32}$")
_ADD_MONEY_CUST_ID = re.compile(r"^[A-Za-z0-9@!_$]{1,50}$")
_CONSULT_HEAD_MANDATORY = ("clientId", "version", "requestTimestamp", "channelId", "signature")
CONSULT_SAMPLE_HEAD = {
    "clientId": "C11",
    "version": "v1",
    "requestTimestamp": "1507207312139",
    "channelId": "WEB",
}
"""The check balance sample's `head` without its signature (what a merchant sends beside it)."""
# The withdraw's names as the table/sample spell them, then as the seed's withdraw curl does.
_SPELLINGS = {"MID": ("MID", "MId"), "CustId": ("CustId", "CustomerId")}
_DIRECT_PAY_MANDATORY = (
    "MID",  # or MId, the name in the seed's withdraw curl
    "ReqType",
    "TxnAmount",
    "AppIP",
    "OrderId",
    "DeviceId",
    "Currency",
    "SSOToken",
    "PaymentMode",
    "CustId",  # or CustomerId, the name in the seed's withdraw curl
    "IndustryType",
    "Channel",
    "AuthMode",
)
_DIRECT_PAY_CHECKSUM = ("CheckSum", "checkSum", "CHECKSUMHASH")
_ADD_MONEY_MANDATORY = (
    "REQUEST_TYPE",
    "MID",
    "ORDER_ID",
    "CUST_ID",
    "TXN_AMOUNT",
    "CHANNEL_ID",
    "INDUSTRY_TYPE_ID",
    "WEBSITE",
    "SSO_TOKEN",
)


@dataclass
class OtpState:
    state: str
    phone: str
    email: str | None
    scope: str
    otp: str
    expires: datetime
    register: bool
    sent_at: datetime
    used: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "phone": self.phone,
            "otp": self.otp,
            "scope": self.scope,
            "sentAt": self.sent_at.isoformat(),
            "expires": self.expires.isoformat(),
            "used": self.used,
        }

    def as_sms(self) -> dict[str, Any]:
        """What the phone shows: the code and when it arrived, nothing of Paytm's `state`."""
        return {"phone": self.phone, "otp": self.otp, "sent_at": self.sent_at.isoformat()}


@dataclass
class AccessToken:
    token: str
    sso_id: str
    scope: str
    expires: datetime
    revoked: bool = False

    @property
    def expires_ms(self) -> int:
        return int(self.expires.timestamp() * 1000)

    def as_json(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "ssoId": self.sso_id,
            "scope": self.scope,
            "expires": self.expires.isoformat(),
            "revoked": self.revoked,
        }


def _json(payload: Any, status_code: int = 200) -> Response:
    return Response(dumps(payload), status_code=status_code, media_type="application/json")


def _oauth_failure(code: str) -> Response:
    return _json({"status": "FAILURE", "responseCode": code, "message": message_for(code, OAUTH_API)})


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        data = loads(await request.body())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = str(value).strip()
    return text or None


def _basic_auth_ok(ctx: SimContext, request: Request) -> bool:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    auto_debit = ctx.credentials.auto_debit
    expected = f"{auto_debit.client_id}:{auto_debit.client_secret.get_secret_value()}"
    return secrets.compare_digest(decoded, expected)


def user_for_token(ctx: SimContext, token: str | None) -> User | None:
    """The user a live (issued, unexpired, unrevoked) access token belongs to."""
    if not token:
        return None
    state = ctx.state
    with state.lock:
        record = state.records.get(TOKENS, {}).get(token)
        if not isinstance(record, AccessToken) or record.revoked or ctx.clock.now() >= record.expires:
            return None
        return state.users.get(record.sso_id)


def issue_token(ctx: SimContext, user: User, scope: str = "wallet") -> AccessToken:
    token = AccessToken(str(uuid.uuid4()), user.sso_id, scope, ctx.clock.now() + ACCESS_TOKEN_TTL)
    with ctx.state.lock:
        ctx.state.records.setdefault(TOKENS, {})[token.token] = token
    return token


def otp_for(ctx: SimContext, state_id: str) -> OtpState | None:
    with ctx.state.lock:
        record = ctx.state.records.get(OTPS, {}).get(state_id)
        return record if isinstance(record, OtpState) else None


def is_phone(text: str) -> bool:
    """A mobile number send-OTP takes (10 digits, the first 5-9: the seed's 5558889990 is one)."""
    return _PHONE.match(text) is not None


def latest_otp_sent_to(ctx: SimContext, phone: str) -> OtpState | None:
    """The last OTP sent to `phone`, used or expired or not: the top of that phone's SMS inbox."""
    with ctx.state.lock:
        # OTP states are kept in the order they were sent.
        for record in reversed(ctx.state.records.get(OTPS, {}).values()):
            if isinstance(record, OtpState) and record.phone == phone:
                return record
    return None


def end_sessions(ctx: SimContext, phone: str) -> tuple[User, int] | None:
    """Every live token of the user with this phone stops working at once, as seed 002 lists it
    ("User changes her password", "signs out from all active sessions"): (the user, how many
    tokens ended), or None when no user has this phone."""
    state = ctx.state
    with state.lock:
        user = state.find_user("phone", phone)
        if user is None:
            return None
        now = ctx.clock.now()
        ended = 0
        for record in state.records.get(TOKENS, {}).values():
            live = isinstance(record, AccessToken) and not record.revoked and now < record.expires
            if live and record.sso_id == user.sso_id:
                record.revoked = True
                ended += 1
        return user, ended


# -- linking ------------------------------------------------------------------------------------


async def send_otp(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    body = await _json_body(request)

    async def handle() -> Response:
        if body is None:
            return _oauth_failure("434")
        if _text(body, "clientId") != ctx.credentials.auto_debit.client_id:
            return _oauth_failure("430")
        scope, response_type = _text(body, "scope"), _text(body, "responseType")
        if scope is None or (response_type or "").lower() != "token":
            return _oauth_failure("434")
        phone, email = _text(body, "phone"), _text(body, "email")
        if phone is None or not _PHONE.match(phone):
            return _oauth_failure("431")
        if email is not None and not _EMAIL.match(email):
            return _oauth_failure("465")
        state = ctx.state
        with state.lock:
            user = state.find_user("phone", phone)
            if user is not None and user.blocked:
                return _oauth_failure("433")
            record = OtpState(
                state=str(uuid.uuid4()),
                phone=phone,
                email=email,
                scope=scope,
                otp=f"{secrets.randbelow(1_000_000):06d}",
                expires=ctx.clock.now() + OTP_TTL,
                register=user is None,
                sent_at=ctx.clock.now(),
            )
            state.records.setdefault(OTPS, {})[record.state] = record
        code = "02" if record.register else "01"
        return _json({"status": "SUCCESS", "responseCode": code, "state": record.state})

    ctx.requests.record(SEND_OTP_PATH, None)
    return await apply_request_fault(ctx.faults, SEND_OTP_PATH, None, handle)


async def verify_otp(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    body = await _json_body(request)

    async def handle() -> Response:
        if not _basic_auth_ok(ctx, request):
            return _oauth_failure("430")
        if body is None or _text(body, "otp") is None or _text(body, "state") is None:
            return _oauth_failure("434")
        state = ctx.state
        with state.lock:
            record = otp_for(ctx, str(_text(body, "state")))
            if record is None or record.used or ctx.clock.now() >= record.expires:
                return _oauth_failure("513")
            if not secrets.compare_digest(str(_text(body, "otp")), record.otp):
                return _oauth_failure("403")
            record.used = True
            user = state.find_user("phone", record.phone)
            if user is None:
                changes: dict[str, Any] = {"phone": record.phone, "kyc": False}
                if record.email:
                    changes["email"] = record.email
                user = state.upsert_user(changes)
            if user.blocked:
                return _oauth_failure("433")
            token = issue_token(ctx, user, record.scope)
        return _json(
            {
                "access_token": token.token,
                "expires": token.expires_ms,
                "scope": token.scope,
                "resourceOwnerId": user.sso_id,
            }
        )

    ctx.requests.record(VERIFY_OTP_PATH, None)
    return await apply_request_fault(ctx.faults, VERIFY_OTP_PATH, None, handle)


async def user_details(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim

    async def handle() -> Response:
        token = request.headers.get("session_token")
        if not token:
            return _oauth_failure("434")
        user = user_for_token(ctx, token)
        if user is None:
            return _oauth_failure("530")
        record = ctx.state.records[TOKENS][token]
        assert isinstance(record, AccessToken)
        return _json(
            {
                "id": user.sso_id,
                "email": user.email,
                "mobile": None if user.phone is None else json_number(Decimal(user.phone)),
                "expires": str(record.expires_ms),
            }
        )

    ctx.requests.record(USER_DETAILS_PATH, None)
    return await apply_request_fault(ctx.faults, USER_DETAILS_PATH, None, handle)


async def revoke(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    token = request.path_params["token"]

    async def handle() -> Response:
        if not _basic_auth_ok(ctx, request):
            return Response(b"", status_code=401)
        with ctx.state.lock:
            record = ctx.state.records.get(TOKENS, {}).get(token)
            if not isinstance(record, AccessToken) or record.revoked:
                return Response(b"", status_code=404)
            record.revoked = True
        return Response(b"", status_code=200)

    # Logged and matched without the token: a path that names a live token is a secret.
    ctx.requests.record("/oauth2/accessToken", None)
    return await apply_request_fault(ctx.faults, "/oauth2/accessToken", None, handle)


# -- check balance ------------------------------------------------------------------------------


def _consult_answer(ctx: SimContext, head: dict[str, Any], code: str, **fields: Any) -> Response:
    body: dict[str, Any] = {
        **fields,
        "resultInfo": {
            "resultStatus": "SUCCESS" if code == "CS_0000" else "FAILURE",
            "resultCode": code,
            "resultMsg": message_for(code, CONSULT_API),
        },
    }
    # The response head table repeats the request's (clientId, version, requestTimestamp,
    # channelId); the samples carry responseTimestamp instead. Both are sent.
    reply_head: dict[str, Any] = {
        "clientId": _text(head, "clientId") or "C11",
        "version": _text(head, "version") or "v1",
    }
    for echoed in ("requestTimestamp", "channelId"):
        if _text(head, echoed) is not None:
            reply_head[echoed] = _text(head, echoed)
    reply_head["responseTimestamp"] = response_timestamp(ctx)
    return signed_envelope(ctx, reply_head, body)


async def consult(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    raw = await request.body()
    split = split_signed(raw)

    async def handle() -> Response:
        if split is None:
            return _consult_answer(ctx, {}, "CS_0001")
        outer, body_text = split
        head = outer.get("head") if isinstance(outer.get("head"), dict) else {}
        assert isinstance(head, dict)
        if any(_text(head, name) is None for name in _CONSULT_HEAD_MANDATORY):
            return _consult_answer(ctx, head, "CS_0001")
        if not verify_signature(body_text, ctx.pg_key, request_signature(outer)):
            return _consult_answer(ctx, head, "GE_1")
        body: dict[str, Any] = outer["body"]
        # `Mid` is M in the body table, yet the seed's sample request sends none: a missing one is
        # taken, a given one (`Mid`, or `mid` as seed 004 spells it) must be this merchant's.
        if any(_text(body, name) not in (None, ctx.credentials.mid) for name in ("Mid", "mid")):
            return _consult_answer(ctx, head, "GE_1043")
        if not ctx.state.merchant_active:
            return _consult_answer(ctx, head, "GE_1035")
        token = _text(body, "userToken")
        if token is None:
            return _consult_answer(ctx, head, "CS_0005")
        try:
            amount = parse_amount(body.get("totalAmount"))
        except InvalidAmountError:
            return _consult_answer(ctx, head, "CS_0004")
        user = user_for_token(ctx, token)
        if user is None:
            return _consult_answer(ctx, head, "CS_0002")
        state = ctx.state
        with state.lock:
            balance = state.balance(user.account) if user.wallet_exists else Decimal("0.00")
            deficit = max(amount - balance, Decimal("0.00"))
            limit = user.limits.max_balance
            can_add = user.wallet_exists and (limit is None or balance + deficit <= limit)
        sufficient = deficit == 0
        add_money = (not sufficient) and can_add
        return _consult_answer(
            ctx,
            head,
            "CS_0000",
            fundsSufficient=sufficient,
            addMoneyAllowed=add_money,
            addMoneyRequired=add_money,
            deficitAmount="0" if sufficient else format(deficit, "f"),
        )

    ctx.requests.record(CONSULT_PATH, None)
    return await apply_request_fault(ctx.faults, CONSULT_PATH, None, handle)


# -- add money ----------------------------------------------------------------------------------


def _hidden_form(title: str, action: str | None, fields: dict[str, str]) -> Response:
    inputs = "\n".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    target = html.escape(action or "")
    submit = "<script>document.forms[0].submit()</script>" if action else ""
    page = (
        f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head><body>"
        f'<form method="post" action="{target}">\n{inputs}\n</form>{submit}</body></html>'
    )
    return Response(page, status_code=200, media_type="text/html")


def _add_money_refusal(ctx: SimContext, params: dict[str, str | None], code: str) -> Response:
    fields = {
        "MID": ctx.credentials.mid,
        "ORDERID": params.get("ORDER_ID") or "",
        "TXNAMOUNT": params.get("TXN_AMOUNT") or "",
        "CURRENCY": "INR",
        "STATUS": "TXN_FAILURE",
        "RESPCODE": code,
        "RESPMSG": message_for(code, TXN_API),
    }
    fields["CHECKSUMHASH"] = generate_signature(fields, ctx.pg_key)
    return _hidden_form("Paytm - transaction failed", params.get("CALLBACK_URL"), fields)


async def process_transaction(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    raw = await request.body()
    # The checksum covers the form's values as posted; the business checks read them trimmed.
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
    params: dict[str, str | None] = {name: value.strip() for name, value in form.items()}
    order_hint = params.get("ORDER_ID")

    async def handle() -> Response:
        if not params_checksum_ok(ctx, form, "CHECKSUMHASH"):
            return _add_money_refusal(ctx, params, "330")
        if any(not params.get(name) for name in _ADD_MONEY_MANDATORY):
            return _add_money_refusal(ctx, params, "1007")
        if params["REQUEST_TYPE"] != "ADD_MONEY":
            return _add_money_refusal(ctx, params, "1001")
        if params["MID"] != ctx.credentials.mid:
            return _add_money_refusal(ctx, params, "305")
        order_id = str(params["ORDER_ID"])
        if not _ORDER_ID.match(order_id) or not _ADD_MONEY_CUST_ID.match(str(params["CUST_ID"])):
            return _add_money_refusal(ctx, params, "1001")
        try:
            amount = parse_amount(params["TXN_AMOUNT"])
        except InvalidAmountError:
            return _add_money_refusal(ctx, params, "2007")
        user = user_for_token(ctx, params["SSO_TOKEN"])
        if user is None or not user.wallet_exists:
            return _add_money_refusal(ctx, params, "2004")
        state = ctx.state
        with state.lock:
            if find_order(state, order_id) is not None:
                return _add_money_refusal(ctx, params, "325")
            now = ctx.clock.now()
            order = PgOrder(
                order_id=order_id,
                kind="ADD_MONEY",
                amount=amount,
                cust_id=str(params["CUST_ID"]),
                callback_url=params.get("CALLBACK_URL") or None,
                created_at=now,
                txn_id=state.next_txn_id(),
                token_expires=now + TOKEN_TTL,
                payee_account=user.account,
            )
            orders(state)[order_id] = order
        return _hidden_form(
            "Paytm - add money (simulated checkout)",
            None,
            {
                "MID": ctx.credentials.mid,
                "ORDERID": order_id,
                "TXNID": order.txn_id,
                "STATUS": ctx.pg_pending_status,
            },
        )

    ctx.requests.record(ADD_MONEY_PATH, order_hint)
    return await apply_request_fault(ctx.faults, ADD_MONEY_PATH, order_hint, handle)


# -- withdraw -----------------------------------------------------------------------------------


def _direct_pay_answer(
    ctx: SimContext, data: dict[str, Any], code: str, order: PgOrder | None = None
) -> Response:
    status = "TXN_SUCCESS" if code == "01" else "TXN_FAILURE"
    answer: dict[str, Any] = {
        "TxnId": json_number(Decimal(order.txn_id)) if order else "",
        "MID": ctx.credentials.mid,
        "OrderId": _text(data, "OrderId") or "",
        "TxnAmount": json_number(order.amount) if order else (_text(data, "TxnAmount") or ""),
        "BankTxnId": order.bank_txn_id if order else "",
        "ResponseCode": code,
        "ResponseMessage": message_for(code, TXN_API),
        "Status": status,
        "PaymentMode": "PPI",
        "BankName": "WALLET",
        "CustId": _spelled(data, "CustId") or "",
        "MBID": str(uuid.uuid5(uuid.NAMESPACE_URL, ctx.credentials.mid)),
    }
    if _text(data, "MercUnqRef") is not None:
        answer["MercUnqRef"] = _text(data, "MercUnqRef")
    answer["CheckSum"] = generate_signature(answer_checksum_params(answer), ctx.pg_key)
    return _json(answer)


def answer_checksum_params(answer: dict[str, Any]) -> dict[str, str]:
    """What the withdraw answer's `CheckSum` signs (Paytm's params checksum): every other top-level
    field, each value as its JSON text in the answer — a string as the string, a number as the
    digits written (`"TxnAmount": 40.25` signs "40.25"). A merchant gets exactly this by parsing the
    raw answer with numbers kept as text (`json.loads(raw, parse_int=str, parse_float=str)`)."""
    return {
        name: value.text() if isinstance(value, json_number) else str(value)
        for name, value in answer.items()
        if name not in _DIRECT_PAY_CHECKSUM
    }


def _spelled(data: dict[str, Any], name: str) -> str | None:
    """A withdraw field under any of the seed's spellings (`_SPELLINGS`), trimmed; None if absent."""
    return next(
        (value for spelling in _SPELLINGS.get(name, (name,)) if (value := _text(data, spelling)) is not None),
        None,
    )


def _withdraw(ctx: SimContext, data: dict[str, Any]) -> Response:
    if not params_checksum_ok(ctx, data, *_DIRECT_PAY_CHECKSUM):
        return _direct_pay_answer(ctx, data, "330")
    # AppIP and DeviceId must be present; the seed's own curl sends them empty.
    if any(
        data.get(name) is None if name in ("AppIP", "DeviceId") else _spelled(data, name) is None
        for name in _DIRECT_PAY_MANDATORY
    ):
        return _direct_pay_answer(ctx, data, "1007")
    if _spelled(data, "MID") != ctx.credentials.mid:
        return _direct_pay_answer(ctx, data, "305")
    order_id = str(_text(data, "OrderId"))
    if (
        str(_text(data, "ReqType")).upper() not in ("WITHDRAW", "SEAMLESS_SCW")
        or str(_text(data, "PaymentMode")).upper() != "PPI"
        or str(_text(data, "Currency")).upper() != "INR"
        or not _ORDER_ID.match(order_id)
        or not _WITHDRAW_CUST_ID.match(str(_spelled(data, "CustId")))
    ):
        return _direct_pay_answer(ctx, data, "1001")
    try:
        amount = parse_amount(data.get("TxnAmount"))
    except InvalidAmountError:
        return _direct_pay_answer(ctx, data, "2007")
    user = user_for_token(ctx, _text(data, "SSOToken"))
    if user is None:
        return _direct_pay_answer(ctx, data, "2004")
    state = ctx.state
    with state.lock:
        if find_order(state, order_id) is not None:
            return _direct_pay_answer(ctx, data, "325")
        now = ctx.clock.now()
        order = PgOrder(
            order_id=order_id,
            kind="WITHDRAW",
            amount=amount,
            cust_id=str(_spelled(data, "CustId")),
            callback_url=None,
            created_at=now,
            txn_id=state.next_txn_id(),
            payment_mode="PPI",
            gateway="WALLET",
            bank_name="WALLET",
            txn_date=now,
        )
        orders(state)[order_id] = order
        script = state.take_script("withdraw", order_id)
        if script is not None and script.outcome == "FAILURE":
            order.status, order.resp_code = "TXN_FAILURE", script.code or "227"
            return _direct_pay_answer(ctx, data, order.resp_code, order)
        if not user.wallet_exists or state.balance(user.account) < amount:
            order.status, order.resp_code = "TXN_FAILURE", "235"
            return _direct_pay_answer(ctx, data, "235", order)
        order.payer_account = user.account
        order.payee_account = pg_account(ctx.credentials.mid)
        order.bank_txn_id = state.next_txn_id()
        state.move(user.account, order.payee_account, amount, order_id=order_id, kind="withdraw")
        order.status, order.resp_code = "TXN_SUCCESS", "01"
    return _direct_pay_answer(ctx, data, "01", order)


def withdraw_ledger(ctx: SimContext, account: str | None = None) -> dict[str, Any]:
    """What a reconciliation of auto-debit sums, read from the ledger (what really moved): per
    withdraw order, the customer's wallet debited by the withdraw (kind `withdraw`) and credited
    back by its refunds (kind `pg_refund` into a user wallet), in order of the first movement;
    `account` (`user:<ssoId>`) keeps one customer's. Card payments' refunds go to `external` and
    are not counted."""
    per_order: dict[str, dict[str, Any]] = {}
    with ctx.state.lock:
        for entry in ctx.state.ledger:
            if entry.order_id is None:
                continue
            if entry.kind == "withdraw":
                wallet, column = entry.source, "withdrawn"
            elif entry.kind == "pg_refund" and entry.target.startswith("user:"):
                wallet, column = entry.target, "refunded"
            else:
                continue
            if account is not None and wallet != account:
                continue
            row = per_order.setdefault(
                entry.order_id,
                {"orderId": entry.order_id, "account": wallet, "withdrawn": ZERO, "refunded": ZERO},
            )
            row[column] += entry.amount
    rows = [{**row, "net": row["withdrawn"] - row["refunded"]} for row in per_order.values()]
    totals = {column: sum((row[column] for row in rows), ZERO) for column in ("withdrawn", "refunded", "net")}
    return {"orders": rows, "totals": totals}


async def direct_pay(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    data = await json_data(request)
    order_hint = _text(data, "OrderId") if data is not None else None

    async def handle() -> Response:
        if data is None:
            return _direct_pay_answer(ctx, {}, "1007")
        return _withdraw(ctx, data)

    ctx.requests.record(request.url.path, order_hint)
    return await apply_request_fault(ctx.faults, request.url.path, order_hint, handle)


def withdraw_params(
    mid: str, sso_token: str, order_id: str, amount: str = "1.00", **fields: Any
) -> dict[str, Any]:
    """The withdraw table's fields with the seed sample's values, for this merchant and customer;
    `fields` override (None removes one). Sign with `pg_api.signed_json_data(..., "CheckSum")`."""
    params: dict[str, Any] = {
        "OrderId": order_id,
        "ReqType": "WITHDRAW",
        "MID": mid,
        "AppIP": "127.0.0.1",
        "TxnAmount": amount,
        "Currency": "INR",
        "DeviceId": "9999999999",
        "SSOToken": sso_token,
        "PaymentMode": "PPI",
        "CustId": "20235",
        "IndustryType": "Retail",
        "Channel": "WAP",
        "AuthMode": "USRPWD",
        **fields,
    }
    return {name: value for name, value in params.items() if value is not None}


def signed_consult_request(
    body: dict[str, Any], key: str, *, signature: str | None = None, head: dict[str, Any] | None = None
) -> bytes:
    """A check balance request as the seed's sample builds it: the sample's head (`head` overrides;
    a None value leaves that field out) and the signature over the exact body text."""
    sent_head = {
        name: value for name, value in {**CONSULT_SAMPLE_HEAD, **(head or {})}.items() if value is not None
    }
    return signed_request(body, key, signature=signature, head=sent_head)


def routes() -> list[Route]:
    return [
        Route(SEND_OTP_PATH, send_otp, methods=["POST"]),
        Route(VERIFY_OTP_PATH, verify_otp, methods=["POST"]),
        Route(USER_DETAILS_PATH, user_details, methods=["GET", "POST"]),
        Route(REVOKE_PATH, revoke, methods=["DELETE"]),
        Route(CONSULT_PATH, consult, methods=["POST"]),
        Route(ADD_MONEY_PATH, process_transaction, methods=["POST"]),
        Route(DIRECT_PAY_PATH, direct_pay, methods=["GET", "POST"]),
        Route(WITHDRAW_SCW_PATH, direct_pay, methods=["GET", "POST"]),
    ]
