"""Issue 13, rule 1, as X-Ray would see it: `tijori local up --xray-daemon` runs the functions traced
as in Lambda (Tracing: Active; the SDK streams every subsegment to the daemon), and this test is
the daemon. After a link, an add-money form, a charge and a revoke, no captured segment, no log
line of the stack and no answer holds the customer's token (Revoke Access puts the token in its URL
path: X-Ray records request URLs)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tijori_local.demo_autodebit import add_money, charge, link_wallet, wait_payment

pytestmark = pytest.mark.e2e
TOKEN = "e2e-traces-token"
PHONE = "8300000001"


class Daemon:
    """An X-Ray daemon's UDP side: every datagram the SDK sends, kept."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.datagrams: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        host, port = self.socket.getsockname()
        return f"{host}:{port}"

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.socket.recvfrom(65_536)
            except TimeoutError:
                continue
            self.datagrams.append(data.decode("utf-8", "replace"))

    def segments(self) -> list[dict[str, Any]]:
        # Each datagram: a header line, then the segment document.
        return [json.loads(d.split("\n", 1)[1]) for d in self.datagrams if "\n" in d]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.socket.close()


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[dict[str, str], Daemon, list[str]]]:
    daemon = Daemon()
    tijori = Path(sys.executable).parent / "tijori"
    command = [
        str(tijori),
        "local",
        "up",
        "--port",
        "0",
        "--api-token",
        TOKEN,
        "--xray-daemon",
        daemon.address,
    ]
    process = subprocess.Popen(  # noqa: S603 - our own console script
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    urls: dict[str, str] = {}
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            key, _, value = line.strip().partition("=")
            if key in ("API_URL", "SIM_URL"):
                urls[key] = value
                if len(urls) == 2:
                    ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(120), "".join(output)
        yield urls, daemon, output
    finally:
        process.terminate()
        process.wait(30)
        reader.join(5)
        daemon.close()


def test_rule1_no_trace_segment_log_line_or_answer_holds_the_token(
    stack: tuple[dict[str, str], Daemon, list[str]],
) -> None:
    urls, daemon, output = stack
    api = httpx.Client(base_url=urls["API_URL"], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    sim = httpx.Client(base_url=urls["SIM_URL"], timeout=60)
    sim.post("/_sim/users", json={"phone": PHONE, "balance": "100.00", "kyc": True}).raise_for_status()
    answers = [str(link_wallet(api, sim, "TRACE1", PHONE))]
    answers.append(api.get("/v1/wallet-links/TRACE1/balance", params={"amount": "150.00"}).text)
    answers.append(str(add_money(api, sim, "TRACE1", "TRACE-AM-1", "50.00")))
    assert charge(api, "TRACE-C-1", "TRACE1", "120.00").status_code == 202
    answers.append(str(wait_payment(api, "TRACE-C-1", {"PAID", "FAILED", "NEEDS_REVIEW"})))
    answers.append(api.delete("/v1/wallet-links/TRACE1").text)
    (token,) = [str(t["token"]) for t in sim.get("/_sim/autodebit/tokens", params={"phone": PHONE}).json()]
    time.sleep(1)  # the last subsegments are on their way (UDP)

    segments = daemon.segments()
    urls_traced = [
        str(s.get("http", {}).get("request", {}).get("url", ""))
        for s in segments
        if s.get("namespace") == "remote"
    ]
    # Tracing really ran: Paytm's calls of this run are in the captured subsegments.
    for path in ("/signin/otp", "/signin/validate/otp", "/paymentservices/pay/consult", "/order/directPay"):
        assert any(url.endswith(path) for url in urls_traced), (path, urls_traced)
    assert any("/oauth2/accessToken" in url for url in urls_traced), urls_traced  # the revoke, traced
    leaking = [d for d in daemon.datagrams if token in d]
    assert not leaking, leaking[:2]
    assert token not in "".join(output)
    assert "TRACE1" in "".join(output)  # the stack's log lines are all here
    for answer in answers:
        assert token not in answer
