"""Seed 003: prepaid wallet load, `PATCH /mob1/api/onboarding/v1/creditAccount`.

Request and response are `{"token": ...}`, the JSON encrypted with the credentials'
the prepaid section's `aes_key` (`paytm_signing.encrypt_token`) in the simulator's token format
(`SimServer(prepaid_token_format=...)`, `--prepaid-token-format`): by default Tijori's convention
(random IV + HMAC), or `plain-cbc` (a fixed IV, no MAC) for a provider that sends bare CBC. Amounts carry two
implied decimals (`transactionAmount` 1000 = Rs 10.00), in the request as in the response.
A token that does not decrypt is answered HTTP 400 with an encrypted 1030 INVALID_MESSAGE.
Prepaid wallets are created with `POST /_sim/prepaid`; a load is money from outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from paytm_signing import InvalidTokenError, decrypt_token, encrypt_token
from tijori_local.sim.codes import PREPAID_CODES
from tijori_local.sim.context import SimContext
from tijori_local.sim.faults import apply_request_fault
from tijori_local.sim.state import EXTERNAL, decimal_field
from tijori_local.sim.wire import dumps, loads, to_paise_amount

__all__ = ["CREDIT_ACCOUNT_PATH", "add_wallet", "routes"]

CREDIT_ACCOUNT_PATH = "/mob1/api/onboarding/v1/creditAccount"
API = "prepaid"
WALLETS = "prepaid-wallets"


@dataclass
class PrepaidWallet:
    urn: str
    customer_id: str
    mobile: str | None
    subwallet_id: str

    @property
    def account(self) -> str:
        return f"prepaid:{self.urn}"

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "customerId": self.customer_id,
            "customerMobile": self.mobile,
            "subWalletId": self.subwallet_id,
        }


@dataclass
class Load:
    client_txn_id: str
    urn: str
    amount: Decimal
    accosa_ref_no: str

    def as_json(self) -> dict[str, Any]:
        return {
            "clientTxnId": self.client_txn_id,
            "urn": self.urn,
            "amount": self.amount,
            "accosaRefNo": self.accosa_ref_no,
        }


class _RefusedError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def add_wallet(ctx: SimContext, body: dict[str, Any]) -> PrepaidWallet:
    """Control API: create a prepaid wallet (`urn`, `customer_id`, `mobile`, `subwallet_id`, `balance`)."""
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
    with ctx.state.lock:
        ctx.state.records.setdefault(WALLETS, {})[urn] = wallet
        if balance is not None:
            ctx.state.set_balance(wallet.account, balance)
    return wallet


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


def _load(ctx: SimContext, request: dict[str, Any]) -> dict[str, Any]:
    if str(request.get("messageCode", "")) != "1080":
        raise _RefusedError("1056")
    client_txn_id = str(request.get("clientTxnId") or "").strip()
    if not client_txn_id or len(client_txn_id) > 50:
        raise _RefusedError("1093")
    state = ctx.state
    with state.lock:
        wallet = _find_wallet(ctx, request)
        amount = _amount(request.get("transactionAmount"))
        loads_by_txn = state.records.setdefault(API, {})
        if client_txn_id in loads_by_txn:
            raise _RefusedError("1093")  # the seed's code for a client txn id it will not take again
        load = Load(client_txn_id, wallet.urn, amount, state.next_txn_id())
        loads_by_txn[client_txn_id] = load
        state.move(EXTERNAL, wallet.account, amount, order_id=client_txn_id, kind="prepaid_load")
        balance = state.balance(wallet.account)
    return {
        "urn": wallet.urn,
        "customerId": wallet.customer_id,
        "responseCode": "00",
        "messageCode": 1081,
        "clientTxnId": client_txn_id,
        "responseMessage": "SUCCESS",
        "responseDateTime": ctx.clock.now().strftime("%Y%m%d%H%M%S"),
        "accosaRefNo": load.accosa_ref_no,
        "availableBalance": to_paise_amount(balance),
        "availableCashLimit": 0,
        "transactionAmount": to_paise_amount(amount),
    }


async def credit_account(request: Request) -> Response:
    ctx: SimContext = request.app.state.sim
    raw = await request.body()
    key = ctx.prepaid_key
    decrypted: dict[str, Any] | None = None
    try:
        outer = loads(raw)
        if isinstance(outer, dict):
            decrypted = decrypt_token(outer.get("token"), key, token_format=ctx.prepaid_token_format)
    except (ValueError, InvalidTokenError):
        decrypted = None
    order_hint = None if decrypted is None else str(decrypted.get("clientTxnId"))

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
