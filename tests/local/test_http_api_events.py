"""The HTTP API front end builds real payload-2.0 events and maps answers back like API Gateway."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tijori_local.asgi_server import AsgiServer
from tijori_local.http_api import API_GATEWAY_MAX_BODY_BYTES, HttpRoute, build_http_api

ROUTES = [
    HttpRoute(method="GET", path="/v1/payouts/{order_id}", function="Initiate", open_route=False),
    HttpRoute(method="POST", path="/v1/callbacks/pg", function="Callback", open_route=True),
]


Invoker = Callable[[str, dict[str, Any]], Any]


@pytest.fixture
def serve() -> Iterator[Callable[[Invoker], httpx.Client]]:
    """Serve the front end over real HTTP on 127.0.0.1 with the given invoker."""
    servers: list[AsgiServer] = []

    def start(invoke: Invoker) -> httpx.Client:
        server = AsgiServer(build_http_api(ROUTES, invoke, api_token=None)).start()
        servers.append(server)
        return httpx.Client(base_url=server.url)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def answering(
    serve: Callable[[Invoker], httpx.Client],
) -> Callable[[Any], tuple[httpx.Client, list[tuple[str, dict[str, Any]]]]]:
    def make(answer: Any) -> tuple[httpx.Client, list[tuple[str, dict[str, Any]]]]:
        seen: list[tuple[str, dict[str, Any]]] = []

        def invoke(function: str, event: dict[str, Any]) -> Any:
            seen.append((function, event))
            return answer

        return serve(invoke), seen

    return make


Answering = Callable[[Any], tuple[httpx.Client, list[tuple[str, dict[str, Any]]]]]


def test_event_carries_path_parameters_query_headers_cookies_and_context(answering: Answering) -> None:
    client, seen = answering({"statusCode": 200, "body": "{}"})
    client.get(
        "/v1/payouts/ORD-9?verbose=1&tag=a&tag=b",
        headers={"X-Merchant": "m1", "Cookie": "session=abc; theme=dark"},
    )
    function, event = seen[0]
    assert function == "Initiate"
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /v1/payouts/{order_id}"
    assert event["pathParameters"] == {"order_id": "ORD-9"}
    assert event["queryStringParameters"] == {"verbose": "1", "tag": "a,b"}
    assert event["rawQueryString"] == "verbose=1&tag=a&tag=b"
    assert event["headers"]["x-merchant"] == "m1"
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["requestContext"]["http"]["method"] == "GET"
    assert "iam" in event["requestContext"]["authorizer"]


def test_form_body_arrives_base64_encoded_and_open_routes_have_no_authorizer(answering: Answering) -> None:
    client, seen = answering({"statusCode": 200, "body": "ok"})
    client.post(
        "/v1/callbacks/pg", content=b"A=1&B=2", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    _, event = seen[0]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"A=1&B=2"
    assert "authorizer" not in event["requestContext"]


def test_json_body_arrives_as_text(answering: Answering) -> None:
    client, seen = answering({"statusCode": 200, "body": "ok"})
    client.post("/v1/callbacks/pg", json={"a": "₹"})
    _, event = seen[0]
    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == {"a": "₹"}


def test_response_status_headers_cookies_and_base64_body_are_mapped_back(answering: Answering) -> None:
    client, _ = answering(
        {
            "statusCode": 201,
            "headers": {"x-answer": "42"},
            "cookies": ["a=1"],
            "body": base64.b64encode(b"\x00\x01binary").decode(),
            "isBase64Encoded": True,
        }
    )
    response = client.get("/v1/payouts/X")
    assert response.status_code == 201
    assert response.headers["x-answer"] == "42"
    assert response.headers["set-cookie"] == "a=1"
    assert response.content == b"\x00\x01binary"


def test_bare_result_becomes_200_json(answering: Answering) -> None:
    client, _ = answering({"hello": "world"})
    response = client.get("/v1/payouts/X")
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}


def test_handler_exception_is_api_gateways_500_and_wrong_method_is_404(
    serve: Callable[[Invoker], httpx.Client],
) -> None:
    def failing(function: str, event: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    client = serve(failing)
    assert client.get("/v1/payouts/X").json() == {"message": "Internal Server Error"}
    assert client.delete("/v1/payouts/X").status_code == 404


def test_body_over_api_gateways_10_mb_is_413_and_never_reaches_the_function(answering: Answering) -> None:
    client, seen = answering({"statusCode": 200, "body": "ok"})
    response = client.post("/v1/callbacks/pg", content=b"x" * (API_GATEWAY_MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}
    assert seen == []


def test_body_over_10_mb_without_content_length_is_413_too(answering: Answering) -> None:
    client, seen = answering({"statusCode": 200, "body": "ok"})
    chunk = b"x" * (1024 * 1024)

    def chunked() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding chunked
        for _ in range(11):
            yield chunk

    response = client.post("/v1/callbacks/pg", content=chunked())
    assert response.status_code == 413
    assert seen == []


def test_body_of_exactly_10_mb_reaches_the_function(answering: Answering) -> None:
    client, seen = answering({"statusCode": 200, "body": "ok"})
    response = client.post("/v1/callbacks/pg", content=b"x" * API_GATEWAY_MAX_BODY_BYTES)
    assert response.status_code == 200
    assert len(base64.b64decode(seen[0][1]["body"])) == API_GATEWAY_MAX_BODY_BYTES
