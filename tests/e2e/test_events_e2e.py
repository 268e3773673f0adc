"""Events to the merchant through the local runtime: what the functions put on the stack's bus
reaches `--events-url` as JSON POSTs, each final payout once by event id, with its GET view."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.local.conftest import wait_until
from tijori.lifecycle.announcements import event_id
from tijori_local.demo_events import EventReceiver
from tijori_local.runtime import LocalRuntime, RuntimeOptions

pytestmark = pytest.mark.e2e
TOKEN = "e2e-token"


@pytest.fixture(scope="module")
def receiver() -> Iterator[EventReceiver]:
    # The first POST is refused, as by a consumer that is down: the runtime posts it again.
    with EventReceiver(refuse_first=1) as started:
        yield started


@pytest.fixture(scope="module")
def runtime(merchant_credentials: dict[str, Any], receiver: EventReceiver) -> Iterator[LocalRuntime]:
    options = RuntimeOptions(
        api_port=0,
        credentials=merchant_credentials,
        time_scale=60,
        api_token=TOKEN,
        events_url=receiver.url,
    )
    with LocalRuntime(options) as started:
        yield started


def _events_of(receiver: EventReceiver, order_id: str) -> list[dict[str, Any]]:
    return [e for e in receiver.snapshot() if e["detail"].get("order_id") == order_id]


def test_each_final_payout_reaches_the_events_url_once_with_its_get_view(
    runtime: LocalRuntime, receiver: EventReceiver
) -> None:
    api = httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    sim = httpx.Client(base_url=str(runtime.sim_url), timeout=60)
    sim.post("/_sim/users", json={"phone": "8123456780"}).raise_for_status()
    paid = {"order_id": "E2E-EVENT-PAID", "amount": "25.00", "payee": {"phone": "8123456780"}}
    # Not a Paytm user, existing_user: STUC_1002, FAILED at once.
    failed = {"order_id": "E2E-EVENT-FAILED", "amount": "25.00", "payee": {"phone": "8123456781"}}
    for body in (paid, failed):
        assert api.post("/v1/payouts", json=body).status_code == 202
    expected = {"E2E-EVENT-PAID": "PayoutSucceeded", "E2E-EVENT-FAILED": "PayoutFailed"}
    assert wait_until(lambda: all(_events_of(receiver, order_id) for order_id in expected), timeout=90), (
        receiver.snapshot()
    )
    for order_id, detail_type in expected.items():
        (event,) = _events_of(receiver, order_id)
        view = api.get(f"/v1/payouts/{order_id}").json()
        status = {"PayoutSucceeded": "SUCCESS", "PayoutFailed": "FAILED"}[detail_type]
        assert view["status"] == status
        assert (event["source"], event["detail-type"]) == ("tijori", detail_type)
        assert event["detail"] == {**view, "event_id": event_id("payout", order_id, status)}
        assert event["id"]
        assert event["time"]
    # The refused first POST came again: the same EventBridge event, the same event id.
    (refused,) = receiver.refused
    assert [e["id"] for e in receiver.snapshot()].count(refused["id"]) == 1
    assert refused["detail"]["event_id"] in {e["detail"]["event_id"] for e in receiver.snapshot()}


def test_tijori_local_up_events_url_posts_the_events_there() -> None:
    with EventReceiver() as receiver:
        tijori = Path(sys.executable).parent / "tijori"
        arguments = ["--port", "0", "--api-token", TOKEN, "--time-scale", "60", "--events-url", receiver.url]
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [str(tijori), "local", "up", *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            lines: dict[str, str] = {}
            for line in process.stdout:
                key, _, value = line.strip().partition("=")
                lines[key] = value
                if {"API_URL", "SIM_URL", "EVENTS_URL"} <= set(lines):
                    break
            assert lines["EVENTS_URL"] == receiver.url
            httpx.post(f"{lines['SIM_URL']}/_sim/users", json={"phone": "8123456790"}).raise_for_status()
            body = {"order_id": "CLI-EVENT-1", "amount": "5.00", "payee": {"phone": "8123456790"}}
            answer = httpx.post(
                f"{lines['API_URL']}/v1/payouts", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
            )
            assert answer.status_code == 202
            assert wait_until(lambda: bool(_events_of(receiver, "CLI-EVENT-1")), timeout=90)
            (event,) = _events_of(receiver, "CLI-EVENT-1")
            assert event["detail-type"] == "PayoutSucceeded"
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
