"""Payments and refunds through the real lambda_handlers with events/*.json, against moto and the
simulator over HTTP (a payment's create calls initiateTransaction from the request)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from paytm_signing import generate_signature
from tests.conftest import FIXTURES_DIR as FIXTURES
from tests.conftest import FakeLambdaContext, LocalAccount, load_event
from tijori_local.sim import SimServer


def load_handler_module(name: str) -> ModuleType:
    from tests.conftest import load_function_module

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
    assert payment["customer"] == {"customer_id": "CUST_EVT_1", "phone": "********10", "email": "a***@example.in"}
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
    answer = httpx.post(f"{paytm.url}/_sim/pg/checkout/{order_id}", json={"outcome": "SUCCESS", "payment_mode": "NB"})
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
