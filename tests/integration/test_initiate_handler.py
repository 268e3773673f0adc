"""InitiateFunction's real lambda_handler with events/*.json against moto."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import FakeLambdaContext, LocalAccount, load_event
from tests.malformed_bodies import MALFORMED_BODIES
from tijori.payouts.models import AMOUNT_PATTERN


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
    # An attempt is the default intent, so the body stays what it always was.
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
        ({"payee": {"phone": "5876543210"}}, "phone"),
        ({"metadata": {"": "x"}}, "metadata"),
        ({"metadata": {"campaign": {"nested": "map"}}}, "campaign"),
        ({"narration": "paid\x1b[31m"}, "narration"),
        ({"narration": "refund \u202eevil"}, "narration"),
        ({"pending_days_limit": True}, "pending_days_limit"),
        ({"pending_days_limit": "3"}, "pending_days_limit"),
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


def _raw_post(
    module: ModuleType, context: FakeLambdaContext, body: bytes, content_type: str | None = "application/json"
) -> tuple[int, dict[str, Any]]:
    """POST `body` as API Gateway delivers bytes it does not treat as text: base64-encoded."""
    event = load_event("initiate_create_payout")
    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    del event["headers"]["content-type"]
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    response = module.lambda_handler(event, context)
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(("body", "content_type", "status", "problem_type"), MALFORMED_BODIES)
def test_malformed_body_is_a_4xx_naming_the_problem_and_stores_nothing(
    initiate: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    body: bytes,
    content_type: str | None,
    status: int,
    problem_type: str,
) -> None:
    answered, problem = _raw_post(initiate, lambda_context, body, content_type)
    assert (answered, problem["statusCode"]) == (status, status)
    assert problem["message"]
    assert [entry["type"] for entry in problem["detail"]] == [problem_type], problem
    assert all(entry["field"] and entry["loc"] and entry["msg"] for entry in problem["detail"])
    assert function_env.table.scan()["Count"] == 0


def test_duplicate_key_is_400_naming_the_key_and_the_last_value_never_wins(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    body = (
        b'{"order_id": "ORD-DUP-1", "amount": "1.00", "payee": {"phone": "9876543210"}, "amount": "9999.00"}'
    )
    status, problem = _raw_post(initiate, lambda_context, body)
    assert status == 400
    assert problem["detail"][0]["field"] == "amount"
    assert problem["detail"][0]["type"] == "json_duplicate_key"
    assert function_env.table.scan()["Count"] == 0


def test_json_body_of_the_largest_valid_request_is_accepted(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    body = {
        "order_id": "ORD-BIG-1",
        "amount": "1.00",
        "payee": {"email": "a" * 240 + "@example.in"},
        "narration": "\U0001f600" * 100,
        "metadata": {f"{index:02d}" + "\U0001f600" * 62: "\U0001f600" * 256 for index in range(20)},
    }
    status, _ = _raw_post(initiate, lambda_context, json.dumps(body).encode())  # ensure_ascii: \u escapes
    assert status == 202


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


def _openapi_document(module: ModuleType, context: FakeLambdaContext) -> dict[str, Any]:
    event = load_event("initiate_get_payout")
    event.update(rawPath="/v1/openapi.json", routeKey="GET /v1/openapi.json", pathParameters={})
    event["requestContext"]["http"]["path"] = "/v1/openapi.json"
    response = module.lambda_handler(event, context)
    assert response["statusCode"] == 200
    document: dict[str, Any] = json.loads(response["body"])
    return document


def test_openapi_document_describes_the_payout_request(
    initiate: ModuleType, lambda_context: FakeLambdaContext
) -> None:
    schema = _openapi_document(initiate, lambda_context)
    assert "PayoutRequest" in schema["components"]["schemas"]
    assert "/v1/payouts" in schema["paths"]


def test_openapi_document_says_amount_is_a_decimal_string_only(
    initiate: ModuleType, lambda_context: FakeLambdaContext
) -> None:
    amount = _openapi_document(initiate, lambda_context)["components"]["schemas"]["PayoutRequest"][
        "properties"
    ]["amount"]
    assert amount["type"] == "string"
    assert amount["pattern"] == AMOUNT_PATTERN
    assert "anyOf" not in amount


@pytest.mark.parametrize(
    ("path", "method", "answers"),
    [
        (
            "/v1/payouts",
            "post",
            {
                "202": "PayoutView",
                "400": "Problem",
                "403": "GatewayRefusal",
                "409": "PayoutConflictProblem",
                "413": "Problem",
                "415": "Problem",
                "422": "Problem",
                "503": "Problem",
            },
        ),
        (
            "/v1/payouts/{order_id}",
            "get",
            {
                "200": "PayoutView",
                "403": "GatewayRefusal",
                "404": "Problem",
                "422": "Problem",
                "503": "Problem",
            },
        ),
    ],
)
def test_openapi_document_lists_every_answer_of_each_route_with_its_body(
    initiate: ModuleType, lambda_context: FakeLambdaContext, path: str, method: str, answers: dict[str, str]
) -> None:
    responses = _openapi_document(initiate, lambda_context)["paths"][path][method]["responses"]
    documented = {
        status: answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        for status, answer in responses.items()
    }
    assert documented == answers


def test_openapi_document_names_sigv4_as_the_auth_of_every_route(
    initiate: ModuleType, lambda_context: FakeLambdaContext
) -> None:
    document = _openapi_document(initiate, lambda_context)
    assert document["components"]["securitySchemes"]["sigv4"] == {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "description": "AWS Signature Version 4 (API Gateway IAM authorization)",
        "x-amazon-apigateway-authtype": "awsSigv4",
    }
    assert document["security"] == [{"sigv4": []}]
    operations = [operation for item in document["paths"].values() for operation in item.values()]
    assert all(operation.get("security", document["security"]) == [{"sigv4": []}] for operation in operations)


def test_swagger_ui_page_is_served(initiate: ModuleType, lambda_context: FakeLambdaContext) -> None:
    event = load_event("initiate_get_payout")
    event.update(rawPath="/v1/swagger", routeKey="GET /v1/swagger", pathParameters={})
    event["requestContext"]["http"]["path"] = "/v1/swagger"
    response = initiate.lambda_handler(event, lambda_context)
    assert response["statusCode"] == 200
    assert "swagger" in response["body"].lower()
    assert response["headers"]["Content-Type"].startswith("text/html")
