"""Auto-debit through the real lambda_handlers with events/*.json, against moto (DynamoDB, SQS,
KMS) and the simulator over HTTP: a link asked and verified by OTP, a charge accepted and queued,
its queued attempt debiting the wallet once and confirmed by the status API."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import FakeLambdaContext, LocalAccount, load_event
from tijori_local.sim import SimServer

LINK_ID = "LINKEVT0001"
ORDER_ID = "CHARGE-EVT-0001"
PHONE = "9876543210"


@pytest.fixture
def handlers(
    function_env: LocalAccount,
    paytm: SimServer,
    monkeypatch: pytest.MonkeyPatch,
    load_handler: Callable[[str], ModuleType],
) -> dict[str, ModuleType]:
    """The functions with the stack's auto-debit settings (template.yaml gives them to a stack)."""
    for name, value in {
        "PAYTM_ACCOUNTS_BASE_URL": paytm.url,
        "WALLET_LINKS_TABLE_NAME": function_env.stack.ref("WalletLinksTable"),
        "WALLET_TOKEN_KEY_ID": function_env.stack.ref("WalletTokenKey"),
    }.items():
        monkeypatch.setenv(name, value)
    return {name: load_handler(name) for name in ("initiate", "payout")}


def _answer(response: dict[str, Any], status: int) -> dict[str, Any]:
    assert response["statusCode"] == status, response["body"]
    body: dict[str, Any] = json.loads(response["body"])
    return body


def _link(handlers: dict[str, ModuleType], context: FakeLambdaContext, paytm: SimServer) -> dict[str, Any]:
    asked = _answer(
        handlers["initiate"].lambda_handler(load_event("initiate_create_wallet_link"), context), 201
    )
    assert asked["status"] == "OTP_SENT"
    otp = httpx.get(f"{paytm.url}/_sim/autodebit/sms", params={"phone": PHONE}).json()["otp"]
    event = load_event("initiate_verify_wallet_link_otp")
    event["body"] = json.dumps({"otp": otp})
    return _answer(handlers["initiate"].lambda_handler(event, context), 200)


def test_the_link_events_send_an_otp_then_link_with_the_token_sealed_under_kms(
    handlers: dict[str, ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
) -> None:
    httpx.post(f"{paytm.url}/_sim/users", json={"phone": PHONE, "balance": "500.00"}).raise_for_status()
    linked = _link(handlers, lambda_context, paytm)
    assert linked["status"] == "LINKED"
    assert linked["phone"] == "********10"
    item = function_env.dynamodb.get_item(
        TableName=function_env.stack.ref("WalletLinksTable"), Key={"link_id": {"S": LINK_ID}}
    )["Item"]
    assert item["sealed_token"]["S"].startswith("kms1.")
    assert "paytm_state" not in item
    wrong = load_event("initiate_verify_wallet_link_otp")
    assert handlers["initiate"].lambda_handler(wrong, lambda_context)["statusCode"] == 409  # already LINKED


def test_the_charge_event_is_accepted_and_queued_and_its_message_debits_once_then_paid(
    handlers: dict[str, ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
) -> None:
    httpx.post(f"{paytm.url}/_sim/users", json={"phone": PHONE, "balance": "500.00"}).raise_for_status()
    _link(handlers, lambda_context, paytm)
    accepted = _answer(
        handlers["initiate"].lambda_handler(load_event("initiate_create_charge"), lambda_context), 202
    )
    assert (accepted["status"], accepted["method"]) == (
        "ACCEPTED",
        {"type": "linked_wallet", "link_id": LINK_ID},
    )
    queued = [json.loads(m["Body"]) for m in function_env.receive_all(function_env.queue_url)]
    assert queued == [{"kind": "payment", "id": ORDER_ID}]
    message = load_event("payout_sqs_charge")
    assert handlers["payout"].lambda_handler(message, lambda_context) == {"batchItemFailures": []}
    assert handlers["payout"].lambda_handler(message, lambda_context) == {
        "batchItemFailures": []
    }  # redelivered
    get = load_event("initiate_get_payout")
    get["routeKey"] = get["requestContext"]["routeKey"] = "GET /v1/payments/{order_id}"
    get["rawPath"] = get["requestContext"]["http"]["path"] = f"/v1/payments/{ORDER_ID}"
    get["pathParameters"] = {"order_id": ORDER_ID}
    view = _answer(handlers["initiate"].lambda_handler(get, lambda_context), 200)
    assert (view["status"], view["paid_amount"]) == ("PAID", "120.00")
    sequence = httpx.get(f"{paytm.url}/_sim/requests", params={"order_id": ORDER_ID}).json()["sequence"]
    assert sequence.count("/order/directPay") == 1
    assert sequence[-1] == "/merchant-status/getTxnStatus"
