"""Throughput of the Paytm simulator's salesToUserCredit, with and without pending credits held.

Figures:

- `sim.sales_to_user_credit_per_s`: successful signed credits per second, nothing pending;
- `sim.sales_to_user_credit_per_s_5000_pending`: the same with 5,000 PENDING credits held;
- `sim.throughput_ratio_5000_pending`: the second divided by the first (target >= 0.9: a request
  must not cost more because unrelated credits are pending);
- `sim.sales_to_user_credit_errors`: credits that did not succeed in the timed part (must be 0).

Two simulators run as their own processes (`python -m tijori_local.sim.cli`, what `tijori-sim`
runs), so their event loops do not share a GIL with the load generator: one empty, one holding
5,000 PENDING credits made through its own API before any timing (signed salesToUserCredit with
`appliedToNewUsers` Y to 5,000 phones no user has: STUC_1001). Both are measured in this one run,
in interleaved rounds (ABBA order, so drift on a shared machine hits both alike). In a round a few
worker threads, each with a pooled httpx client, send signed requests with fresh order ids for a
fixed time; only answers that are HTTP 200 with `status: SUCCESS` count. Afterwards each
simulator must conserve money and the loaded one must still hold exactly its 5,000 credits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from paytm_signing import MerchantCredentials, generate_signature
from tijori_local.sim.client import EXAMPLE_CREDENTIALS, example_credentials, sales_to_user_credit_body
from tijori_local.sim.wire import dumps

ROUNDS = 5
ROUND_SECONDS = 1.0
"""Counted time per simulator: ROUNDS * ROUND_SECONDS (5 s each)."""
WARMUP_SECONDS = 0.25
"""Per round, before counting starts (connections opened, caches warm)."""
WORKERS = 4
PAYEE_PHONE = "7777777777"
PENDING_CREDITS = 5000
PENDING_PHONE_BASE = 6_000_000_000
"""Pending credits go to 6000000000, 6000000001, ...: valid phones no user has."""
AMOUNT = Decimal("1.00")
SUB_WALLET_BALANCE = Decimal("20000000.00")
"""Set on the sales sub-wallet of both simulators before anything: room for the pending holds and
every timed credit (a few thousand a second at most, 1.00 each)."""
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


@contextmanager
def _simulator(credentials_file: Path) -> Iterator[str]:
    process, url = _start_simulator(credentials_file)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _credit(
    client: httpx.Client, credentials: MerchantCredentials, order_id: str, **fields: Any
) -> dict[str, Any] | None:
    """One signed salesToUserCredit; its JSON answer, or None when it did not come back as one."""
    body = dumps(sales_to_user_credit_body(credentials, order_id, amount=str(AMOUNT), **fields))
    headers = {
        "Content-Type": "application/json",
        "mid": credentials.mid,
        "checksumhash": generate_signature(body, credentials.wallet.checksum_key.current),
    }
    try:
        response = client.post("/wallet-web/salesToUserCredit", content=body, headers=headers)
        answer = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return answer if isinstance(answer, dict) else None


def _client(url: str) -> httpx.Client:
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    return httpx.Client(base_url=url, timeout=30.0, limits=limits)


def _in_workers(target: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _hold_pending(url: str) -> None:
    """PENDING_CREDITS pending credits (STUC_1001: no such user, appliedToNewUsers Y, 5 days)."""
    credentials = example_credentials()
    refused: list[str] = []

    def work(worker: int) -> None:
        with _client(url) as client:
            for n in range(worker, PENDING_CREDITS, WORKERS):
                answer = _credit(
                    client,
                    credentials,
                    f"HOLD-{n}",
                    payeePhoneNumber=str(PENDING_PHONE_BASE + n),
                    appliedToNewUsers="Y",
                    pendingDaysLimit="5",
                )
                if answer is None or (answer["status"], answer["statusCode"]) != ("PENDING", "STUC_1001"):
                    refused.append(f"HOLD-{n}: {answer}")

    _in_workers(work)
    if refused:
        raise RuntimeError(f"{len(refused)} credits did not pend, e.g. {refused[0]}")


def _prepare(url: str, *, pending: bool) -> None:
    funding = {"guid": EXAMPLE_CREDENTIALS["wallet"]["sales_wallet_guid"], "balance": str(SUB_WALLET_BALANCE)}
    httpx.post(f"{url}/_sim/balances", content=json.dumps(funding), timeout=10).raise_for_status()
    httpx.post(
        # The seed's sample body asks applyVerifiedUser "3": mobile and email verified.
        f"{url}/_sim/users",
        content=json.dumps({"phone": PAYEE_PHONE, "email": "bench.payee@example.com"}),
        timeout=10,
    ).raise_for_status()
    if pending:
        _hold_pending(url)


def _round(url: str, label: str, number: int) -> tuple[int, int]:
    """One timed round: (successful credits, failed ones) in ROUND_SECONDS after the warm-up."""
    credentials = example_credentials()
    counts, errors = [0] * WORKERS, [0] * WORKERS
    count_from = time.monotonic() + WARMUP_SECONDS
    stop_at = count_from + ROUND_SECONDS

    def work(worker: int) -> None:
        with _client(url) as client:
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                order_id = f"BENCH-{label}-{number}-{worker}-{n}"
                answer = _credit(client, credentials, order_id, payeePhoneNumber=PAYEE_PHONE)
                ok = answer is not None and answer["status"] == "SUCCESS"
                if time.monotonic() >= count_from:
                    if ok:
                        counts[worker] += 1
                    else:
                        errors[worker] += 1

    _in_workers(work)
    return sum(counts), sum(errors)


def _check(url: str, *, held: Decimal) -> None:
    report = httpx.get(f"{url}/_sim/conservation", timeout=60).json()
    if not report["ok"]:
        raise RuntimeError(f"the simulator lost or created money under load: {report['problems'][:3]}")
    if Decimal(str(report["held"])) != held:
        raise RuntimeError(f"the simulator holds {report['held']} for pending credits, expected {held}")


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        credentials_file = Path(tmp) / "credentials.json"
        credentials_file.write_text(json.dumps(EXAMPLE_CREDENTIALS), encoding="utf-8")
        with _simulator(credentials_file) as empty, _simulator(credentials_file) as loaded:
            _prepare(empty, pending=False)
            _prepare(loaded, pending=True)
            totals = {"empty": [0, 0], "loaded": [0, 0]}
            urls = {"empty": empty, "loaded": loaded}
            for number in range(ROUNDS):
                order = ("empty", "loaded") if number % 2 == 0 else ("loaded", "empty")
                for label in order:
                    ok, failed = _round(urls[label], label, number)
                    totals[label][0] += ok
                    totals[label][1] += failed
            _check(empty, held=Decimal(0))
            _check(loaded, held=PENDING_CREDITS * AMOUNT)
    errors = totals["empty"][1] + totals["loaded"][1]
    if errors or not totals["empty"][0] or not totals["loaded"][0]:
        raise RuntimeError(f"{errors} credits failed, {totals}: the figures would be a lie")
    seconds = ROUNDS * ROUND_SECONDS
    per_s = totals["empty"][0] / seconds
    per_s_pending = totals["loaded"][0] / seconds
    return {
        "sim.sales_to_user_credit_per_s": per_s,
        "sim.sales_to_user_credit_per_s_5000_pending": per_s_pending,
        "sim.throughput_ratio_5000_pending": per_s_pending / per_s,
        "sim.sales_to_user_credit_errors": float(errors),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
