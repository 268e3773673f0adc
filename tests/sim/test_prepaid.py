"""Seed 003: prepaid creditAccount with the encrypted token envelope: the header set, faults by
Tijori's order id, the refusals the wallet's state and the program drive, and the prepaid gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from paytm_signing import MerchantCredentials, TokenFormat, encrypt_token
from tijori_local.moto_process import announced_url
from tijori_local.sim.client import EXAMPLE_CREDENTIALS, SimClient
from tijori_local.sim.prepaid_api import CREDIT_ACCOUNT_PATH
from tijori_local.sim.server import SimServer
from tijori_local.sim.wire import dumps

URN = "70000000008"


def seed_request(**overrides: Any) -> dict[str, Any]:
    """The seed's decrypted sample request (its `loadCurrency` "RM" kept as given)."""
    request: dict[str, Any] = {
        "messageCode": "1080",
        "clientTxnId": "GOUd789hhhjfscs",
        "requestDateTime": "20220302153029",
        "urn": 70000000008,
        "transactionAmount": 1000,
        "sender": "AMAZON",
        "loadCurrency": "RM",
        "sourceType": 0,
        "subWalletId": "MOB5378a27c_1",
        "implId": "I|70130",
        "implType": "P2M_A2W_I",
        "fundFlowType": "I",
        "fee": 0,
    }
    request.update(overrides)
    return {k: v for k, v in request.items() if v is not None}


@pytest.fixture
def wallet(client: SimClient) -> dict[str, Any]:
    result: dict[str, Any] = client.control(
        "POST", "prepaid", {"urn": URN, "customer_id": "130172", "subwallet_id": "MOB5378a27c_1"}
    )
    return result


@pytest.mark.usefixtures("wallet")
def test_seed_sample_load_answers_1081_in_the_seed_shape_and_credits_the_wallet(client: SimClient) -> None:
    status, answer = client.credit_account(seed_request())

    assert status == 200
    assert {
        "urn",
        "customerId",
        "responseCode",
        "messageCode",
        "clientTxnId",
        "responseMessage",
        "accosaRefNo",
        "availableBalance",
        "availableCashLimit",
        "transactionAmount",
    } <= set(answer)
    assert (answer["responseCode"], answer["messageCode"], answer["responseMessage"]) == (
        "00",
        1081,
        "SUCCESS",
    )
    assert (answer["transactionAmount"], answer["availableBalance"], answer["availableCashLimit"]) == (
        1000,
        1000,
        0,
    )
    assert answer["customerId"] == "130172"
    assert Decimal(client.balances()[f"prepaid:{URN}"]) == Decimal("10.00")
    assert client.conservation()["ok"] is True


@pytest.mark.usefixtures("wallet")
def test_duplicate_client_txn_id_is_refused_and_loads_once(client: SimClient) -> None:
    client.credit_account(seed_request())
    _, again = client.credit_account(seed_request())
    assert again["responseCode"] == "1093"
    assert Decimal(client.balances()[f"prepaid:{URN}"]) == Decimal("10.00")


def test_a_token_under_another_key_is_http_400_invalid_message(client: SimClient) -> None:
    response = client.http.patch(
        "/mob1/api/onboarding/v1/creditAccount", content=b'{"token":"bm90IGEgdG9rZW4gYXQgYWxsIQ=="}'
    )
    assert response.status_code == 400


# -- the header set (seed 003's <WalletHeader />) ---------------------------------------------------

HEADERS = {"X-Wallet-Client-Id": "tijori-client-7", "X-Wallet-Api-Key": "k-3f9a1c"}


@pytest.fixture
def headed_credentials() -> MerchantCredentials:
    prepaid = {**EXAMPLE_CREDENTIALS["prepaid"], "headers": HEADERS}
    return MerchantCredentials.from_mapping({**EXAMPLE_CREDENTIALS, "prepaid": prepaid})


@pytest.fixture
def headed(headed_credentials: MerchantCredentials) -> Iterator[tuple[SimServer, SimClient]]:
    with SimServer(headed_credentials, time_scale=0) as server:
        headed_client = SimClient(server.url, headed_credentials)
        headed_client.control("POST", "prepaid", {"urn": URN, "subwallet_id": "MOB5378a27c_1"})
        yield server, headed_client
        headed_client.close()


def test_a_load_with_every_configured_header_is_taken_and_names_are_case_insensitive(
    headed: tuple[SimServer, SimClient],
) -> None:
    _, sim_client = headed
    lower = {"content-type": "application/json", **{k.lower(): v for k, v in HEADERS.items()}}

    response = sim_client.credit_account_raw(seed_request(), headers=lower)

    assert response.status_code == 200
    assert Decimal(sim_client.balances()[f"prepaid:{URN}"]) == Decimal("10.00")


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({"X-Wallet-Api-Key": HEADERS["X-Wallet-Api-Key"]}, "X-Wallet-Client-Id"),
        (
            {"X-Wallet-Client-Id": HEADERS["X-Wallet-Client-Id"], "X-Wallet-Api-Key": "k-3f9a1C"},
            "X-Wallet-Api-Key",
        ),
        ({}, "X-Wallet-Client-Id"),
    ],
    ids=["missing", "wrong-value-case", "none"],
)
def test_a_missing_or_wrong_header_is_http_401_before_any_decryption_or_load(
    headed: tuple[SimServer, SimClient], headers: dict[str, str], named: str
) -> None:
    server, sim_client = headed

    response = sim_client.credit_account_raw(seed_request(), headers=headers)

    assert response.status_code == 401
    assert response.json() == {
        "responseCode": "401",
        "responseMessage": f"Unauthorized: header {named} is missing or wrong",
    }
    assert sim_client.balances().get(f"prepaid:{URN}", "0") == "0"
    assert [e for e in sim_client.control("GET", "ledger") if e["kind"] == "prepaid_load"] == []
    assert "prepaid" not in server.state.records
    # The same load with the headers is then taken: nothing of it was consumed.
    assert sim_client.credit_account(seed_request())[1]["responseCode"] == "00"


def test_no_configured_headers_means_none_are_required(client: SimClient) -> None:
    client.control("POST", "prepaid", {"urn": URN, "subwallet_id": "MOB5378a27c_1"})
    response = client.credit_account_raw(seed_request(), headers={})
    assert response.status_code == 200


# -- faults are matched by Tijori's order id ----------------------------------------------------------


@pytest.mark.usefixtures("wallet")
def test_a_fault_armed_for_the_order_id_fires_on_the_load_that_carries_it(client: SimClient) -> None:
    client.fault("http_500", path=CREDIT_ACCOUNT_PATH, order_id="TJ-ORDER-1")

    other = client.credit_account_raw(seed_request(clientTxnId="TXN1", orderId="TJ-ORDER-2"))
    broken = client.credit_account_raw(seed_request(clientTxnId="TXN2", orderId="TJ-ORDER-1"))

    assert other.status_code == 200
    assert broken.status_code == 500
    assert Decimal(client.balances()[f"prepaid:{URN}"]) == Decimal("10.00")  # only the first load
    assert client.control("GET", "requests?order_id=TJ-ORDER-1")["count"] == 1


@pytest.mark.usefixtures("wallet")
def test_timeout_after_commit_for_the_order_id_loads_and_drops_the_answer(client: SimClient) -> None:
    client.fault("timeout_after_commit", path=CREDIT_ACCOUNT_PATH, order_id="TJ-ORDER-9", drop=True)

    with pytest.raises(httpx.HTTPError):
        client.credit_account_raw(seed_request(clientTxnId="TXN9", orderId="TJ-ORDER-9"))

    assert Decimal(client.balances()[f"prepaid:{URN}"]) == Decimal("10.00")
    _, again = client.credit_account(seed_request(clientTxnId="TXN9", orderId="TJ-ORDER-9"))
    assert again["responseCode"] == "1093"


@pytest.mark.usefixtures("wallet")
def test_without_an_order_id_faults_match_the_client_txn_id(client: SimClient) -> None:
    client.fault("http_500", path=CREDIT_ACCOUNT_PATH, order_id="GOUd789hhhjfscs")
    assert client.credit_account_raw(seed_request()).status_code == 500


# -- refusals driven by the wallet's state, the program and the request's shape ----------------------


def _load(client: SimClient, txn: str, amount: int = 1000, **fields: Any) -> str:
    _, answer = client.credit_account(seed_request(clientTxnId=txn, transactionAmount=amount, **fields))
    return str(answer["responseCode"])


def _balance(client: SimClient) -> Decimal:
    return Decimal(client.balances().get(f"prepaid:{URN}", "0"))


def _loads_recorded(client: SimClient) -> list[dict[str, Any]]:
    return [e for e in client.control("GET", "ledger") if e["kind"] == "prepaid_load"]


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        ("CLOSED", "1009", "CARD_CANCELLED_CLOSED_EXPIRED"),
        ("BLOCKED", "1010", "CARD_TEMPORARY_BLOCK"),
        ("PENDING_CANCELLATION", "1012", "CARD_PENDING_CANCELLATION"),
        ("CREDIT_DEBIT_BLOCKED", "1121", "CARD_CREDIT_DEBIT_BLOCK"),
    ],
)
@pytest.mark.usefixtures("wallet")
def test_a_wallet_not_active_refuses_the_load_with_its_code_and_moves_no_money(
    client: SimClient, status: str, code: str, message: str
) -> None:
    changed = client.control("PATCH", f"prepaid/{URN}", {"status": status})

    status_code, answer = client.credit_account(seed_request(clientTxnId="ST-1"))

    assert changed["status"] == status
    assert (status_code, answer["responseCode"], answer["responseMessage"]) == (200, code, message)
    assert answer["messageCode"] == 1081
    assert _balance(client) == 0
    assert _loads_recorded(client) == []
    # Made active again, the same clientTxnId loads: the refusal consumed nothing.
    client.control("PATCH", f"prepaid/{URN}", {"status": "ACTIVE"})
    assert _load(client, "ST-1") == "00"
    assert _balance(client) == Decimal("10.00")


def test_a_wallet_can_be_created_with_a_status_and_changing_an_unknown_one_is_404(client: SimClient) -> None:
    created = client.control(
        "POST", "prepaid", {"urn": URN, "subwallet_id": "MOB5378a27c_1", "status": "blocked"}
    )
    assert created["status"] == "BLOCKED"
    assert _load(client, "ST-2") == "1010"
    missing = client.http.patch("/_sim/prepaid/70000000099", content=b'{"status": "CLOSED"}')
    bad = client.http.patch(f"/_sim/prepaid/{URN}", content=b'{"status": "ASLEEP"}')
    assert (missing.status_code, bad.status_code) == (404, 400)


@pytest.mark.usefixtures("wallet")
def test_a_load_outside_the_programs_range_is_10153_and_the_maximum_is_settable(client: SimClient) -> None:
    assert client.control("GET", "prepaid/program") == {"min_load": "1.00", "max_load": "100000.00"}
    assert _load(client, "R-1", 99) == "10153"  # 0.99 INR
    assert _load(client, "R-2", 10_000_001) == "10153"  # 100000.01 INR
    assert _balance(client) == 0
    assert _load(client, "R-3", 100) == "00"  # 1.00 INR
    assert _load(client, "R-4", 10_000_000) == "00"  # 100000.00 INR

    client.control("POST", "prepaid/program", {"max_load": "50.00"})

    assert _load(client, "R-5", 5001) == "10153"
    assert _load(client, "R-6", 5000) == "00"
    assert _balance(client) == Decimal("100051.00")
    bad = client.http.post("/_sim/prepaid/program", content=b'{"min_load": "60.00"}')
    assert bad.status_code == 400


def test_the_daily_load_limit_counts_todays_loads_on_the_sim_clock(client: SimClient) -> None:
    client.control(
        "POST", "prepaid", {"urn": URN, "subwallet_id": "MOB5378a27c_1", "daily_load_limit": "25.00"}
    )

    assert [_load(client, "D-1"), _load(client, "D-2"), _load(client, "D-3")] == ["00", "00", "10163"]
    assert _load(client, "D-4", 500) == "00"  # exactly up to the limit
    assert _balance(client) == Decimal("25.00")
    client.advance(days=1)
    assert _load(client, "D-3") == "00"  # a new day; the refused clientTxnId was never taken
    assert len(_loads_recorded(client)) == 4


def test_a_load_inside_the_cooling_off_period_is_1353(client: SimClient) -> None:
    client.control("POST", "prepaid", {"urn": URN, "subwallet_id": "MOB5378a27c_1"})
    client.control("PATCH", f"prepaid/{URN}", {"cooling_off_seconds": 3600})

    assert [_load(client, "C-1"), _load(client, "C-2")] == ["00", "1353"]
    client.advance(hours=1)
    assert _load(client, "C-2") == "00"
    assert _balance(client) == Decimal("20.00")


@pytest.mark.usefixtures("wallet")
def test_source_type_and_fund_flow_type_outside_the_seeds_values_are_1101_and_1325(client: SimClient) -> None:
    assert _load(client, "S-1", sourceType=2) == "1101"
    assert _load(client, "S-2", sourceType="wallet") == "1101"
    assert _load(client, "S-3", fundFlowType="X") == "1325"
    assert _load(client, "S-4", fundFlowType="i") == "1325"
    assert _balance(client) == 0
    assert _load(client, "S-5", sourceType=1, fundFlowType="IOR") == "00"
    assert [_load(client, f"F-{flow}", fundFlowType=flow) for flow in ("O", "I", "IO", "OR", "IR")] == [
        "00"
    ] * 5


@pytest.mark.usefixtures("wallet")
def test_tijoris_request_shape_loads(client: SimClient) -> None:
    """What Tijori's prepaid client sends: customerMobile, its order id, a fee."""
    client.control("PATCH", f"prepaid/{URN}", {"mobile": "919888888888"})
    request = seed_request(
        clientTxnId="TJ12345678901234567890123",
        urn=None,
        customerMobile="919888888888",
        orderId="TJ-ORD-1",
        fee=0,
        sender="TIJORI",
        implId="I|70130",
    )
    status, answer = client.credit_account(request)
    assert (status, answer["responseCode"], answer["clientTxnId"]) == (200, "00", "TJ12345678901234567890123")
    assert client.control("GET", "orders/TJ12345678901234567890123")["orderId"] == "TJ-ORD-1"


# -- the prepaid gate: a real TCP refusal ---------------------------------------------------------------


def test_the_prepaid_gate_forwards_to_the_simulator(sim: SimServer, client: SimClient) -> None:
    client.control("POST", "prepaid", {"urn": URN, "subwallet_id": "MOB5378a27c_1"})
    gate = SimClient(sim.prepaid_url, client.credentials)
    try:
        status, answer = gate.credit_account(seed_request())
    finally:
        gate.close()
    assert sim.prepaid_url != sim.url
    assert (status, answer["responseCode"]) == (200, "00")


def test_refused_connections_are_econnrefused_for_the_window_then_the_same_port_answers(
    sim: SimServer, client: SimClient
) -> None:
    client.control("POST", "prepaid", {"urn": URN, "subwallet_id": "MOB5378a27c_1"})
    url = sim.prepaid_url
    pooled = httpx.Client(base_url=url, timeout=5)
    try:
        # A pooled keep-alive connection through the gate exists before the window.
        assert pooled.get("/_sim/health").status_code == 200

        answer = client.refuse_prepaid_connections(1.5)
        started = time.monotonic()

        with pytest.raises(httpx.ConnectError):
            _patch(client, pooled, "GATE-1")
        with pytest.raises(httpx.ConnectError):
            httpx.patch(f"{url}{CREDIT_ACCOUNT_PATH}", content=b"{}", timeout=5)
        assert time.monotonic() - started < 1.5
        assert _loads_recorded(client) == []

        time.sleep(max(0.0, 1.5 - (time.monotonic() - started)) + 0.3)
        response = _patch(client, pooled, "GATE-2")
    finally:
        pooled.close()

    assert answer == {"refusing": True, "seconds": 1.5}
    assert sim.prepaid_url == url  # the same port
    assert response.status_code == 200
    assert [entry["orderId"] for entry in _loads_recorded(client)] == ["GATE-2"]
    assert client.control("GET", "requests?order_id=GATE-1")["count"] == 0


def _patch(client: SimClient, http: httpx.Client, txn: str) -> httpx.Response:
    token = encrypt_token(
        seed_request(clientTxnId=txn), client.prepaid_key, token_format=client.prepaid_token_format
    )
    return http.patch(CREDIT_ACCOUNT_PATH, content=dumps({"token": token}), headers=client.prepaid_headers())


@pytest.mark.parametrize("seconds", [0, -1, 61, "5", None])
def test_a_refusal_window_outside_0_to_60_seconds_is_400(client: SimClient, seconds: object) -> None:
    response = client.http.post("/_sim/prepaid/refuse-connections", content=dumps({"seconds": seconds}))
    assert response.status_code == 400


# -- the CLI: the provider envelope with the credentials' IV and headers, through the gate ----------


def test_the_cli_announces_the_prepaid_gate_and_loads_in_the_providers_envelope(tmp_path: Path) -> None:
    iv = bytes(range(16))
    prepaid = {**EXAMPLE_CREDENTIALS["prepaid"], "iv": iv.hex(), "headers": HEADERS}
    data = {**EXAMPLE_CREDENTIALS, "prepaid": prepaid}
    secret = tmp_path / "merchant.json"
    secret.write_text(json.dumps(data), encoding="utf-8")
    command = [sys.executable, "-m", "tijori_local.sim.cli", "--port", "0", "--credentials", str(secret)]
    process = subprocess.Popen(  # noqa: S603 - this interpreter, our own console module
        [*command, "--time-scale", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    credentials = MerchantCredentials.from_mapping(data)
    try:
        url = announced_url(process, "SIM_URL=", timeout=30)
        prepaid_url = announced_url(process, "SIM_PREPAID_URL=", timeout=30)
        control = SimClient(url, credentials)
        through_gate = SimClient(prepaid_url, credentials)
        try:
            control.control("POST", "prepaid", {"urn": URN, "subwallet_id": "MOB5378a27c_1"})
            status, answer = through_gate.credit_account(seed_request())
        finally:
            control.close()
            through_gate.close()
    finally:
        process.terminate()
        process.wait(10)

    assert through_gate.prepaid_token_format == TokenFormat(fixed_iv=iv, authenticated=False)
    assert prepaid_url != url
    assert (status, answer["responseCode"]) == (200, "00")
