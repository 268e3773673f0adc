"""Throughput of the Paytm simulator's salesToUserCredit: `sim.sales_to_user_credit_per_s`.

The simulator runs as its own process (`python -m tijori_local.sim.cli`, what `tijori-sim` runs),
so its event loop does not share a GIL with the load generator. A few worker threads, each with a
pooled httpx client, send signed requests with fresh order ids for a fixed time; only answers
that are HTTP 200 with `status: SUCCESS` count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from paytm_signing import generate_signature
from tijori_local.sim.client import EXAMPLE_CREDENTIALS, example_credentials, sales_to_user_credit_body
from tijori_local.sim.wire import dumps

DURATION_SECONDS = 5.0
WARMUP_SECONDS = 0.5
WORKERS = 4
PAYEE_PHONE = "7777777777"
_STARTUP_TIMEOUT = 20.0


def _start_simulator(credentials_file: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tijori_local.sim.cli", "--port", "0", "--credentials", str(credentials_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("SIM_URL="):
            return process, line.strip().split("=", 1)[1]
        if not line and process.poll() is not None:
            break
    process.kill()
    raise RuntimeError("the simulator did not announce SIM_URL")


def _worker(
    url: str, worker: int, stop_at: float, count_from: float, counts: list[int], errors: list[int]
) -> None:
    credentials = example_credentials()
    key = credentials.merchant_key.get_secret_value()
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    with httpx.Client(base_url=url, timeout=10.0, limits=limits) as client:
        n = 0
        while True:
            now = time.monotonic()
            if now >= stop_at:
                return
            n += 1
            body = dumps(
                sales_to_user_credit_body(credentials, f"BENCH-{worker}-{n}", payeePhoneNumber=PAYEE_PHONE)
            )
            headers = {
                "Content-Type": "application/json",
                "mid": credentials.mid,
                "checksumhash": generate_signature(body, key),
            }
            try:
                response = client.post("/wallet-web/salesToUserCredit", content=body, headers=headers)
                ok = response.status_code == 200 and response.json()["status"] == "SUCCESS"
            except (httpx.HTTPError, ValueError):
                ok = False
            if time.monotonic() >= count_from:
                if ok:
                    counts[worker] += 1
                else:
                    errors[worker] += 1


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        credentials_file = Path(tmp) / "credentials.json"
        credentials_file.write_text(json.dumps(EXAMPLE_CREDENTIALS), encoding="utf-8")
        process, url = _start_simulator(credentials_file)
        try:
            httpx.post(
                # The seed's sample body asks applyVerifiedUser "3": mobile and email verified.
                f"{url}/_sim/users",
                content=json.dumps({"phone": PAYEE_PHONE, "email": "bench.payee@example.com"}),
                timeout=10,
            ).raise_for_status()
            counts, errors = [0] * WORKERS, [0] * WORKERS
            start = time.monotonic()
            count_from = start + WARMUP_SECONDS
            stop_at = count_from + DURATION_SECONDS
            threads = [
                threading.Thread(target=_worker, args=(url, i, stop_at, count_from, counts, errors))
                for i in range(WORKERS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            conserved = httpx.get(f"{url}/_sim/conservation", timeout=30).json()["ok"]
        finally:
            process.terminate()
            process.wait(10)
    if not conserved:
        raise RuntimeError("the simulator lost or created money under load")
    if sum(errors) or not sum(counts):
        raise RuntimeError(
            f"{sum(errors)} credits failed, {sum(counts)} succeeded: the figure would be a lie"
        )
    return {
        "sim.sales_to_user_credit_per_s": sum(counts) / DURATION_SECONDS,
        "sim.sales_to_user_credit_errors": float(sum(errors)),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
