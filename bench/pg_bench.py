"""POST /v1/payments latency through the local runtime: InitiateFunction validates, stores the
payment, calls the simulator's initiateTransaction over HTTP (signed body, signed answer
verified), records the txnToken and answers the checkout.

`pg.initiate_p50_ms` / `_p99_ms`: sequential requests with unique order ids over one keep-alive
connection, after a warm-up. `pg.direct_initiate_p50_ms`: the same initiateTransaction sent
straight to the simulator by the bench (what Paytm's part costs here), interleaved request by
request with Tijori's so the machine's noise weighs on both; `pg.initiate_p50_ratio` is the one
over the other (what Tijori adds: the API front, validation, two table writes, one read, signing).
"""

from __future__ import annotations

import json
import secrets
import statistics
import time

import httpx

from tijori_local.runtime import LocalRuntime, RuntimeOptions
from tijori_local.sim.pg_api import INITIATE_PATH, initiate_body, signed_request

WARMUP = 20
REQUESTS = 200


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return round(statistics.median(samples), 2), round(cuts[98], 2)


def run() -> dict[str, float]:
    token = secrets.token_urlsafe(24)
    with LocalRuntime(RuntimeOptions(api_port=0, api_token=token)) as runtime:
        credentials = runtime.credentials
        mid, key = credentials.mid, credentials.pg.merchant_key.get_secret_value()
        tijori_ms: list[float] = []
        direct_ms: list[float] = []
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(timeout=30) as client:
            for n in range(WARMUP + REQUESTS):
                body = {
                    "order_id": f"BENCH-PG-{n:06d}",
                    "amount": f"{1 + n % 500}.{n % 100:02d}",
                    "currency": "INR",
                    "customer": {"customer_id": f"CUST_{n}", "phone": "9876543210"},
                }
                started = time.perf_counter()
                answer = client.post(
                    f"{runtime.api_url}/v1/payments", content=json.dumps(body), headers=headers
                )
                tijori = (time.perf_counter() - started) * 1000
                if answer.status_code != 201:
                    raise RuntimeError(f"{body['order_id']}: {answer.status_code} {answer.text[:200]}")
                order_id = f"BENCH-PG-DIRECT-{n:06d}"
                raw = signed_request(
                    initiate_body(mid, order_id, txnAmount={"value": body["amount"], "currency": "INR"}), key
                )
                started = time.perf_counter()
                direct = client.post(
                    f"{runtime.sim_url}{INITIATE_PATH}?mid={mid}&orderId={order_id}",
                    content=raw,
                    headers={"Content-Type": "application/json"},
                )
                direct_elapsed = (time.perf_counter() - started) * 1000
                if direct.json()["body"]["resultInfo"]["resultCode"] != "0000":
                    raise RuntimeError(f"{order_id}: {direct.text[:200]}")
                if n >= WARMUP:
                    tijori_ms.append(tijori)
                    direct_ms.append(direct_elapsed)
    p50, p99 = _percentiles(tijori_ms)
    direct_p50, _ = _percentiles(direct_ms)
    return {
        "pg.initiate_p50_ms": p50,
        "pg.initiate_p99_ms": p99,
        "pg.direct_initiate_p50_ms": direct_p50,
        "pg.initiate_p50_ratio": round(p50 / direct_p50, 2),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
