"""`bulk.rows_accepted_per_s`: one 5,000-row payout batch (CSV) through the local runtime.

POST /v1/payout-batches with 5,000 valid wallet rows (LocalRuntime with an API token, as
`tijori payouts submit` sends them), timed from the request to its 202: every row validated,
stored by a conditional write and queued. Figure: rows accepted over that time. Also
`bulk.batch_5000_s`, the request's own seconds (API Gateway ends an integration at 30 s).

The local runtime's DynamoDB is moto in the same process, writes serialised (moto_seams): the
figure is what this machine sustains, a floor for AWS, where the 32 writers' puts overlap on the
network.
"""

from __future__ import annotations

import json
import secrets
import time

import httpx

from tijori_local.runtime import LocalRuntime, RuntimeOptions

ROWS = 5_000
WARMUP_ROWS = 50


def _csv(prefix: str, count: int) -> bytes:
    rows = ["order_id,amount,phone,mode,narration"]
    rows += [
        f"{prefix}-{n:05d},{1 + n % 500}.{n % 100:02d},9{n:09d},existing_user,bench" for n in range(count)
    ]
    return ("\n".join(rows) + "\n").encode("utf-8")


def _submit(client: httpx.Client, url: str, token: str, batch_id: str, body: bytes) -> float:
    started = time.perf_counter()
    response = client.post(
        f"{url}/v1/payout-batches",
        params={"batch_id": batch_id},
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )
    elapsed = time.perf_counter() - started
    accepted = response.json()["accepted"]["new"] if response.status_code == 202 else None
    if accepted != body.count(b"\n") - 1:
        raise RuntimeError(f"{batch_id}: {response.status_code} {response.text[:300]}")
    return elapsed


def run() -> dict[str, float]:
    token = secrets.token_urlsafe(24)
    with (
        LocalRuntime(RuntimeOptions(api_port=0, api_token=token)) as runtime,
        httpx.Client(timeout=900) as client,
    ):
        # Warm: the function's cold start and its writer threads' tables are not the batch's.
        _submit(client, runtime.api_url, token, "BENCH-BULK-WARM", _csv("BENCH-WARM", WARMUP_ROWS))
        seconds = _submit(client, runtime.api_url, token, "BENCH-BULK-5000", _csv("BENCH-BULK", ROWS))
    return {"bulk.rows_accepted_per_s": round(ROWS / seconds, 1), "bulk.batch_5000_s": round(seconds, 2)}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
