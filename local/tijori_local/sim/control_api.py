"""The control API under `/_sim/`: set the world up, move the clock, break things, look inside.

Plain JSON in and out; amounts are decimal strings. Documented in README.md next to this file.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tijori_local.sim.autodebit_api import (
    TOKENS,
    end_sessions,
    is_phone,
    issue_token,
    latest_otp_sent_to,
    otp_for,
    withdraw_ledger,
)
from tijori_local.sim.context import SimContext
from tijori_local.sim.faults import Fault
from tijori_local.sim.gate import MAX_REFUSAL_SECONDS
from tijori_local.sim.pg_api import (
    REFUND_SCRIPTS,
    CheckoutError,
    complete_checkout,
    find_refund,
    script_refund,
    settle_refund,
)
from tijori_local.sim.planted_records import PLANTED_RECORDS, plant
from tijori_local.sim.prepaid_api import PROGRAM, WALLETS, add_wallet, change_wallet, program, set_program
from tijori_local.sim.state import SCRIPTABLE, SalesCredit, Script, SimState, User, decimal_field
from tijori_local.sim.validation_api import resolve_validation
from tijori_local.sim.wire import dumps, loads

__all__ = ["routes"]

_SCRIPT_OUTCOMES = {"SUCCESS", "PENDING", "FAILURE", "REFUNDED_BACK"}
# records that are not orders (left out of /_sim/orders)
_NOT_ORDERS = {WALLETS, PROGRAM, "autodebit-otp", "autodebit-tokens", REFUND_SCRIPTS, PLANTED_RECORDS}


def _ok(payload: Any, status_code: int = 200) -> Response:
    return Response(dumps(payload), status_code=status_code, media_type="application/json")


def _error(message: str, status_code: int = 400) -> Response:
    return _ok({"error": message}, status_code)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    data = loads(raw)
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def _ctx(request: Request) -> SimContext:
    ctx: SimContext = request.app.state.sim
    return ctx


def _user_json(ctx: SimContext, user: User) -> dict[str, Any]:
    limits = user.limits
    return {
        "sso_id": user.sso_id,
        "phone": user.phone,
        "email": user.email,
        "mobile_verified": user.mobile_verified,
        "email_verified": user.email_verified,
        "kyc": user.kyc,
        "wallet_exists": user.wallet_exists,
        "blocked": user.blocked,
        "balance": ctx.state.balance(user.account),
        "limits": {
            "per_txn": limits.per_txn,
            "max_balance": limits.max_balance,
            "monthly_credit": limits.monthly_credit,
            "monthly_txn_count": limits.monthly_txn_count,
        },
    }


def _credit_json(credit: SalesCredit) -> dict[str, Any]:
    return {
        "api": "salesToUserCredit",
        "orderId": credit.order_id,
        "walletTxnId": credit.wallet_txn_id,
        "amount": credit.amount,
        "status": credit.status.name,
        "statusNumber": int(credit.status),
        "message": credit.message,
        "code": credit.code,
        "isLimitPending": credit.is_limit_pending,
        "payee": {"kind": credit.payee_kind, "value": credit.payee},
        "ssoId": credit.sso_id,
        "createdAt": credit.created_at.isoformat(),
        "deadline": credit.deadline.isoformat(),
        "resolvedAt": None if credit.resolved_at is None else credit.resolved_at.isoformat(),
    }


async def requests_seen(request: Request) -> Response:
    """`?path=&order_id=`: how many requests the simulator received (filters optional); with an
    order id, also the paths requested for it in arrival order (`sequence`)."""
    log = _ctx(request).requests
    path, order_id = request.query_params.get("path"), request.query_params.get("order_id")
    return _ok(
        {
            "count": log.count(path=path, order_id=order_id),
            "entries": log.entries() if not (path or order_id) else [],
            "sequence": log.sequence(order_id) if order_id else [],
        }
    )


async def health(request: Request) -> Response:
    return _ok({"ok": True, "mid": _ctx(request).credentials.mid})


async def users(request: Request) -> Response:
    ctx = _ctx(request)
    if request.method == "GET":
        with ctx.state.lock:
            return _ok([_user_json(ctx, user) for user in ctx.state.users.values()])
    try:
        body = await _body(request)
        with ctx.state.lock:
            user = ctx.state.upsert_user(body)
            return _ok(_user_json(ctx, user))
    except (ValueError, InvalidOperation, TypeError) as exc:
        return _error(str(exc))


async def merchant(request: Request) -> Response:
    ctx = _ctx(request)
    state = ctx.state
    if request.method == "POST":
        try:
            body = await _body(request)
        except ValueError as exc:
            return _error(str(exc))
        for name in ("phone", "email"):
            if body.get(name) is not None and not isinstance(body[name], str):
                return _error(f"{name} must be a string or null")
        with state.lock:
            if "active" in body:
                state.merchant_active = bool(body["active"])
            if "phone" in body:
                state.merchant_phone = body["phone"]
            if "email" in body:
                state.merchant_email = body["email"]
    with state.lock:
        return _ok(
            {
                "mid": ctx.credentials.mid,
                "merchantGuid": ctx.credentials.wallet.merchant_guid,
                "active": state.merchant_active,
                "phone": state.merchant_phone,
                "email": state.merchant_email,
                "subWallets": [
                    {"guid": w.guid, "name": w.name, "type": w.kind, "balance": state.balance(w.account)}
                    for w in state.sub_wallets.values()
                ],
            }
        )


def _settable(state: SimState, account: str) -> bool:
    """Only money that sits with someone may be set from outside: merchant sub-wallets, user
    wallets and prepaid accounts. Hold, PG and `external` are the simulator's own bookkeeping."""
    kind, _, name = account.partition(":")
    if kind == "merchant":
        return name in state.sub_wallets
    if kind == "user":
        return name in state.users
    if kind == "prepaid":
        return name in state.records.get(WALLETS, {})
    return False


async def balances(request: Request) -> Response:
    ctx = _ctx(request)
    state = ctx.state
    if request.method == "POST":
        try:
            body = await _body(request)
            account = body.get("account")
            if account is None and body.get("guid") is not None:
                wallet = state.sub_wallets.get(str(body["guid"]))
                if wallet is None:
                    return _error(f"unknown sub-wallet {body['guid']!r}", 404)
                account = wallet.account
            if not account:
                return _error("give `guid` (a merchant sub-wallet) or `account`")
            if not isinstance(account, str) or not _settable(state, account):
                return _error(
                    f"account {account!r} cannot be set: only merchant sub-wallets, user wallets "
                    "and prepaid accounts that exist"
                )
            amount = decimal_field(body["balance"], "balance")
            state.set_balance(account, amount)
        except (ValueError, KeyError, InvalidOperation, TypeError) as exc:
            return _error(f"bad request: {exc}")
    with state.lock:
        return _ok(dict(sorted(state.balances.items())))


async def clock(request: Request) -> Response:
    ctx = _ctx(request)
    return _ok({"now": ctx.clock.now().isoformat(), "timeScale": ctx.clock.time_scale})


async def advance_clock(request: Request) -> Response:
    ctx = _ctx(request)
    try:
        body = await _body(request)
        now = ctx.clock.advance(
            hours=float(body.get("hours", 0)),
            days=float(body.get("days", 0)),
            seconds=float(body.get("seconds", 0)),
        )
    except (ValueError, TypeError, OverflowError) as exc:
        return _error(str(exc))
    settled = ctx.state.resolve_pending()
    return _ok({"now": now.isoformat(), "settled": settled})


async def script(request: Request) -> Response:
    ctx = _ctx(request)
    try:
        body = await _body(request)
    except ValueError as exc:
        return _error(str(exc))
    order_id, outcome = body.get("order_id"), str(body.get("outcome", "")).upper()
    if not order_id or not isinstance(order_id, str) or outcome not in _SCRIPT_OUTCOMES:
        return _error(f"need order_id and outcome in {sorted(_SCRIPT_OUTCOMES)}")
    api = body.get("api")
    if api is not None and api not in SCRIPTABLE:
        return _error(f"api must be one of {sorted(SCRIPTABLE)}")
    for name in ("code", "message"):
        if body.get(name) is not None and not isinstance(body[name], str):
            return _error(f"{name} must be a string")
    if api == "validation" and body.get("code") is not None:
        return _error("a validation script cannot set a code (PENDING is DE_101, FAILURE DE_702)")
    state = ctx.state
    with state.lock:
        candidates = [api] if api is not None else list(SCRIPTABLE)
        able = [name for name in candidates if outcome in SCRIPTABLE[name]]
        if not able:
            return _error(f"{api} cannot honour outcome {outcome}: it takes {sorted(SCRIPTABLE[str(api)])}")
        usable = [name for name in able if not state.order_taken(name, order_id)]
        if not usable:
            return _error(f"order id {order_id!r} is already used by {', '.join(able)}")
        state.scripts[order_id] = Script(outcome, body.get("code"), body.get("message"), api)
    return _ok({"order_id": order_id, "outcome": outcome, "api": api, "appliesTo": usable})


async def orders(request: Request) -> Response:
    ctx = _ctx(request)
    with ctx.state.lock:
        ctx.state.resolve_pending()
        listed: list[Any] = [_credit_json(credit) for credit in ctx.state.credits.values()]
        for api, records in ctx.state.records.items():
            if api in _NOT_ORDERS:
                continue
            for record in records.values():
                listed.append({"api": api, **_record_json(record)})
        return _ok(listed)


def _record_json(record: Any) -> dict[str, Any]:
    as_json = getattr(record, "as_json", None)
    if callable(as_json):
        result = as_json()
        assert isinstance(result, dict)
        return result
    return dict(record) if isinstance(record, dict) else {"value": str(record)}


async def order(request: Request) -> Response:
    ctx = _ctx(request)
    order_id = request.path_params["order_id"]
    with ctx.state.lock:
        ctx.state.resolve_pending()
        credit = ctx.state.credits.get(order_id)
        if credit is not None:
            return _ok(_credit_json(credit))
        for api, records in ctx.state.records.items():
            if api not in _NOT_ORDERS and order_id in records:
                return _ok({"api": api, **_record_json(records[order_id])})
    return _error(f"no order {order_id!r}", 404)


async def resolve_order(request: Request) -> Response:
    ctx = _ctx(request)
    order_id = request.path_params["order_id"]
    try:
        outcome = str((await _body(request)).get("outcome", "")).upper()
        if order_id in ctx.state.credits:
            return _ok(_credit_json(ctx.state.force_resolve(order_id, outcome)))
        if outcome not in ("SUCCESS", "FAILURE"):
            return _error("a validation resolves to SUCCESS or FAILURE")
        return _ok(resolve_validation(ctx, order_id, outcome).as_json())
    except KeyError:
        return _error("no PENDING order with that order id", 404)
    except ValueError as exc:
        return _error(str(exc))


async def plant_record(request: Request) -> Response:
    """A test affordance (planted_records.py): what the status APIs show for one order from now on."""
    try:
        body = await _body(request)
        return _ok(plant(_ctx(request).state, request.path_params["order_id"], body))
    except ValueError as exc:
        return _error(str(exc))


async def faults(request: Request) -> Response:
    ctx = _ctx(request)
    if request.method == "POST":
        try:
            fault = ctx.faults.add(Fault.from_json(await _body(request)))
        except (ValueError, TypeError) as exc:
            return _error(str(exc))
        return _ok(fault.as_json(), 201)
    if request.method == "DELETE":
        ctx.faults.clear()
    return _ok([fault.as_json() for fault in ctx.faults.list()])


async def ledger(request: Request) -> Response:
    ctx = _ctx(request)
    order_id = request.query_params.get("order_id")
    with ctx.state.lock:
        entries = [e.as_json() for e in ctx.state.ledger if order_id is None or e.order_id == order_id]
    return _ok(entries)


async def conservation(request: Request) -> Response:
    ctx = _ctx(request)
    ctx.state.resolve_pending()
    return _ok(ctx.state.conservation())


async def callbacks(request: Request) -> Response:
    ctx = _ctx(request)
    if request.query_params.get("wait") == "1":
        await run_in_threadpool(ctx.callbacks.wait_idle)
    return _ok([sent.as_json() for sent in list(ctx.callbacks.sent)])


async def prepaid_wallets(request: Request) -> Response:
    ctx = _ctx(request)
    if request.method == "POST":
        try:
            wallet = add_wallet(ctx, await _body(request))
        except (ValueError, InvalidOperation) as exc:
            return _error(str(exc))
        return _ok({**wallet.as_json(), "balance": ctx.state.balance(wallet.account)}, 201)
    with ctx.state.lock:
        wallets = list(ctx.state.records.get(WALLETS, {}).values())
        return _ok([{**w.as_json(), "balance": ctx.state.balance(w.account)} for w in wallets])


async def prepaid_wallet(request: Request) -> Response:
    """`PATCH /_sim/prepaid/{urn}`: change an existing wallet (status, daily_load_limit,
    cooling_off_seconds, customer_id, mobile, subwallet_id, balance); its loads stay."""
    ctx = _ctx(request)
    try:
        wallet = change_wallet(ctx, request.path_params["urn"], await _body(request))
    except (ValueError, InvalidOperation) as exc:
        return _error(str(exc))
    if wallet is None:
        return _error(f"no prepaid wallet {request.path_params['urn']!r}", 404)
    return _ok({**wallet.as_json(), "balance": ctx.state.balance(wallet.account)})


async def prepaid_program(request: Request) -> Response:
    """`GET|POST /_sim/prepaid/program`: the program's per-load range (`min_load`, `max_load`)."""
    ctx = _ctx(request)
    if request.method == "POST":
        try:
            return _ok(set_program(ctx, await _body(request)).as_json())
        except (ValueError, InvalidOperation) as exc:
            return _error(str(exc))
    return _ok(program(ctx).as_json())


async def prepaid_refuse_connections(request: Request) -> Response:
    """`POST /_sim/prepaid/refuse-connections {"seconds": S}`: the prepaid gate stops listening
    (ECONNREFUSED) for S real seconds, 0 < S <= 60, then listens again on the same port."""
    ctx = _ctx(request)
    gate = ctx.prepaid_gate
    if gate is None:
        return _error("the prepaid gate is not running", 409)
    try:
        body = await _body(request)
        raw = body.get("seconds")
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
            raise ValueError("seconds must be a number")
        seconds = float(raw)
        if not 0 < seconds <= MAX_REFUSAL_SECONDS:
            raise ValueError(f"seconds must be within (0, {MAX_REFUSAL_SECONDS:g}]")
    except ValueError as exc:
        return _error(str(exc))
    await asyncio.wrap_future(gate.refuse_connections(seconds))
    return _ok({"refusing": True, "seconds": seconds})


async def pg_checkout(request: Request) -> Response:
    ctx = _ctx(request)
    try:
        order = complete_checkout(ctx, request.path_params["order_id"], await _body(request))
    except CheckoutError as exc:
        return _error(str(exc), exc.status_code)
    except ValueError as exc:
        return _error(str(exc))
    return _ok(order.as_json())


async def pg_refund(request: Request) -> Response:
    """`GET /_sim/pg/refunds/{ref_id}`: one refund (status, code, amount) and its order id."""
    ctx = _ctx(request)
    with ctx.state.lock:
        found = find_refund(ctx.state, request.path_params["ref_id"])
        if found is None:
            return _error("no refund with that REFID", 404)
        order, refund = found
        return _ok({"orderId": order.order_id, **refund.as_json()})


async def pg_refund_script(request: Request) -> Response:
    ctx = _ctx(request)
    ref_id = request.path_params["ref_id"]
    try:
        script = script_refund(ctx, ref_id, await _body(request))
    except CheckoutError as exc:
        return _error(str(exc), exc.status_code)
    except ValueError as exc:
        return _error(str(exc))
    return _ok({"ref_id": ref_id, "outcome": script.outcome, "code": script.code, "message": script.message})


async def pg_refund_settle(request: Request) -> Response:
    ctx = _ctx(request)
    try:
        order, refund = settle_refund(ctx, request.path_params["ref_id"], await _body(request))
    except CheckoutError as exc:
        return _error(str(exc), exc.status_code)
    except ValueError as exc:
        return _error(str(exc))
    return _ok({"orderId": order.order_id, **refund.as_json()})


async def autodebit_otp(request: Request) -> Response:
    record = otp_for(_ctx(request), request.path_params["state"])
    if record is None:
        return _error("no such OTP state", 404)
    return _ok(record.as_json())


def _phone_problem(phone: object) -> str | None:
    """Why `phone` cannot name an auto-debit user's phone, or None when it can."""
    if phone is None or phone == "":
        return "phone is required"
    if not isinstance(phone, str) or not is_phone(phone):
        return "phone must be 10 digits, the first 5-9 (as send-OTP takes it)"
    return None


async def autodebit_sms(request: Request) -> Response:
    """`GET /_sim/autodebit/sms?phone=`: the latest OTP sent to that phone, as its SMS inbox shows
    it (`{phone, otp, sent_at}`); Paytm's `state` never reaches the phone, nor Tijori's users."""
    phone = request.query_params.get("phone")
    problem = _phone_problem(phone)
    if problem is not None:
        return _error(problem)
    assert phone is not None
    record = latest_otp_sent_to(_ctx(request), phone)
    if record is None:
        return _error(f"no OTP was sent to {phone}", 404)
    return _ok(record.as_sms())


async def autodebit_end_sessions(request: Request) -> Response:
    """`POST /_sim/autodebit/sessions/end {"phone"}`: every live token of that phone's user ends
    (the user changed her password or signed out from all sessions)."""
    try:
        phone = (await _body(request)).get("phone")
    except ValueError as exc:
        return _error(str(exc))
    problem = _phone_problem(phone)
    if problem is not None:
        return _error(problem)
    ended = end_sessions(_ctx(request), str(phone))
    if ended is None:
        return _error(f"no user has phone {phone}", 404)
    user, count = ended
    return _ok({"phone": phone, "ssoId": user.sso_id, "ended": count})


async def autodebit_ledger(request: Request) -> Response:
    """`GET /_sim/autodebit/ledger?phone=`: per withdraw order, what left the customer's wallet and
    what came back by refunds, with totals (every customer's without `phone`)."""
    ctx = _ctx(request)
    phone = request.query_params.get("phone")
    account = None
    if phone is not None:
        problem = _phone_problem(phone)
        if problem is not None:
            return _error(problem)
        with ctx.state.lock:
            user = ctx.state.find_user("phone", phone)
        if user is None:
            return _error(f"no user has phone {phone}", 404)
        account = user.account
    return _ok(withdraw_ledger(ctx, account))


async def autodebit_tokens(request: Request) -> Response:
    """`GET /_sim/autodebit/tokens?phone=`: every access token issued to that phone's user, in the
    order issued (`token, ssoId, scope, expires, revoked`): what Paytm knows, for a test that must
    prove a merchant never shows, stores or logs one."""
    ctx = _ctx(request)
    phone = request.query_params.get("phone")
    problem = _phone_problem(phone)
    if problem is not None:
        return _error(problem)
    with ctx.state.lock:
        user = ctx.state.find_user("phone", str(phone))
        if user is None:
            return _error(f"no user has phone {phone}", 404)
        issued = [t for t in ctx.state.records.get(TOKENS, {}).values() if t.sso_id == user.sso_id]
    return _ok([token.as_json() for token in issued])


async def autodebit_token(request: Request) -> Response:
    ctx = _ctx(request)
    try:
        body = await _body(request)
        with ctx.state.lock:
            user = ctx.state.upsert_user(body)
            token = issue_token(ctx, user, str(body.get("scope") or "wallet"))
    except (ValueError, InvalidOperation, TypeError) as exc:
        return _error(str(exc))
    return _ok({**token.as_json(), "expiresMs": token.expires_ms}, 201)


def routes() -> list[Route]:
    return [
        Route("/_sim/prepaid", prepaid_wallets, methods=["GET", "POST"]),
        Route("/_sim/prepaid/program", prepaid_program, methods=["GET", "POST"]),
        Route("/_sim/prepaid/refuse-connections", prepaid_refuse_connections, methods=["POST"]),
        Route("/_sim/prepaid/{urn}", prepaid_wallet, methods=["PATCH"]),
        Route("/_sim/health", health, methods=["GET"]),
        Route("/_sim/requests", requests_seen, methods=["GET"]),
        Route("/_sim/users", users, methods=["GET", "POST"]),
        Route("/_sim/merchant", merchant, methods=["GET", "POST"]),
        Route("/_sim/balances", balances, methods=["GET", "POST"]),
        Route("/_sim/clock", clock, methods=["GET"]),
        Route("/_sim/clock/advance", advance_clock, methods=["POST"]),
        Route("/_sim/script", script, methods=["POST"]),
        Route("/_sim/orders", orders, methods=["GET"]),
        Route("/_sim/orders/{order_id:path}/resolve", resolve_order, methods=["POST"]),
        Route("/_sim/orders/{order_id:path}/plant", plant_record, methods=["POST"]),
        Route("/_sim/orders/{order_id:path}", order, methods=["GET"]),
        Route("/_sim/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sim/ledger", ledger, methods=["GET"]),
        Route("/_sim/conservation", conservation, methods=["GET"]),
        Route("/_sim/callbacks", callbacks, methods=["GET"]),
        Route("/_sim/pg/checkout/{order_id:path}", pg_checkout, methods=["POST"]),
        Route("/_sim/pg/refunds/{ref_id}/script", pg_refund_script, methods=["POST"]),
        Route("/_sim/pg/refunds/{ref_id}/settle", pg_refund_settle, methods=["POST"]),
        Route("/_sim/pg/refunds/{ref_id}", pg_refund, methods=["GET"]),
        Route("/_sim/autodebit/otp/{state}", autodebit_otp, methods=["GET"]),
        Route("/_sim/autodebit/sms", autodebit_sms, methods=["GET"]),
        Route("/_sim/autodebit/sessions/end", autodebit_end_sessions, methods=["POST"]),
        Route("/_sim/autodebit/ledger", autodebit_ledger, methods=["GET"]),
        Route("/_sim/autodebit/token", autodebit_token, methods=["POST"]),
        Route("/_sim/autodebit/tokens", autodebit_tokens, methods=["GET"]),
    ]
