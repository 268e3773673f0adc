"""Seed 003: prepaid wallet load, `PATCH /mob1/api/onboarding/v1/creditAccount`.

Request and response are `{"token": ...}`, the JSON encrypted with the credentials' prepaid
`aes_key` (`paytm_signing.encrypt_token`) in the simulator's token format
(`SimServer(prepaid_token_format=...)`, `--prepaid-token-format`, tijori_local.sim.token_formats):
by default the provider's own, bare AES-192-CBC with the fixed IV `prepaid.iv` (16 zero bytes
without one) and no MAC; or `authenticated`, Tijori's random IV + HMAC. Amounts carry two implied
decimals (`transactionAmount` 1000 = Rs 10.00), in the request as in the response.

Before anything is decrypted, every header of the credentials' `prepaid.headers` (what the seed's
`<WalletHeader />` stands for) must be present with its exact value: HTTP 401 otherwise. A token
that does not decrypt is answered HTTP 400 with an encrypted 1030 INVALID_MESSAGE. Then the checks
of `_load`, in order; a refused load moves no money and is not recorded. Prepaid wallets are
created with `POST /_sim/prepaid` and changed with `PATCH /_sim/prepaid/{urn}` (status, daily load
limit, cooling-off); the program's load range with `POST /_sim/prepaid/program`. A load is money
from outside.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paytm_signing import InvalidTokenError, decrypt_token, encrypt_token
from tijori_local.sim.codes import PREPAID_CODES
from tijori_local.sim.context import SimContext
from tijori_local.sim.faults import apply_request_fault
from tijori_local.sim.state import EXTERNAL, IST, decimal_field
from tijori_local.sim.wire import dumps, loads, to_paise_amount

__all__ = [
    "CREDIT_ACCOUNT_PATH",
    "FUND_FLOW_TYPES",
    "PROGRAM",
    "WALLETS",
    "WALLET_STATUSES",
    "PrepaidProgram",
    "add_wallet",
    "change_wallet",
    "program",
    "routes",
    "set_program",
]

CREDIT_ACCOUNT_PATH = "/mob1/api/onboarding/v1/creditAccount"
API = "prepaid"
WALLETS = "prepaid-wallets"
PROGRAM = "prepaid-program"

WALLET_STATUSES: dict[str, str | None] = {
    "ACTIVE": None,
    "CLOSED": "1009",
    "BLOCKED": "1010",
    "PENDING_CANCELLATION": "1012",
    "CREDIT_DEBIT_BLOCKED": "1121",
}
"""A wallet's status and the code a load to it is refused with (None: loads are taken)."""

FUND_FLOW_TYPES = frozenset({"O", "I", "IO", "OR", "IR", "IOR"})
"""The seed's `fundFlowType` values; anything else is 1325 FUND FLOW TYPE MISMATCH."""

SOURCE_TYPES = frozenset({0, 1})
"""The seed's `sourceType`: Wallet-0 / account-1; anything else is 1101 UNKNOWN_SOURCE_ACCOUNT_TYPE."""

DEFAULT_MIN_LOAD = Decimal("1.00")
DEFAULT_MAX_LOAD = Decimal("100000.00")


@dataclass
class PrepaidProgram:
    """The program's per-load range: a load outside it is 10153 AMOUNT IS NOT WITHIN MIN-MAX RANGE."""

    min_load: Decimal = DEFAULT_MIN_LOAD
    max_load: Decimal = DEFAULT_MAX_LOAD

    def as_json(self) -> dict[str, Any]:
        return {"min_load": self.min_load, "max_load": self.max_load}


@dataclass
class PrepaidWallet:
    urn: str
    customer_id: str
    mobile: str | None
    subwallet_id: str
    status: str = "ACTIVE"
    daily_load_limit: Decimal | None = None
    """Most that may be loaded in one day (IST, simulated clock); None: no limit (10163 past it)."""
    cooling_off_seconds: float | None = None
    """Least simulated time between two loads; None: none (1353 inside it)."""

    @property
    def account(self) -> str:
        return f"prepaid:{self.urn}"

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "customerId": self.customer_id,
            "customerMobile": self.mobile,
            "subWalletId": self.subwallet_id,
            "status": self.status,
            "dailyLoadLimit": self.daily_load_limit,
            "coolingOffSeconds": self.cooling_off_seconds,
        }


@dataclass
class Load:
    client_txn_id: str
    urn: str
    amount: Decimal
    accosa_ref_no: str
    at: datetime
    order_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "clientTxnId": self.client_txn_id,
            "urn": self.urn,
            "amount": self.amount,
            "accosaRefNo": self.accosa_ref_no,
            "orderId": self.order_id,
            "at": self.at.isoformat(),
        }


class _RefusedError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _wallet_settings(body: dict[str, Any]) -> dict[str, Any]:
    """The wallet-state fields of a control body, checked (ValueError naming the field)."""
    settings: dict[str, Any] = {}
    if "status" in body:
        status = str(body["status"]).upper()
        if status not in WALLET_STATUSES:
            raise ValueError(f"status must be one of {', '.join(WALLET_STATUSES)}")
        settings["status"] = status
    if "daily_load_limit" in body:
        value = body["daily_load_limit"]
        settings["daily_load_limit"] = None if value is None else decimal_field(value, "daily_load_limit")
    if "cooling_off_seconds" in body:
        value = body["cooling_off_seconds"]
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
                raise ValueError("cooling_off_seconds must be a number of seconds or null")
            value = float(value)
            if not 0 <= value <= 366 * 86400:
                raise ValueError("cooling_off_seconds must be within 0..31622400")
        settings["cooling_off_seconds"] = value
    for name in ("customer_id", "subwallet_id"):
        if body.get(name) is not None:
            settings[name] = str(body[name])
    if "mobile" in body:
        settings["mobile"] = None if body["mobile"] is None else str(body["mobile"])
    return settings


def add_wallet(ctx: SimContext, body: dict[str, Any]) -> PrepaidWallet:
    """Control API: create (or replace) a prepaid wallet: `urn`, `customer_id`, `mobile`,
    `subwallet_id`, `balance`, `status` (ACTIVE, CLOSED, BLOCKED, PENDING_CANCELLATION,
    CREDIT_DEBIT_BLOCKED), `daily_load_limit`, `cooling_off_seconds`."""
    urn = str(body.get("urn") or "").strip()
    if not urn:
        raise ValueError("urn is required")
    balance = None if body.get("balance") is None else decimal_field(body["balance"], "balance")
    wallet = PrepaidWallet(
        urn=urn,
        customer_id=str(body.get("customer_id") or urn),
        mobile=None if body.get("mobile") is None else str(body["mobile"]),
        subwallet_id=str(body.get("subwallet_id") or f"MOB-{urn}_1"),
    )
    for name, value in _wallet_settings(body).items():
        setattr(wallet, name, value)
    with ctx.state.lock:
        ctx.state.records.setdefault(WALLETS, {})[urn] = wallet
        if balance is not None:
            ctx.state.set_balance(wallet.account, balance)
    return wallet


def change_wallet(ctx: SimContext, urn: str, body: dict[str, Any]) -> PrepaidWallet | None:
    """Control API: change the given fields of an existing wallet (None if there is no such urn);
    the others, its loads and its balance stay."""
    settings = _wallet_settings(body)
    balance = None if body.get("balance") is None else decimal_field(body["balance"], "balance")
    with ctx.state.lock:
        wallet = ctx.state.records.get(WALLETS, {}).get(urn)
        if wallet is None:
            return None
        assert isinstance(wallet, PrepaidWallet)
        for name, value in settings.items():
            setattr(wallet, name, value)
        if balance is not None:
            ctx.state.set_balance(wallet.account, balance)
        return wallet


def program(ctx: SimContext) -> PrepaidProgram:
    with ctx.state.lock:
        found = ctx.state.records.setdefault(PROGRAM, {}).setdefault("program", PrepaidProgram())
        assert isinstance(found, PrepaidProgram)
        return found


def set_program(ctx: SimContext, body: dict[str, Any]) -> PrepaidProgram:
    """Control API: the program's per-load range (`min_load`, `max_load`, decimal INR)."""
    current = program(ctx)
    low = current.min_load if body.get("min_load") is None else decimal_field(body["min_load"], "min_load")
    high = current.max_load if body.get("max_load") is None else decimal_field(body["max_load"], "max_load")
    if low <= 0 or high < low:
        raise ValueError("need 0 < min_load <= max_load")
    with ctx.state.lock:
        current.min_load, current.max_load = low, high
    return current


def _reply(ctx: SimContext, payload: dict[str, Any], status_code: int = 200) -> Response:
    key = ctx.prepaid_key
    token = encrypt_token(loads(dumps(payload)), key, token_format=ctx.prepaid_token_format)
    return Response(dumps({"token": token}), status_code=status_code, media_type="application/json")


def _find_wallet(ctx: SimContext, request: dict[str, Any]) -> PrepaidWallet:
    identifiers = [request.get(name) for name in ("urn", "customerId", "customerMobile")]
    given = [value for value in identifiers if value not in (None, "")]
    if not given:
        raise _RefusedError("1303")
    if len(given) > 1:
        raise _RefusedError("1304")
    subwallet = request.get("subWalletId", request.get("subwalletId"))
    if not subwallet and not request.get("accountNumber"):
        raise _RefusedError("1369")
    urn, customer_id, mobile = (None if v in (None, "") else str(v) for v in identifiers)
    for wallet in ctx.state.records.get(WALLETS, {}).values():
        if (
            (urn is not None and wallet.urn == urn)
            or (customer_id is not None and wallet.customer_id == customer_id)
            or (mobile is not None and wallet.mobile == mobile)
        ) and (not subwallet or wallet.subwallet_id == str(subwallet)):
            assert isinstance(wallet, PrepaidWallet)
            return wallet
    raise _RefusedError("1357")


def _amount(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise _RefusedError("1359")
    text = str(value).strip()
    if not text.isdigit():
        raise _RefusedError("1359")
    if int(text) == 0:
        raise _RefusedError("1322")
    return (Decimal(int(text)) / 100).quantize(Decimal("0.01"))


def _source_type(value: object) -> None:
    """Absent is taken (the seed marks only `token` mandatory); else 0 or 1, a JSON number or
    the same digit as a string."""
    if value is None:
        return
    if isinstance(value, bool) or (isinstance(value, int) and value not in SOURCE_TYPES):
        raise _RefusedError("1101")
    if not isinstance(value, int) and str(value).strip() not in ("0", "1"):
        raise _RefusedError("1101")


def _fund_flow_type(value: object) -> None:
    if value is not None and str(value) not in FUND_FLOW_TYPES:
        raise _RefusedError("1325")


def _wallet_loads(ctx: SimContext, urn: str) -> list[Load]:
    return [load for load in ctx.state.records.get(API, {}).values() if load.urn == urn]


def _within_rules(ctx: SimContext, wallet: PrepaidWallet, amount: Decimal, now: datetime) -> None:
    """Wallet status, the program's per-load range, cooling-off, the wallet's daily limit."""
    status_code = WALLET_STATUSES.get(wallet.status)
    if status_code is not None:
        raise _RefusedError(status_code)
    limits = program(ctx)
    if not limits.min_load <= amount <= limits.max_load:
        raise _RefusedError("10153")
    earlier = _wallet_loads(ctx, wallet.urn)
    if wallet.cooling_off_seconds and earlier:
        last = max(load.at for load in earlier)
        if now - last < timedelta(seconds=wallet.cooling_off_seconds):
            raise _RefusedError("1353")
    if wallet.daily_load_limit is not None:
        today = now.astimezone(IST).date()
        loaded = sum((load.amount for load in earlier if load.at.astimezone(IST).date() == today), Decimal(0))
        if loaded + amount > wallet.daily_load_limit:
            raise _RefusedError("10163")


def _load(ctx: SimContext, request: dict[str, Any]) -> dict[str, Any]:
    """The checks, first refusal wins: 1056 messageCode, 1093 clientTxnId, 1101 sourceType, 1325
    fundFlowType, 1303/1304/1369/1357 the wallet, 1322/1359 the amount, 1093 a clientTxnId already
    loaded, 1009/1010/1012/1121 the wallet's status, 10153 the program's range, 1353 cooling-off,
    10163 the daily limit. Then the money moves."""
    if str(request.get("messageCode", "")) != "1080":
        raise _RefusedError("1056")
    client_txn_id = str(request.get("clientTxnId") or "").strip()
    if not client_txn_id or len(client_txn_id) > 50:
        raise _RefusedError("1093")
    _source_type(request.get("sourceType"))
    _fund_flow_type(request.get("fundFlowType"))
    state = ctx.state
    with state.lock:
        wallet = _find_wallet(ctx, request)
        amount = _amount(request.get("transactionAmount"))
        loads_by_txn = state.records.setdefault(API, {})
        if client_txn_id in loads_by_txn:
            raise _RefusedError("1093")  # the seed's code for a client txn id it will not take again
        now = ctx.clock.now()
        _within_rules(ctx, wallet, amount, now)
        order_id = request.get("orderId")
        load = Load(
            client_txn_id,
            wallet.urn,
            amount,
            state.next_txn_id(),
            now,
            None if order_id in (None, "") else str(order_id),
        )
        loads_by_txn[client_txn_id] = load
        state.move(EXTERNAL, wallet.account, amount, order_id=client_txn_id, kind="prepaid_load", at=now)
        balance = state.balance(wallet.account)
    return {
        "urn": wallet.urn,
        "customerId": wallet.customer_id,
        "responseCode": "00",
        "messageCode": 1081,
        "clientTxnId": client_txn_id,
        "responseMessage": "SUCCESS",
        "responseDateTime": now.strftime("%Y%m%d%H%M%S"),
        "accosaRefNo": load.accosa_ref_no,
        "availableBalance": to_paise_amount(balance),
        "availableCashLimit": 0,
        "transactionAmount": to_paise_amount(amount),
    }


def _unauthorized(ctx: SimContext, request: Request) -> Response | None:
    """HTTP 401 naming the first header of `prepaid.headers` that is missing or wrong (names
    case-insensitive, values exact), or None when every one is there."""
    for name, expected in ctx.credentials.prepaid.header_values().items():
        given = request.headers.get(name)
        if given is None or not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            message = f"Unauthorized: header {name} is missing or wrong"
            body = {"responseCode": "401", "responseMessage": message}
            return Response(dumps(body), status_code=401, media_type="application/json")
    return None


def _order_hint(decrypted: dict[str, Any] | None) -> str | None:
    """What faults and the request log know a load by: Tijori's `orderId`, else `clientTxnId`."""
    if decrypted is None:
        return None
    for name in ("orderId", "clientTxnId"):
        if decrypted.get(name) not in (None, ""):
            return str(decrypted[name])
    return None


async def credit_account(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    refused = _unauthorized(ctx, request)
    if refused is not None:
        ctx.requests.record(CREDIT_ACCOUNT_PATH, None)
        return refused
    raw = await request.body()
    key = ctx.prepaid_key
    decrypted: dict[str, Any] | None = None
    try:
        outer = loads(raw)
        if isinstance(outer, dict):
            decrypted = decrypt_token(outer.get("token"), key, token_format=ctx.prepaid_token_format)
    except (ValueError, InvalidTokenError):
        decrypted = None
    order_hint = _order_hint(decrypted)
    ctx.requests.record(CREDIT_ACCOUNT_PATH, order_hint)

    async def handle() -> Response:
        if decrypted is None:
            return _reply(ctx, {"responseCode": "1030", "responseMessage": PREPAID_CODES["1030"]}, 400)
        try:
            return _reply(ctx, _load(ctx, decrypted))
        except _RefusedError as refused:
            return _reply(
                ctx,
                {
                    "messageCode": 1081,
                    "clientTxnId": decrypted.get("clientTxnId"),
                    "responseCode": refused.code,
                    "responseMessage": PREPAID_CODES[refused.code],
                    "responseDateTime": ctx.clock.now().strftime("%Y%m%d%H%M%S"),
                },
            )

    return await apply_request_fault(ctx.faults, CREDIT_ACCOUNT_PATH, order_hint, handle)


def routes() -> list[Route]:
    return [Route(CREDIT_ACCOUNT_PATH, credit_account, methods=["PATCH"])]
