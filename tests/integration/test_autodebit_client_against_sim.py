"""PaytmAutoDebitClient against the Paytm simulator over real HTTP (seed 002): linking a wallet
with the OTP the simulator "texts", the token's details, check balance, add money through the
simulated checkout, directPay with its answer's CheckSum verified, revoke, wrong credentials,
transport failures, and the revoked token kept out of X-Ray traces."""

from __future__ import annotations

import asyncio
import importlib
import json
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core.async_recorder import AsyncAWSXRayRecorder
from aws_xray_sdk.core.models.entity import Entity
from pydantic import SecretStr

from paytm_signing import MerchantCredentials
from tijori.adapters.pg_gateway import PaytmPgGateway
from tijori.lifecycle.outcomes import Outcome
from tijori.paytm.autodebit_client import PaytmAutoDebitClient
from tijori.paytm.autodebit_mapping import DIRECT_PAY_PATH, REVOKE_PATH, AddMoneyForm, WithdrawAnswer
from tijori_local.sim.server import SimServer

T = TypeVar("T")
TIMEOUT = 10.0
PHONE = "9000000001"
CALLBACK_URL = "https://tijori.example/paytm/add-money/callback"
WRONG_PG_KEY = "NotTheRightKey16"
# The module `tracer.patch(["httpx"])` applies (its package exports a function of the same name).
xray_httpx = importlib.import_module("aws_xray_sdk.ext.httpx.patch")


@pytest.fixture
def credentials(merchant_credentials: dict[str, Any]) -> MerchantCredentials:
    return MerchantCredentials.from_mapping(merchant_credentials)


def call(
    sim: SimServer,
    credentials: MerchantCredentials,
    action: Callable[[PaytmAutoDebitClient], Awaitable[T]],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> T:
    """Run one client call on a fresh event loop, with its own httpx client. The simulator serves
    the OAuth host and the PG host on one base URL."""

    async def run() -> T:
        async with httpx.AsyncClient(transport=transport) as http:
            return await action(PaytmAutoDebitClient(http, sim.url, sim.url, credentials))

    return asyncio.run(run())


def control(sim: SimServer, method: str, path: str, **body: Any) -> Any:
    response = httpx.request(method, f"{sim.url}/_sim/{path}", json=body or None)
    assert response.status_code in (200, 201), response.text
    return response.json()


def user(sim: SimServer, phone: str = PHONE, balance: str = "0") -> dict[str, Any]:
    result: dict[str, Any] = control(sim, "POST", "users", phone=phone, balance=balance)
    return result


def balance_of(sim: SimServer, sso_id: str) -> Decimal:
    return Decimal(str(control(sim, "GET", "balances")[f"user:{sso_id}"]))


def link(sim: SimServer, credentials: MerchantCredentials, phone: str = PHONE) -> SecretStr:
    """Send the OTP, read it from the simulator's "SMS", verify it: the customer's token."""
    sent = call(sim, credentials, lambda c: c.send_otp(phone, None, timeout=TIMEOUT))
    assert sent.outcome is Outcome.SUCCESS, sent
    assert sent.state is not None
    otp = control(sim, "GET", f"autodebit/otp/{sent.state}")["otp"]
    token = call(sim, credentials, lambda c: c.verify_otp(str(sent.state), otp, timeout=TIMEOUT))
    assert token.outcome is Outcome.SUCCESS, token
    assert token.access_token is not None
    return token.access_token


def linked_customer(
    sim: SimServer, credentials: MerchantCredentials, balance: str = "0"
) -> tuple[str, SecretStr]:
    """A Paytm user with `balance` in the wallet, linked: their ssoId and token."""
    customer = user(sim, balance=balance)
    return str(customer["sso_id"]), link(sim, credentials)


def charge(
    sim: SimServer,
    credentials: MerchantCredentials,
    token: SecretStr,
    order_id: str,
    amount: str,
    *,
    timeout: float = TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> WithdrawAnswer:
    return call(
        sim,
        credentials,
        lambda c: c.direct_pay(order_id, Decimal(amount), token, "CUST_001", timeout=timeout),
        transport=transport,
    )


def with_wrong_pg_key(merchant_credentials: dict[str, Any]) -> MerchantCredentials:
    data = json.loads(json.dumps(merchant_credentials))
    data["pg"]["merchant_key"] = WRONG_PG_KEY
    return MerchantCredentials.from_mapping(data)


def arm_fault(sim: SimServer, kind: str, path: str, **fields: Any) -> None:
    response = httpx.post(f"{sim.url}/_sim/faults", json={"kind": kind, "path": path, **fields})
    assert response.status_code == 201, response.text


# ---- linking -----------------------------------------------------------------------------------


def test_a_known_user_links_with_the_otp_and_the_token_validates(
    paytm: SimServer, credentials: MerchantCredentials
) -> None:
    customer = user(paytm)
    now = paytm.clock.now()

    sent = call(paytm, credentials, lambda c: c.send_otp(PHONE, "u@example.com", timeout=TIMEOUT))
    assert (sent.outcome, sent.code) == (Outcome.SUCCESS, "01")
    otp = control(paytm, "GET", f"autodebit/otp/{sent.state}")["otp"]
    token = call(paytm, credentials, lambda c: c.verify_otp(str(sent.state), otp, timeout=TIMEOUT))

    assert (token.outcome, token.resource_owner_id, token.wrong_otp) == (
        Outcome.SUCCESS,
        customer["sso_id"],
        False,
    )
    assert token.expires_at is not None
    assert timedelta(days=29) < token.expires_at - now <= timedelta(days=30)
    access_token = token.access_token
    assert access_token is not None
    details = call(paytm, credentials, lambda c: c.token_details(access_token, timeout=TIMEOUT))
    assert (details.outcome, details.known, details.customer_id) == (
        Outcome.SUCCESS,
        True,
        customer["sso_id"],
    )
    assert details.expires_at == token.expires_at


def test_a_number_without_a_paytm_account_is_sent_an_otp_to_register(
    paytm: SimServer, credentials: MerchantCredentials
) -> None:
    sent = call(paytm, credentials, lambda c: c.send_otp("9000000777", None, timeout=TIMEOUT))

    assert (sent.outcome, sent.code) == (Outcome.SUCCESS, "02")
    assert sent.state


def test_a_wrong_otp_is_refused_as_such_and_the_right_one_then_still_links(
    paytm: SimServer, credentials: MerchantCredentials
) -> None:
    user(paytm)
    sent = call(paytm, credentials, lambda c: c.send_otp(PHONE, None, timeout=TIMEOUT))
    state = str(sent.state)
    otp = control(paytm, "GET", f"autodebit/otp/{state}")["otp"]
    wrong = f"{(int(otp) + 1) % 1_000_000:06d}"

    refused = call(paytm, credentials, lambda c: c.verify_otp(state, wrong, timeout=TIMEOUT))
    linked = call(paytm, credentials, lambda c: c.verify_otp(state, otp, timeout=TIMEOUT))
    again = call(paytm, credentials, lambda c: c.verify_otp(state, otp, timeout=TIMEOUT))

    assert (refused.outcome, refused.code, refused.wrong_otp, refused.access_token) == (
        Outcome.FINAL_FAILURE,
        "403",
        True,
        None,
    )
    assert linked.outcome is Outcome.SUCCESS
    assert (again.outcome, again.code, again.wrong_otp) == (Outcome.FINAL_FAILURE, "513", False)


def test_an_invalid_phone_is_an_invalid_request(paytm: SimServer, credentials: MerchantCredentials) -> None:
    sent = call(paytm, credentials, lambda c: c.send_otp("12345", None, timeout=TIMEOUT))

    assert (sent.outcome, sent.code, sent.state) == (Outcome.INVALID_REQUEST, "431", None)


def test_a_wrong_client_secret_is_a_configuration_error(
    paytm: SimServer, credentials: MerchantCredentials, merchant_credentials: dict[str, Any]
) -> None:
    _, token = linked_customer(paytm, credentials)
    data = json.loads(json.dumps(merchant_credentials))
    data["auto_debit"]["client_secret"] = "not-the-secret"
    wrong = MerchantCredentials.from_mapping(data)
    sent = call(paytm, credentials, lambda c: c.send_otp(PHONE, None, timeout=TIMEOUT))

    verified = call(paytm, wrong, lambda c: c.verify_otp(str(sent.state), "000000", timeout=TIMEOUT))
    revoked = call(paytm, wrong, lambda c: c.revoke(token, timeout=TIMEOUT))

    assert (verified.outcome, verified.code) == (Outcome.CONFIGURATION_ERROR, "430")
    assert (revoked.outcome, revoked.http_status) == (Outcome.CONFIGURATION_ERROR, 401)
    details = call(paytm, credentials, lambda c: c.token_details(token, timeout=TIMEOUT))
    assert details.known is True  # the refused revoke revoked nothing


def test_revoke_then_revoke_again_and_the_token_is_unknown(
    paytm: SimServer, credentials: MerchantCredentials
) -> None:
    _, token = linked_customer(paytm, credentials)

    first = call(paytm, credentials, lambda c: c.revoke(token, timeout=TIMEOUT))
    second = call(paytm, credentials, lambda c: c.revoke(token, timeout=TIMEOUT))
    details = call(paytm, credentials, lambda c: c.token_details(token, timeout=TIMEOUT))

    assert (first.outcome, first.http_status) == (Outcome.SUCCESS, 200)
    assert (second.outcome, second.http_status) == (Outcome.NOT_FOUND, 404)
    assert (details.outcome, details.known, details.code) == (Outcome.FINAL_FAILURE, False, "530")


# ---- check balance and add money -------------------------------------------------------------------


def test_a_balance_that_covers_the_amount_is_sufficient(
    paytm: SimServer, credentials: MerchantCredentials
) -> None:
    _, token = linked_customer(paytm, credentials, "500.00")

    answer = call(paytm, credentials, lambda c: c.check_balance(token, Decimal("200.00"), timeout=TIMEOUT))

    assert (answer.outcome, answer.code, answer.funds_sufficient, answer.deficit) == (
        Outcome.SUCCESS,
        "CS_0000",
        True,
        Decimal("0"),
    )


def test_a_short_balance_reads_the_exact_deficit_and_add_money_then_covers_it(
    paytm: SimServer, credentials: MerchantCredentials
) -> None:
    sso_id, token = linked_customer(paytm, credentials, "100.00")

    short = call(paytm, credentials, lambda c: c.check_balance(token, Decimal("220.00"), timeout=TIMEOUT))
    assert (short.outcome, short.funds_sufficient, short.add_money_allowed, short.deficit) == (
        Outcome.SUCCESS,
        False,
        True,
        Decimal("120.00"),
    )

    async def add_money(client: PaytmAutoDebitClient) -> AddMoneyForm:
        return client.add_money_form("ADD-1", Decimal("120.00"), token, "CUST_001", CALLBACK_URL)

    form = call(paytm, credentials, add_money)
    page = httpx.post(form.action, data=form.fields)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    assert page.status_code == 200
    assert (hidden.get("ORDERID"), hidden.get("RESPCODE")) == ("ADD-1", None)  # a checkout, not a refusal
    control(paytm, "POST", "pg/checkout/ADD-1", outcome="SUCCESS")

    assert balance_of(paytm, sso_id) == Decimal("220.00")
    covered = call(paytm, credentials, lambda c: c.check_balance(token, Decimal("220.00"), timeout=TIMEOUT))
    assert (covered.funds_sufficient, covered.deficit) == (True, Decimal("0"))


def test_check_balance_with_a_dead_token_says_the_token_is_rejected(
    paytm: SimServer, credentials: MerchantCredentials
) -> None:
    _, token = linked_customer(paytm, credentials)
    call(paytm, credentials, lambda c: c.revoke(token, timeout=TIMEOUT))

    answer = call(paytm, credentials, lambda c: c.check_balance(token, Decimal("1.00"), timeout=TIMEOUT))

    assert (answer.outcome, answer.code, answer.token_rejected) == (Outcome.FINAL_FAILURE, "CS_0002", True)


def test_check_balance_signed_with_a_wrong_pg_key_is_a_configuration_error(
    paytm: SimServer, credentials: MerchantCredentials, merchant_credentials: dict[str, Any]
) -> None:
    _, token = linked_customer(paytm, credentials, "10")

    answer = call(
        paytm,
        with_wrong_pg_key(merchant_credentials),
        lambda c: c.check_balance(token, Decimal("1.00"), timeout=TIMEOUT),
    )

    assert (answer.outcome, answer.code) == (Outcome.CONFIGURATION_ERROR, "GE_1")


# ---- withdraw ----------------------------------------------------------------------------------


def test_direct_pay_debits_the_wallet_with_a_verified_checksum_and_the_status_confirms_it(
    paytm: SimServer, credentials: MerchantCredentials
) -> None:
    sso_id, token = linked_customer(paytm, credentials, "500.00")

    answer = charge(paytm, credentials, token, "CHG-1", "120.50")

    assert (answer.outcome, answer.status, answer.code, answer.checksum_verified) == (
        Outcome.SUCCESS,
        "TXN_SUCCESS",
        "01",
        True,
    )
    assert (answer.order_id, answer.amount, answer.token_rejected) == ("CHG-1", Decimal("120.50"), False)
    assert answer.txn_id
    assert answer.bank_txn_id
    assert balance_of(paytm, sso_id) == Decimal("379.50")

    async def status() -> Any:
        async with httpx.AsyncClient() as http:
            gateway = PaytmPgGateway.for_merchant(http, paytm.url, credentials)
            return await gateway.transaction_status("CHG-1", txn_type="WITHDRAW", timeout=TIMEOUT)

    confirmed = asyncio.run(status())
    assert (confirmed.outcome, confirmed.order_id, confirmed.amount, confirmed.txn_id) == (
        Outcome.SUCCESS,
        "CHG-1",
        Decimal("120.50"),
        answer.txn_id,
    )


def test_direct_pay_beyond_the_balance_fails_and_says_to_add_money(
    paytm: SimServer, credentials: MerchantCredentials
) -> None:
    sso_id, token = linked_customer(paytm, credentials, "10.00")

    answer = charge(paytm, credentials, token, "CHG-2", "10.01")

    assert (answer.outcome, answer.code, answer.checksum_verified, answer.token_rejected) == (
        Outcome.FINAL_FAILURE,
        "235",
        True,
        False,
    )
    assert "add money" in answer.reason
    assert balance_of(paytm, sso_id) == Decimal("10.00")


def test_direct_pay_with_a_revoked_token_is_refused_as_a_rejected_token(
    paytm: SimServer, credentials: MerchantCredentials
) -> None:
    _, token = linked_customer(paytm, credentials, "50")
    call(paytm, credentials, lambda c: c.revoke(token, timeout=TIMEOUT))

    answer = charge(paytm, credentials, token, "CHG-3", "1.00")

    assert (answer.outcome, answer.code, answer.token_rejected, answer.message) == (
        Outcome.FINAL_FAILURE,
        "2004",
        True,
        "Authorization failed",
    )


def test_direct_pay_with_a_wrong_pg_key_is_a_configuration_error(
    paytm: SimServer, credentials: MerchantCredentials, merchant_credentials: dict[str, Any]
) -> None:
    _, token = linked_customer(paytm, credentials, "50")

    answer = charge(paytm, with_wrong_pg_key(merchant_credentials), token, "CHG-4", "1.00")

    assert (answer.outcome, answer.code, answer.checksum_verified) == (
        Outcome.CONFIGURATION_ERROR,
        "330",
        False,
    )


class RewritingTransport(httpx.AsyncBaseTransport):
    """Real HTTP, with each answer's body rewritten on the way back: someone between Paytm and
    Tijori altering what Paytm signed."""

    def __init__(self, rewrite: Callable[[bytes], bytes]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        content = self._rewrite(await response.aread())
        return httpx.Response(
            response.status_code, headers={"Content-Type": "application/json"}, content=content
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(
            lambda raw: raw.replace(b'"235"', b'"01"').replace(b"TXN_FAILURE", b"TXN_SUCCESS"),
            id="refusal made success",
        ),
        pytest.param(
            lambda raw: re.sub(rb'"CheckSum":"[^"]+"', b'"CheckSum":"' + b"A" * 108 + b'"', raw), id="forged"
        ),
    ],
)
def test_a_direct_pay_answer_altered_on_the_way_is_ambiguous(
    paytm: SimServer, credentials: MerchantCredentials, rewrite: Callable[[bytes], bytes]
) -> None:
    _, token = linked_customer(paytm, credentials, "1.00")

    answer = charge(paytm, credentials, token, "CHG-5", "5.00", transport=RewritingTransport(rewrite))

    assert (answer.outcome, answer.checksum_verified, answer.status) == (Outcome.AMBIGUOUS, False, None)


@pytest.mark.parametrize(
    ("kind", "fields", "reason"),
    [
        ("http_500", {}, "HTTP 500"),
        ("non_json", {}, "not JSON"),
        ("error_text", {}, "not JSON"),
        ("http_500", {"commit": True}, "HTTP 500"),  # debited, answer lost
        ("latency", {"latency_ms": 1500}, "no answer within"),
    ],
)
def test_direct_pay_without_a_readable_answer_is_ambiguous(
    paytm: SimServer, credentials: MerchantCredentials, kind: str, fields: dict[str, Any], reason: str
) -> None:
    _, token = linked_customer(paytm, credentials, "50")
    arm_fault(paytm, kind, DIRECT_PAY_PATH, **fields)

    answer = charge(paytm, credentials, token, "CHG-6", "1.00", timeout=0.5)

    assert (answer.outcome, answer.token_rejected) == (Outcome.AMBIGUOUS, False)
    assert reason in answer.reason


def test_oauth_calls_without_a_readable_answer_are_ambiguous(
    paytm: SimServer, credentials: MerchantCredentials
) -> None:
    arm_fault(paytm, "http_500", "/signin/otp")
    arm_fault(paytm, "http_500", REVOKE_PATH.rstrip("/"))

    sent = call(paytm, credentials, lambda c: c.send_otp(PHONE, None, timeout=TIMEOUT))
    revoked = call(paytm, credentials, lambda c: c.revoke(SecretStr("some-token"), timeout=TIMEOUT))

    assert (sent.outcome, sent.reason) == (Outcome.AMBIGUOUS, "HTTP 500")
    assert (revoked.outcome, revoked.http_status) == (Outcome.AMBIGUOUS, 500)


# ---- the token stays out of traces -------------------------------------------------------------


class InMemoryEmitter:
    """What the X-Ray recorder would send to the daemon, kept as serialized JSON."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_entity(self, entity: Entity) -> None:
        self.sent.append(entity.serialize())

    def set_daemon_address(self, address: str | None) -> None:
        pass


def traced(
    sim: SimServer, action: Callable[[httpx.AsyncClient], Awaitable[Any]], monkeypatch: pytest.MonkeyPatch
) -> str:
    """Run `action` with an httpx client instrumented as `tracer.patch(["httpx"])` instruments it,
    inside a segment recorded into memory; the serialized trace."""
    emitter = InMemoryEmitter()
    recorder = AsyncAWSXRayRecorder()
    recorder.configure(emitter=emitter, sampling=False, context_missing="LOG_ERROR", plugins=())
    monkeypatch.setattr(xray_httpx, "xray_recorder", recorder)
    # A function imported earlier in the same process with tracing off (POWERTOOLS_TRACE_DISABLED)
    # switched the X-Ray SDK off process-wide: on for this recording, as in a traced Lambda.
    monkeypatch.setattr(type(global_sdk_config), "_SDKConfig__SDK_ENABLED", True)

    async def run() -> None:
        recorder.begin_segment("autodebit-test")
        async with httpx.AsyncClient(
            transport=xray_httpx.AsyncInstrumentedTransport(httpx.AsyncHTTPTransport())
        ) as http:
            await action(http)
        recorder.end_segment()

    asyncio.run(run())
    return "\n".join(emitter.sent)


def test_revoke_reaches_paytm_with_the_token_but_the_trace_records_only_the_path_template(
    paytm: SimServer, credentials: MerchantCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = linked_customer(paytm, credentials)
    secret = token.get_secret_value()

    answers: list[Any] = []

    async def revoke(http: httpx.AsyncClient) -> None:
        answers.append(
            await PaytmAutoDebitClient(http, paytm.url, paytm.url, credentials).revoke(token, timeout=TIMEOUT)
        )

    trace = traced(paytm, revoke, monkeypatch)

    assert (answers[0].outcome, answers[0].http_status) == (Outcome.SUCCESS, 200)  # the token reached Paytm
    assert '"method": "DELETE"' in trace
    assert "/oauth2/accessToken/%7Bsession_token%7D" in trace
    assert secret not in trace


def test_the_in_memory_trace_would_show_a_token_sent_in_a_plain_url(
    paytm: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: the same recorder sees the URL of a plain request."""

    async def plain_delete(http: httpx.AsyncClient) -> None:
        await http.delete(f"{paytm.url}/oauth2/accessToken/visible-token-123")

    assert "visible-token-123" in traced(paytm, plain_delete, monkeypatch)
