"""InitiateFunction's real lambda_handler with events/*.json against moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import FakeLambdaContext, LocalAccount, load_event


def _post(module: ModuleType, context: FakeLambdaContext, body: dict[str, Any]) -> dict[str, Any]:
    event = load_event("initiate_create_payout")
    event["body"] = json.dumps(body)
    response: dict[str, Any] = module.lambda_handler(event, context)
    return response


@pytest.fixture
def initiate(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("initiate")


def test_create_payout_event_answers_202_stores_and_queues(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    response = initiate.lambda_handler(load_event("initiate_create_payout"), lambda_context)
    assert response["statusCode"] == 202
    payout = json.loads(response["body"])
    assert payout["status"] == "ACCEPTED"
    assert payout["amount"] == "125.50"
    assert payout["payee"] == {"phone": "********10"}
    assert payout["history"][0]["to"] == "ACCEPTED"
    item = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    assert item["amount"] == "125.50"
    assert item["sweep_bucket"].startswith("due-")  # a shard of the due index
    messages = function_env.receive_all(function_env.queue_url)
    assert [json.loads(m["Body"]) for m in messages] == [{"order_id": "ORD-EVT-0001"}]


def test_identical_replay_returns_the_stored_payout_and_creates_nothing(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    first = initiate.lambda_handler(load_event("initiate_create_payout"), lambda_context)
    second = initiate.lambda_handler(load_event("initiate_create_payout"), lambda_context)
    assert second["statusCode"] == 202
    assert json.loads(second["body"])["created_at"] == json.loads(first["body"])["created_at"]
    assert function_env.table.scan()["Count"] == 1


def test_same_order_id_with_another_amount_is_409_naming_the_field(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    body = json.loads(load_event("initiate_create_payout")["body"])
    assert _post(initiate, lambda_context, body)["statusCode"] == 202
    response = _post(initiate, lambda_context, {**body, "amount": "999.00"})
    assert response["statusCode"] == 409
    problem = json.loads(response["body"])
    assert problem["conflicting_fields"] == ["amount"]
    stored = function_env.table.get_item(Key={"order_id": body["order_id"]})["Item"]
    assert stored["amount"] == "125.50"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0.50"}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"order_id": "bad id!"}, "order_id"),
        ({"payee": {"phone": "123"}}, "phone"),
        ({"currency": "USD"}, "currency"),
        ({"unexpected": True}, "unexpected"),
    ],
)
def test_invalid_body_is_422_naming_the_field_and_stores_nothing(
    initiate: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {**json.loads(load_event("initiate_create_payout")["body"]), **change}
    response = _post(initiate, lambda_context, body)
    assert response["statusCode"] == 422
    details = json.loads(response["body"])["detail"]
    assert any(field in [str(part) for part in d["loc"]] and d.get("msg") for d in details), details
    assert function_env.table.scan()["Count"] == 0


def test_body_that_is_not_json_is_a_4xx(initiate: ModuleType, lambda_context: FakeLambdaContext) -> None:
    event = load_event("initiate_create_payout")
    event["body"] = "{not json"
    assert 400 <= initiate.lambda_handler(event, lambda_context)["statusCode"] < 500


def test_get_payout_event_returns_the_masked_payout(
    initiate: ModuleType, lambda_context: FakeLambdaContext
) -> None:
    initiate.lambda_handler(load_event("initiate_create_payout"), lambda_context)
    response = initiate.lambda_handler(load_event("initiate_get_payout"), lambda_context)
    assert response["statusCode"] == 200
    payout = json.loads(response["body"])
    assert payout["order_id"] == "ORD-EVT-0001"
    assert "9876543210" not in response["body"]


def test_get_unknown_payout_is_404(initiate: ModuleType, lambda_context: FakeLambdaContext) -> None:
    assert initiate.lambda_handler(load_event("initiate_get_payout"), lambda_context)["statusCode"] == 404


def test_openapi_document_describes_the_payout_request(
    initiate: ModuleType, lambda_context: FakeLambdaContext
) -> None:
    event = load_event("initiate_get_payout")
    event.update(rawPath="/v1/openapi.json", routeKey="GET /v1/openapi.json", pathParameters={})
    event["requestContext"]["http"]["path"] = "/v1/openapi.json"
    response = initiate.lambda_handler(event, lambda_context)
    assert response["statusCode"] == 200
    schema = json.loads(response["body"])
    assert "PayoutRequest" in schema["components"]["schemas"]
    assert "/v1/payouts" in schema["paths"]


def test_swagger_ui_page_is_served(initiate: ModuleType, lambda_context: FakeLambdaContext) -> None:
    event = load_event("initiate_get_payout")
    event.update(rawPath="/v1/swagger", routeKey="GET /v1/swagger", pathParameters={})
    event["requestContext"]["http"]["path"] = "/v1/swagger"
    response = initiate.lambda_handler(event, lambda_context)
    assert response["statusCode"] == 200
    assert "swagger" in response["body"].lower()
    assert response["headers"]["Content-Type"].startswith("text/html")
