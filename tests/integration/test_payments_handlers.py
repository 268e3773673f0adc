"""Payments and refunds through the real lambda_handlers with events/*.json, against moto and the
simulator over HTTP (a payment's create calls initiateTransaction from the request)."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities import parameters

from tests.conftest import FIXTURES_DIR as FIXTURES
from tests.conftest import FakeLambdaContext, LocalAccount, load_event
from tijori_local.sim import SimServer


def load_handler_module(name: str) -> ModuleType:
    from tijori_local.functions import load_function_module

    return load_function_module(name)


def _get_event(order_id: str) -> dict[str, Any]:
    event = load_event("initiate_get_payout")
    path = f"/v1/payments/{order_id}"
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /v1/payments/{order_id}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"order_id": order_id}
    return event


@pytest.fixture
def initiate(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("initiate")


def _create(initiate: ModuleType, context: FakeLambdaContext, **changes: Any) -> dict[str, Any]:
    event = load_event("initiate_create_payment")
    if changes:
        event["body"] = json.dumps({**json.loads(event["body"]), **changes})
    response: dict[str, Any] = initiate.lambda_handler(event, context)
    return response


def test_create_payment_event_answers_201_with_the_checkout_and_stores_it(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount, paytm: SimServer
) -> None:
    response = _create(initiate, lambda_context)
    assert response["statusCode"] == 201, response["body"]
    payment = json.loads(response["body"])
    assert payment["status"] == "CREATED"
    masked = {"customer_id": "CUST_EVT_1", "phone": "********10", "email": "a***@example.in"}
    assert payment["customer"] == masked
    checkout = payment["checkout"]
    assert checkout["order_id"] == "PAY-EVT-0001"
    assert checkout["amount"] == "499.00"
    assert checkout["txn_token"]
    assert checkout["mid"] == json.loads((FIXTURES / "merchant_credentials.json").read_text())["mid"]
    # The order exists at Paytm with Tijori's own callback URL (from the request's host).
    order = httpx.get(f"{paytm.url}/_sim/orders/PAY-EVT-0001").json()
    assert order["txnToken"] == checkout["txn_token"]
    assert order["amount"] in ("499.00", 499, "499")


def _pay(paytm: SimServer, order_id: str = "PAY-EVT-0001") -> None:
    outcome = {"outcome": "SUCCESS", "payment_mode": "NB"}
    answer = httpx.post(f"{paytm.url}/_sim/pg/checkout/{order_id}", json=outcome)
    assert answer.status_code == 200, answer.text


def test_refund_event_reserves_the_amount_and_queues_the_refund(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount, paytm: SimServer
) -> None:
    assert _create(initiate, lambda_context)["statusCode"] == 201
    _pay(paytm)
    payout = load_handler_module("payout")
    event = load_event("payout_sqs_payment_check")
    assert payout.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    paid = json.loads(initiate.lambda_handler(_get_event("PAY-EVT-0001"), lambda_context)["body"])
    assert paid["status"] == "PAID"
    response = initiate.lambda_handler(load_event("initiate_create_refund"), lambda_context)
    assert response["statusCode"] == 202, response["body"]
    assert json.loads(response["body"])["status"] == "ACCEPTED"
    queued = [json.loads(m["Body"]) for m in function_env.receive_all(function_env.queue_url)]
    assert {"kind": "refund", "id": "RF-EVT-0001"} in queued
    after = json.loads(initiate.lambda_handler(_get_event("PAY-EVT-0001"), lambda_context)["body"])
    assert after["refundable_amount"] == "399.00"


def _paid_with_refund(initiate: ModuleType, context: FakeLambdaContext, paytm: SimServer) -> ModuleType:
    assert _create(initiate, context)["statusCode"] == 201
    _pay(paytm)
    payout = load_handler_module("payout")
    assert payout.lambda_handler(load_event("payout_sqs_payment_check"), context) == {"batchItemFailures": []}
    assert initiate.lambda_handler(load_event("initiate_create_refund"), context)["statusCode"] == 202
    return payout


def test_refund_message_sends_the_refund_with_its_refid_and_settles_it(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount, paytm: SimServer
) -> None:
    payout = _paid_with_refund(initiate, lambda_context, paytm)
    assert payout.lambda_handler(load_event("payout_sqs_refund"), lambda_context) == {"batchItemFailures": []}
    refund = function_env.dynamodb.get_item(
        TableName=function_env.stack.ref("RefundsTable"), Key={"refund_id": {"S": "RF-EVT-0001"}}
    )["Item"]
    assert refund["status"]["S"] == "SUCCESS"
    assert refund["paytm_refund_id"]["S"]
    order = httpx.get(f"{paytm.url}/_sim/orders/PAY-EVT-0001").json()
    assert [r["refId"] for r in order["refunds"]] == ["RF-EVT-0001"]
    # A second delivery of the same message sends nothing more.
    assert payout.lambda_handler(load_event("payout_sqs_refund"), lambda_context) == {"batchItemFailures": []}
    assert len(httpx.get(f"{paytm.url}/_sim/orders/PAY-EVT-0001").json()["refunds"]) == 1


def test_status_poller_checks_one_payment_and_one_refund_by_kind(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount, paytm: SimServer
) -> None:
    assert _create(initiate, lambda_context)["statusCode"] == 201
    _pay(paytm)
    poller = load_handler_module("status_poller")
    checked = poller.lambda_handler(load_event("status_poller_payment_check"), lambda_context)
    assert checked == {"kind": "payment", "id": "PAY-EVT-0001", "result": "PAID"}
    assert initiate.lambda_handler(load_event("initiate_create_refund"), lambda_context)["statusCode"] == 202
    # Queued, not yet sent: the check leaves an ACCEPTED refund to its attempt (queues it again).
    refund_check = poller.lambda_handler(load_event("status_poller_refund_check"), lambda_context)
    assert refund_check["result"] == "requeued"


def test_the_pending_checks_task_runs_every_kind_and_reports_each(
    lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    poller = load_handler_module("status_poller")
    done = poller.lambda_handler(load_event("pending_checks_run"), lambda_context)
    assert set(done["by_kind"]) == {"payout", "validation", "payment", "refund"}
    assert done["more"] is False
    assert done["round"] == 1


def test_a_malformed_payment_or_refund_message_fails_alone_to_the_dlq_path(
    lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    payout = load_handler_module("payout")
    event = load_event("payout_sqs_refund")
    event["Records"][0]["body"] = json.dumps({"kind": "payment", "id": "PAY-EVT-0001"})  # a payment attempt
    failures = payout.lambda_handler(event, lambda_context)["batchItemFailures"]
    assert failures == [{"itemIdentifier": event["Records"][0]["messageId"]}]


def test_paytm_answers_that_create_nothing_are_a_4xx_or_502_naming_paytms_code_never_a_500(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount, paytm: SimServer
) -> None:
    # Tijori's own rules first: nothing reaches Paytm.
    response = _create(initiate, lambda_context, customer={"customer_id": "CUST#1"})
    assert response["statusCode"] == 422
    assert "customer.customer_id" in response["body"]
    # Paytm's 5xx: no usable answer, 502, retry with the same body.
    fault = {"kind": "http_500", "path": "/theia/api/v1/initiateTransaction", "order_id": "PAY-EVT-0001"}
    httpx.post(f"{paytm.url}/_sim/faults", json=fault).raise_for_status()
    failed = _create(initiate, lambda_context)
    assert failed["statusCode"] == 502
    assert "retry with the same body" in json.loads(failed["body"])["message"]
    # The retry creates the order, once.
    assert _create(initiate, lambda_context)["statusCode"] == 201
    # The order id taken at Paytm by another body: Paytm's 2023, named.
    other = _create(initiate, lambda_context, amount="1.00")
    assert other["statusCode"] == 409  # Tijori's own stored body differs first
    assert json.loads(other["body"])["conflicting_fields"] == ["amount"]


def test_a_verified_pg_callback_for_a_payment_asks_for_its_check_and_redirects_the_browser(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount, paytm: SimServer
) -> None:
    assert _create(initiate, lambda_context)["statusCode"] == 201
    callback = load_handler_module("callback")
    response = callback.lambda_handler(load_event("callback_pg_payment"), lambda_context)
    assert response["statusCode"] == 303
    assert response["headers"]["Location"] == "https://shop.example/orders/PAY-EVT-0001?order_id=PAY-EVT-0001"
    queued = [json.loads(m["Body"]) for m in function_env.receive_all(function_env.queue_url)]
    assert queued == [{"kind": "payment", "id": "PAY-EVT-0001", "intent": "check"}]
    # The callback changed nothing: only the status API's answer does.
    view = json.loads(initiate.lambda_handler(_get_event("PAY-EVT-0001"), lambda_context)["body"])
    assert view["status"] == "CREATED"


def test_a_forged_pg_callback_for_a_payment_is_401_and_asks_for_nothing(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount, paytm: SimServer
) -> None:
    assert _create(initiate, lambda_context)["statusCode"] == 201
    callback = load_handler_module("callback")
    response = callback.lambda_handler(load_event("callback_pg_payment_forged"), lambda_context)
    assert response["statusCode"] == 401
    assert function_env.receive_all(function_env.queue_url) == []
    view = json.loads(initiate.lambda_handler(_get_event("PAY-EVT-0001"), lambda_context)["body"])
    assert [step["to"] for step in view["history"]] == ["CREATED"]


def test_a_pg_key_paytm_does_not_know_is_502_naming_its_code_and_the_retry_after_the_fix_creates_it(
    initiate: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
    merchant_credentials: dict[str, Any],
) -> None:
    secret_id = function_env.stack.ref("MerchantSecret")
    wrong = {**merchant_credentials, "pg": {**merchant_credentials["pg"], "merchant_key": "WRONG-PG-KEY-16b"}}
    function_env.secretsmanager.put_secret_value(SecretId=secret_id, SecretString=json.dumps(wrong))
    parameters.clear_caches()
    refused = _create(initiate, lambda_context)
    assert refused["statusCode"] == 502
    problem = json.loads(refused["body"])
    assert problem["paytm_code"] == "2005"
    # Our configuration, not the payment: it is not FAILED, and the retry after the fix creates it.
    function_env.secretsmanager.put_secret_value(
        SecretId=secret_id, SecretString=json.dumps(merchant_credentials)
    )
    parameters.clear_caches()
    created = _create(initiate, lambda_context)
    assert created["statusCode"] == 201
    assert json.loads(created["body"])["checkout"]["txn_token"]
