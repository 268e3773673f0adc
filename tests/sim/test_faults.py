"""Fault injection on the seed APIs: each fault kind, its count, and its path / order-id matching."""

from __future__ import annotations

import time

import httpx
import pytest

from tijori_local.sim.client import SimClient, sales_to_user_credit_body
from tijori_local.sim.server import SimServer
from tijori_local.sim.wire import dumps, loads

CREDIT = "/wallet-web/salesToUserCredit"
STATUS = "/wallet-web/checkStatus"


@pytest.fixture
def payee(client: SimClient) -> str:
    return str(client.user(phone="7777777777", email="u7777777777@example.com")["sso_id"])


def status_of(client: SimClient, order_id: str) -> str:
    return str(client.check_status(order_id)["statusCode"])


def post_credit(client: SimClient, order_id: str, *, timeout: float | None = None) -> httpx.Response:
    body = dumps(sales_to_user_credit_body(client.credentials, order_id))
    from paytm_signing import generate_signature

    headers = {"mid": client.credentials.mid, "checksumhash": generate_signature(body, client.wallet_key)}
    return client.http.post(CREDIT, content=body, headers=headers, timeout=timeout or client.http.timeout)


def wait_for_status(client: SimClient, order_id: str, expected: str, *, within: float = 20.0) -> str:
    deadline = time.monotonic() + within
    seen = status_of(client, order_id)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = status_of(client, order_id)
    return seen


@pytest.mark.usefixtures("payee")
def test_http_500_answers_without_doing_the_work(client: SimClient) -> None:
    client.fault("http_500", path=CREDIT)

    response = post_credit(client, "ORD-500")

    assert response.status_code == 500
    assert status_of(client, "ORD-500") == "STUC_1009"
    assert client.credit("ORD-500")["status"] == "SUCCESS"


@pytest.mark.usefixtures("payee")
def test_http_500_with_commit_does_the_work_and_still_answers_500(client: SimClient) -> None:
    client.fault("http_500", path=CREDIT, commit=True)

    assert post_credit(client, "ORD-500C").status_code == 500

    assert status_of(client, "ORD-500C") == "SS_001"
    assert client.credit("ORD-500C")["statusCode"] == "STUC_1007"


@pytest.mark.usefixtures("payee")
def test_non_json_body_is_http_200_html(client: SimClient) -> None:
    client.fault("non_json", path=CREDIT)

    response = post_credit(client, "ORD-HTML")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    with pytest.raises(ValueError):  # noqa: PT011 - json's error is a ValueError subclass
        loads(response.content)


@pytest.mark.usefixtures("payee")
def test_error_text_is_http_200_with_a_sentence(client: SimClient) -> None:
    client.fault("error_text", path=CREDIT)

    response = post_credit(client, "ORD-TXT")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Error:")
    assert status_of(client, "ORD-TXT") == "STUC_1009"


@pytest.mark.usefixtures("payee")
def test_timeout_after_commit_delays_the_answer_past_the_client_timeout_but_the_credit_is_done(
    client: SimClient,
) -> None:
    client.fault("timeout_after_commit", path=CREDIT, delay_seconds=30)

    with pytest.raises(httpx.ReadTimeout):
        post_credit(client, "ORD-TO", timeout=0.5)

    entry = client.check_status("ORD-TO")["response"]["txnList"][0]
    assert entry["status"] == 1
    assert client.credit("ORD-TO")["statusCode"] == "STUC_1007"


@pytest.mark.usefixtures("payee")
def test_timeout_after_commit_with_drop_closes_the_connection_after_committing(client: SimClient) -> None:
    client.fault("timeout_after_commit", path=CREDIT, drop=True)

    with pytest.raises(httpx.RemoteProtocolError):
        post_credit(client, "ORD-DROP")

    assert client.check_status("ORD-DROP")["response"]["txnList"][0]["status"] == 1


@pytest.mark.usefixtures("payee")
def test_latency_delays_then_does_the_work(client: SimClient) -> None:
    client.fault("latency", path=CREDIT, latency_ms=3000)

    with pytest.raises(httpx.ReadTimeout):
        post_credit(client, "ORD-SLOW", timeout=0.3)

    assert wait_for_status(client, "ORD-SLOW", "SS_001") == "SS_001"


@pytest.mark.usefixtures("payee")
def test_a_fault_fires_for_exactly_the_next_count_matching_requests(client: SimClient) -> None:
    client.fault("http_500", path=CREDIT, count=2)

    codes = [post_credit(client, f"ORD-N{i}").status_code for i in range(3)]

    assert codes == [500, 500, 200]
    assert client.control("GET", "faults") == []


@pytest.mark.usefixtures("payee")
def test_a_fault_matches_only_its_order_id(client: SimClient) -> None:
    client.fault("http_500", path=CREDIT, order_id="ORD-TARGET")

    other = post_credit(client, "ORD-OTHER")
    target = post_credit(client, "ORD-TARGET")

    assert (other.status_code, target.status_code) == (200, 500)


@pytest.mark.usefixtures("payee")
def test_a_fault_matches_only_its_path(client: SimClient) -> None:
    client.fault("http_500", path=STATUS)

    credit = post_credit(client, "ORD-P")
    assert credit.status_code == 200
    with pytest.raises(httpx.HTTPStatusError):
        client.check_status("ORD-P")
    assert client.check_status("ORD-P")["statusCode"] == "SS_001"


def test_unknown_fault_kind_is_refused(client: SimClient) -> None:
    response = client.http.post("/_sim/faults", content=dumps({"kind": "gremlins"}))
    assert response.status_code == 400


def test_request_log_counts_calls_per_path_and_order_even_when_a_fault_eats_the_answer(
    sim: SimServer, client: SimClient
) -> None:
    client.control(
        "POST", "faults", {"kind": "http_500", "path": "/wallet-web/salesToUserCredit", "count": 1}
    )
    body = sales_to_user_credit_body(client.credentials, "LOG-1")
    assert client.wallet_post("/wallet-web/salesToUserCredit", body).status_code == 500
    client.credit("LOG-1")
    client.check_status("LOG-1")
    log = sim.context.requests
    assert log.count(path="/wallet-web/salesToUserCredit", order_id="LOG-1") == 2
    assert log.count(order_id="LOG-1") == 3
    over_http = httpx.get(
        f"{sim.url}/_sim/requests", params={"path": "/wallet-web/salesToUserCredit", "order_id": "LOG-1"}
    ).json()
    assert over_http["count"] == 2
