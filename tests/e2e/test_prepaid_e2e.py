"""Prepaid wallet loads (seed 003) end to end: the real handlers on the local runtime, real HTTP
between Tijori and the simulator in the `token` envelope, the header set of the merchant secret.
Each test asserts what Tijori asked of the provider (the simulator's request log: creditAccount
calls per order id) and where the money is (the simulator's ledger), not only the status."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities import parameters

from tests.local.conftest import wait_until
from tijori.payouts.models import client_txn_id_for
from tijori_local.dlq import redrive
from tijori_local.runtime import LocalRuntime, RuntimeOptions

pytestmark = pytest.mark.e2e
TOKEN = "e2e-prepaid-token"
CREDIT_ACCOUNT = "/mob1/api/onboarding/v1/creditAccount"
FINAL = {"SUCCESS", "FAILED", "NEEDS_REVIEW"}
_numbers = iter(range(1, 10_000))


def _runtime(credentials: dict[str, Any], envelope: str) -> LocalRuntime:
    options = RuntimeOptions(
        api_port=0, credentials=credentials, time_scale=60, api_token=TOKEN, prepaid_envelope=envelope
    )
    return LocalRuntime(options)


@pytest.fixture(scope="module")
def runtime(merchant_credentials: dict[str, Any]) -> Iterator[LocalRuntime]:
    with _runtime(merchant_credentials, "provider") as started:
        yield started


def clients(runtime: LocalRuntime) -> tuple[httpx.Client, httpx.Client]:
    api = httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    return api, httpx.Client(base_url=str(runtime.sim_url), timeout=60)


@pytest.fixture
def api(runtime: LocalRuntime) -> httpx.Client:
    return clients(runtime)[0]


@pytest.fixture
def sim(runtime: LocalRuntime) -> httpx.Client:
    return clients(runtime)[1]


def new_wallet(sim: httpx.Client, **fields: Any) -> str:
    """A prepaid wallet in the simulator: its urn (11 digits, like the seed's 70000000008)."""
    urn = f"7{next(_numbers):010d}"
    answer = sim.post("/_sim/prepaid", json={"urn": urn, "subwallet_id": f"MOB{urn[-6:]}_1", **fields})
    assert answer.status_code in (200, 201), answer.text
    return urn


def load_body(order_id: str, urn: str, amount: str = "250.00", **extra: Any) -> dict[str, Any]:
    return {
        "rail": "prepaid",
        "order_id": order_id,
        "amount": amount,
        "payee": {"urn": urn, "subwallet_id": f"MOB{urn[-6:]}_1"},
        **extra,
    }


def view_of(api: httpx.Client, order_id: str) -> dict[str, Any]:
    view: dict[str, Any] = api.get(f"/v1/payouts/{order_id}").json()
    return view


def wait_final(api: httpx.Client, order_id: str, timeout: float = 90) -> dict[str, Any]:
    assert wait_until(lambda: view_of(api, order_id)["status"] in FINAL, timeout=timeout), view_of(
        api, order_id
    )
    return view_of(api, order_id)


def loads_sent(sim: httpx.Client, order_id: str) -> int:
    """creditAccount requests the simulator received for this order (whatever it answered)."""
    sequence: list[str] = sim.get("/_sim/requests", params={"order_id": order_id}).json()["sequence"]
    return sequence.count(CREDIT_ACCOUNT)


def balance(sim: httpx.Client, urn: str) -> Decimal:
    return Decimal(str(sim.get("/_sim/balances").json().get(f"prepaid:{urn}", "0")))


def test_a_load_is_sent_once_in_paise_and_lands_in_the_wallet(api: httpx.Client, sim: httpx.Client) -> None:
    urn = new_wallet(sim)
    order_id = "E2E-PP-OK-1"
    accepted = api.post("/v1/payouts", json=load_body(order_id, urn, "250.75"))
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["rail"] == "prepaid"
    assert accepted.json()["prepaid"]["client_txn_id"] == client_txn_id_for(order_id)
    view = wait_final(api, order_id)
    assert (view["status"], view["last_status_code"]) == ("SUCCESS", "00")
    assert view["paytm_txn_id"]  # the provider's accosaRefNo
    assert view["payee"] == {"urn": f"*******{urn[-4:]}", "subwallet_id": f"MOB{urn[-6:]}_1"}
    assert balance(sim, urn) == Decimal("250.75")
    assert loads_sent(sim, order_id) == 1
    # The same body again is the stored payout; nothing more is sent.
    again = api.post("/v1/payouts", json=load_body(order_id, urn, "250.75"))
    assert (again.status_code, again.json()["status"]) == (202, "SUCCESS")
    conflict = api.post("/v1/payouts", json=load_body(order_id, urn, "99.00"))
    assert (conflict.status_code, conflict.json()["conflicting_fields"]) == (409, ["amount"])
    assert loads_sent(sim, order_id) == 1
    assert sim.get("/_sim/conservation").json()["ok"] is True


@pytest.mark.parametrize(
    ("wallet", "amount", "code"),
    [
        ({"status": "CLOSED"}, "10.00", "1009"),
        ({"status": "BLOCKED"}, "10.00", "1010"),
        ({"daily_load_limit": "50.00"}, "60.00", "10163"),
        ({}, "500000.00", "10153"),
    ],
)
def test_a_refused_load_is_failed_with_the_providers_code_and_moves_nothing(
    api: httpx.Client, sim: httpx.Client, wallet: dict[str, Any], amount: str, code: str
) -> None:
    urn = new_wallet(sim, **wallet)
    order_id = f"E2E-PP-REFUSED-{code}"
    assert api.post("/v1/payouts", json=load_body(order_id, urn, amount)).status_code == 202
    view = wait_final(api, order_id)
    assert (view["status"], view["last_status_code"]) == ("FAILED", code)
    assert balance(sim, urn) == 0
    assert loads_sent(sim, order_id) == 1


def test_a_wallet_the_provider_does_not_know_is_failed_1357(api: httpx.Client, sim: httpx.Client) -> None:
    order_id = "E2E-PP-NOWALLET-1"
    assert api.post("/v1/payouts", json=load_body(order_id, "79999999999")).status_code == 202
    view = wait_final(api, order_id)
    assert (view["status"], view["last_status_code"]) == ("FAILED", "1357")
    assert "WALLET DETAILS NOT FOUND" in view["last_status_message"]


@pytest.mark.parametrize("fault", ["timeout_after_commit", "http_500"])
def test_a_lost_answer_after_the_provider_loaded_ends_needs_review_with_exactly_one_call(
    api: httpx.Client, sim: httpx.Client, fault: str
) -> None:
    urn = new_wallet(sim)
    order_id = f"E2E-PP-LOST-{fault}"
    armed = {"kind": fault, "path": CREDIT_ACCOUNT, "order_id": order_id, "delay_seconds": 15, "commit": True}
    sim.post("/_sim/faults", json=armed).raise_for_status()
    assert api.post("/v1/payouts", json=load_body(order_id, urn, "120.00")).status_code == 202
    view = wait_final(api, order_id, timeout=150)
    assert view["status"] == "NEEDS_REVIEW"
    assert "no status API" in view["history"][-1]["reason"]
    assert loads_sent(sim, order_id) == 1  # never two loads: one call, then a human decides
    if fault == "timeout_after_commit":
        assert balance(sim, urn) == Decimal("120.00")  # the provider did load it
    # Nothing asks again: the scheduled runs leave it alone.
    sim.post("/_sim/clock/advance", json={"days": 2}).raise_for_status()
    assert not wait_until(lambda: loads_sent(sim, order_id) > 1, timeout=5)
    assert view_of(api, order_id)["status"] == "NEEDS_REVIEW"


def test_refused_connections_are_retried_and_the_load_is_sent_once(
    api: httpx.Client, sim: httpx.Client
) -> None:
    urn = new_wallet(sim)
    order_id = "E2E-PP-REFUSED-CONN-1"
    sim.post("/_sim/prepaid/refuse-connections", json={"seconds": 1.5}).raise_for_status()
    assert api.post("/v1/payouts", json=load_body(order_id, urn, "75.00")).status_code == 202
    view = wait_final(api, order_id)
    assert view["status"] == "SUCCESS"
    assert balance(sim, urn) == Decimal("75.00")
    assert loads_sent(sim, order_id) == 1  # the refused ones never reached the provider


def _set_prepaid(runtime: LocalRuntime, **section: Any) -> None:
    assert runtime.stack is not None
    secret = copy.deepcopy(runtime.options.credentials)
    secret["prepaid"].update(section)
    runtime.client("secretsmanager").put_secret_value(
        SecretId=runtime.stack.ref("MerchantSecret"), SecretString=json.dumps(secret)
    )
    parameters.clear_caches()


@pytest.mark.parametrize(
    "mistake",
    [
        pytest.param({"headers": {"X-Wallet-Client-Id": "someone-else"}}, id="wrong header"),
        pytest.param({"iv": "00" * 16}, id="wrong iv"),
    ],
)
def test_a_configuration_refusal_goes_to_the_dlq_unsent_and_a_redrive_after_the_fix_loads_once(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client, mistake: dict[str, Any]
) -> None:
    assert runtime.stack is not None
    urn = new_wallet(sim)
    order_id = f"E2E-PP-MISCONFIG-{next(_numbers)}"
    right = copy.deepcopy(runtime.options.credentials["prepaid"])
    sqs = runtime.client("sqs")
    dlq = runtime.stack.ref("PayoutDLQ")

    def dlq_depth() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    _set_prepaid(runtime, **mistake)
    try:
        assert api.post("/v1/payouts", json=load_body(order_id, urn, "40.00")).status_code == 202
        assert wait_until(lambda: dlq_depth() == 1, timeout=150)
        view = view_of(api, order_id)
        assert view["status"] == "PROCESSING"  # never FAILED: nothing moved, nothing decided
        assert view["first_sent_at"] is None  # refused before processing: the send is taken back
        assert balance(sim, urn) == 0
    finally:
        _set_prepaid(runtime, **right)
    assert redrive(sqs, dlq_url=dlq, queue_url=runtime.stack.ref("PayoutQueue")).moved == 1
    assert wait_final(api, order_id)["status"] == "SUCCESS"
    assert balance(sim, urn) == Decimal("40.00")


def test_a_bad_prepaid_body_is_refused_naming_the_field_and_nothing_is_stored(api: httpx.Client) -> None:
    body = load_body("E2E-PP-BAD-1", "70000000001")
    body["payee"] = {"urn": "70000000001"}
    refused = api.post("/v1/payouts", json=body)
    assert refused.status_code == 422
    assert [d["field"] for d in refused.json()["detail"]] == ["payee"]
    assert "subwallet_id, account_number" in refused.json()["detail"][0]["msg"]
    wrong_rail = api.post("/v1/payouts", json={**body, "rail": "card"})
    assert (wrong_rail.status_code, wrong_rail.json()["detail"][0]["field"]) == (422, "rail")
    assert api.get("/v1/payouts/E2E-PP-BAD-1").status_code == 404


def test_the_authenticated_envelope_works_end_to_end_when_both_sides_use_it(
    merchant_credentials: dict[str, Any],
) -> None:
    with _runtime(merchant_credentials, "authenticated") as other:
        api, sim = clients(other)
        urn = new_wallet(sim)
        assert api.post("/v1/payouts", json=load_body("E2E-PP-AUTH-1", urn, "33.00")).status_code == 202
        assert wait_final(api, "E2E-PP-AUTH-1")["status"] == "SUCCESS"
        assert balance(sim, urn) == Decimal("33.00")
        assert loads_sent(sim, "E2E-PP-AUTH-1") == 1


def test_wallet_payouts_are_unchanged_by_the_prepaid_rail(api: httpx.Client, sim: httpx.Client) -> None:
    phone = f"98{next(_numbers):08d}"
    sim.post("/_sim/users", json={"phone": phone, "kyc": True}).raise_for_status()
    order_id = "E2E-PP-WALLET-1"
    accepted = api.post(
        "/v1/payouts", json={"order_id": order_id, "amount": "10.00", "payee": {"phone": phone}}
    )
    assert accepted.status_code == 202
    assert (accepted.json()["rail"], accepted.json()["mode"]) == ("wallet", "existing_user")
    assert wait_final(api, order_id)["status"] == "SUCCESS"
