"""POST /v1/payouts latency through the local runtime, beside a hand-written plain handler.

`api.payouts_post_p50_ms` / `_p99_ms`: Tijori's InitiateFunction behind the local runtime's HTTP
API (LocalRuntime with an API token, `Authorization: Bearer`), sequential requests with unique
order ids and valid bodies over one keep-alive connection, after a warm-up.
`api.plain_handler_post_p50_ms` / `_p99_ms`: bench/plain_handler (boto3 + json: a conditional
put_item and an SQS send_message) served the same way — the runtime's own HTTP front
(`build_http_api`, payload 2.0 events, the same token check, on the same uvicorn server class) —
against the same moto server, with its own table and queue. `api.payouts_post_p50_ratio` is
Tijori's p50 over the plain one's.

The two are timed in the same run and interleaved request by request, so whatever else the machine
(and the runtime's SQS poller paying the accepted payouts in the background) is doing weighs on
both alike.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import time
from typing import Any

import httpx

from tijori_local.asgi_server import AsgiServer
from tijori_local.functions import load_code_module
from tijori_local.http_api import HttpRoute, build_http_api
from tijori_local.runtime import LocalRuntime, RuntimeOptions
from tijori_local.template import PROJECT_ROOT

WARMUP = 20
REQUESTS = 300
PLAIN_FUNCTION = "PlainHandler"


def _body(order_id: str, n: int) -> bytes:
    return json.dumps(
        {
            "order_id": order_id,
            "amount": f"{1 + n % 500}.{n % 100:02d}",
            "payee": {"phone": f"9{n:09d}"},
            "mode": "existing_user",
            "narration": "bench payout",
        }
    ).encode("utf-8")


class _Context:
    function_name = PLAIN_FUNCTION
    aws_request_id = "plain"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _plain_front(runtime: LocalRuntime, token: str) -> AsgiServer:
    """bench/plain_handler behind the runtime's HTTP front, with its own table and queue."""
    dynamodb, sqs = runtime.client("dynamodb"), runtime.client("sqs")
    dynamodb.create_table(
        TableName="plain-payouts",
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    queue_url = sqs.create_queue(QueueName="plain-payouts")["QueueUrl"]
    os.environ.update({"PLAIN_TABLE_NAME": "plain-payouts", "PLAIN_QUEUE_URL": queue_url})
    handler = load_code_module(PROJECT_ROOT / "bench" / "plain_handler").lambda_handler

    def invoke(function: str, event: dict[str, Any]) -> Any:
        return handler(event, _Context())

    routes = [HttpRoute(method="POST", path="/v1/payouts", function=PLAIN_FUNCTION, open_route=False)]
    return AsgiServer(build_http_api(routes, invoke, api_token=token), port=0, name="plain-api").start()


def _post(client: httpx.Client, url: str, token: str, order_id: str, n: int) -> float:
    started = time.perf_counter()
    response = client.post(
        f"{url}/v1/payouts",
        content=_body(order_id, n),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 202:
        raise RuntimeError(f"{url}: {order_id} answered {response.status_code} {response.text[:200]}")
    return elapsed * 1000


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return round(statistics.median(samples), 2), round(cuts[98], 2)


def run() -> dict[str, float]:
    token = secrets.token_urlsafe(24)
    options = RuntimeOptions(api_port=0, api_token=token)
    with LocalRuntime(options) as runtime:
        plain = _plain_front(runtime, token)
        try:
            tijori_ms: list[float] = []
            plain_ms: list[float] = []
            with httpx.Client(timeout=30) as client:
                for n in range(WARMUP + REQUESTS):
                    order_id = f"BENCH-API-{n:06d}"
                    tijori = _post(client, runtime.api_url, token, order_id, n)
                    by_hand = _post(client, plain.url, token, order_id, n)
                    if n >= WARMUP:
                        tijori_ms.append(tijori)
                        plain_ms.append(by_hand)
        finally:
            plain.stop()
    tijori_p50, tijori_p99 = _percentiles(tijori_ms)
    plain_p50, plain_p99 = _percentiles(plain_ms)
    return {
        "api.payouts_post_p50_ms": tijori_p50,
        "api.payouts_post_p99_ms": tijori_p99,
        "api.plain_handler_post_p50_ms": plain_p50,
        "api.plain_handler_post_p99_ms": plain_p99,
        "api.payouts_post_p50_ratio": round(tijori_p50 / plain_p50, 2),
        # The names the pipeline issue (5) asked for.
        "api.post_payout_p50_ms": tijori_p50,
        "api.post_payout_p99_ms": tijori_p99,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
