"""The pending literal is a setting: TXN_PENDING (seed 002, the default) or PENDING (Paytm's public
docs and SDKs), in every place a not-yet-final PG order or refund reads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from paytm_signing import MerchantCredentials, generate_signature, verify_signature
from tijori_local.moto_process import announced_url
from tijori_local.sim import cli
from tijori_local.sim.client import EXAMPLE_CREDENTIALS, SimClient
from tijori_local.sim.pg_api import find_refund, initiate_body, signed_json_data, signed_request
from tijori_local.sim.receiver import CallbackReceiver
from tijori_local.sim.server import SimServer
from tijori_local.sim.wire import loads

LITERALS = ["TXN_PENDING", "PENDING"]


@pytest.fixture(params=LITERALS)
def literal(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def literal_sim(credentials: MerchantCredentials, literal: str) -> Iterator[SimServer]:
    with SimServer(credentials, time_scale=0, pg_pending_status=literal) as server:
        yield server


@pytest.fixture
def literal_client(literal_sim: SimServer, credentials: MerchantCredentials) -> Iterator[SimClient]:
    sim_client = SimClient(literal_sim.url, credentials)
    yield sim_client
    sim_client.close()


def initiate(client: SimClient, order_id: str, **fields: Any) -> None:
    body = initiate_body(client.credentials.mid, order_id, **fields)
    response = client.http.post(
        "/theia/api/v1/initiateTransaction",
        params={"mid": client.credentials.mid, "orderId": order_id},
        content=signed_request(body, client.pg_key),
    )
    assert loads(response.content)["body"]["resultInfo"]["resultCode"] == "0000"


def txn_status(client: SimClient, order_id: str) -> dict[str, Any]:
    data = {"MID": client.credentials.mid, "ORDERID": order_id}
    response = client.http.post(
        "/merchant-status/getTxnStatus", data={"JsonData": signed_json_data(data, client.pg_key)}
    )
    result: dict[str, Any] = loads(response.content)
    return result


def form_of(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def test_the_default_pending_literal_is_seed_002s_txn_pending(credentials: MerchantCredentials) -> None:
    assert SimServer(credentials).context.pg_pending_status == "TXN_PENDING"


def test_an_unknown_pending_literal_is_refused(credentials: MerchantCredentials) -> None:
    with pytest.raises(ValueError, match="TXN_PENDING, PENDING"):
        SimServer(credentials, pg_pending_status="WAITING")


def test_an_unpaid_and_a_pending_order_read_the_configured_literal_in_the_status_answer(
    literal_client: SimClient, literal: str
) -> None:
    initiate(literal_client, "PS-1")
    unpaid = txn_status(literal_client, "PS-1")

    literal_client.control("POST", "pg/checkout/PS-1", {"outcome": "PENDING"})
    pending = txn_status(literal_client, "PS-1")

    assert (unpaid["STATUS"], unpaid["RESPCODE"]) == (literal, "402")
    assert (pending["STATUS"], pending["RESPCODE"]) == (literal, "402")
    assert literal_client.control("GET", "orders/PS-1")["status"] == literal


def test_a_pending_checkout_posts_a_signed_callback_with_the_configured_literal_and_can_settle(
    literal_client: SimClient, receiver: CallbackReceiver, literal: str
) -> None:
    initiate(literal_client, "PS-2", callbackUrl=receiver.url)

    literal_client.control("POST", "pg/checkout/PS-2", {"outcome": "PENDING"})
    literal_client.control("POST", "pg/checkout/PS-2", {"outcome": "SUCCESS"})

    pending, final = (form_of(c.body) for c in receiver.wait_for(2))
    assert (pending["STATUS"], pending["RESPCODE"]) == (literal, "402")
    assert verify_signature(pending, literal_client.pg_key, pending["CHECKSUMHASH"])
    assert final["STATUS"] == "TXN_SUCCESS"


def test_a_stale_callback_carries_the_configured_literal(
    literal_client: SimClient, receiver: CallbackReceiver, literal: str
) -> None:
    literal_client.fault("out_of_order_callback", path="/theia/api/v1/initiateTransaction", order_id="PS-3")
    initiate(literal_client, "PS-3", callbackUrl=receiver.url)

    literal_client.control("POST", "pg/checkout/PS-3", {"outcome": "SUCCESS"})

    final, stale = (form_of(c.body) for c in receiver.wait_for(2))
    assert final["STATUS"] == "TXN_SUCCESS"
    assert (stale["STATUS"], stale["RESPCODE"]) == (literal, "402")
    assert verify_signature(stale, literal_client.pg_key, stale["CHECKSUMHASH"])


def test_an_add_money_checkout_reads_the_configured_literal_on_its_page_and_callback(
    literal_client: SimClient, receiver: CallbackReceiver, literal: str
) -> None:
    token = literal_client.control("POST", "autodebit/token", {"phone": "9000000001"})["token"]
    form = {
        "REQUEST_TYPE": "ADD_MONEY",
        "MID": literal_client.credentials.mid,
        "ORDER_ID": "PS-AM",
        "CUST_ID": "CUST_001",
        "TXN_AMOUNT": "5.00",
        "CHANNEL_ID": "WEB",
        "INDUSTRY_TYPE_ID": "Retail",
        "WEBSITE": "WEBSTAGING",
        "SSO_TOKEN": token,
        "CALLBACK_URL": receiver.url,
    }
    form["CHECKSUMHASH"] = generate_signature(form, literal_client.pg_key)

    page = literal_client.http.post("/theia/processTransaction", data=form).text
    literal_client.control("POST", "pg/checkout/PS-AM", {"outcome": "PENDING"})

    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    assert hidden["STATUS"] == literal
    (callback,) = receiver.wait_for(1)
    assert form_of(callback.body)["STATUS"] == literal
    assert txn_status(literal_client, "PS-AM")["STATUS"] == literal


def test_a_pending_refund_reads_the_configured_literal_on_the_wire_and_in_its_status_field(
    literal_sim: SimServer, literal_client: SimClient, literal: str
) -> None:
    initiate(literal_client, "PS-RF", txnAmount={"value": "10.00", "currency": "INR"})
    txn_id = literal_client.control("POST", "pg/checkout/PS-RF", {"outcome": "SUCCESS"})["txnId"]
    literal_client.control("POST", "pg/refunds/PS-REF/script", {"outcome": "PENDING"})
    data = {
        "MID": literal_client.credentials.mid,
        "TXNID": txn_id,
        "ORDERID": "PS-RF",
        "REFUNDAMOUNT": "4.00",
        "TXNTYPE": "REFUND",
        "REFID": "PS-REF",
    }

    answer = literal_client.http.post(
        "/refund/HANDLER_INTERNAL/REFUND",
        data={"JsonData": signed_json_data(data, literal_client.pg_key, "CHECKSUM")},
    ).json()

    assert (answer["STATUS"], answer["RESPCODE"]) == (literal, "601")
    found = find_refund(literal_sim.state, "PS-REF")
    assert found is not None
    assert found[1].status == literal  # what other routes (e.g. the SDK's) read


# -- the CLI flag -------------------------------------------------------------------------------


def test_the_cli_flag_sets_the_pending_literal(tmp_path: Path) -> None:
    secret = tmp_path / "merchant.json"
    secret.write_text(json.dumps(EXAMPLE_CREDENTIALS), encoding="utf-8")
    command = [sys.executable, "-m", "tijori_local.sim.cli", "--port", "0", "--credentials", str(secret)]
    process = subprocess.Popen(  # noqa: S603 - this interpreter, our own console module
        [*command, "--time-scale", "0", "--pg-pending-status", "PENDING"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = announced_url(process, "SIM_URL=", timeout=30)
        client = SimClient(url, MerchantCredentials.from_mapping(EXAMPLE_CREDENTIALS))
        initiate(client, "PS-CLI")
        status = txn_status(client, "PS-CLI")["STATUS"]
        client.close()
    finally:
        process.terminate()
        process.wait(10)

    assert status == "PENDING"


def test_the_cli_refuses_an_unknown_pending_literal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "merchant.json"
    secret.write_text(json.dumps(EXAMPLE_CREDENTIALS), encoding="utf-8")

    with pytest.raises(SystemExit) as exited:
        cli.main(["--credentials", str(secret), "--pg-pending-status", "WAITING"])

    assert exited.value.code == 2
    assert "--pg-pending-status" in capsys.readouterr().err
