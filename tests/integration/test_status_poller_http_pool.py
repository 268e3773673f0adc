"""StatusPollerFunction keeps one pooled HTTP client, and its connections to Paytm, across warm
invocations: the real lambda_handler, invoked twice in one execution environment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import FakeLambdaContext, LocalAccount, load_event
from tests.integration.test_status_poller_handler import _credit_at_paytm, _store
from tijori.payouts.lifecycle import PayoutStatus
from tijori_local.sim.server import SimServer


def test_a_warm_invocation_reuses_the_client_and_its_keep_alive_connection(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _store(function_env, order_id="ORD-EVT-0001", created=datetime.now(UTC), status=PayoutStatus.PENDING)
    _credit_at_paytm(paytm, "ORD-EVT-0001", kyc=False)  # Paytm holds it: each check answers "wait"
    # Every request the function sends to Paytm: which client sent it, over which local socket.
    sent: list[tuple[httpx.AsyncClient, Any]] = []
    send = httpx.AsyncClient.send

    async def recording_send(
        client: httpx.AsyncClient, request: httpx.Request, **kwargs: Any
    ) -> httpx.Response:
        response = await send(client, request, **kwargs)
        sent.append((client, response.extensions["network_stream"].get_extra_info("client_addr")))
        return response

    monkeypatch.setattr(httpx.AsyncClient, "send", recording_send)
    poller = load_handler("status_poller")

    first = poller.lambda_handler(load_event("status_poller_pending_check"), lambda_context)
    second = poller.lambda_handler(load_event("status_poller_pending_check"), lambda_context)

    assert first["outcome"] == second["outcome"] == "wait"
    assert len(sent) >= 2
    clients = {id(client) for client, _ in sent}
    assert len(clients) == 1, "each invocation built its own client"
    client = sent[0][0]
    assert not client.is_closed
    # The same local address and port: the second invocation's request went over the connection
    # the first one opened, kept alive in the pool, not over a new one.
    assert {address for _, address in sent} == {sent[0][1]}
