"""Payee validations (seed 001) end to end: the real handlers on the local runtime, real HTTP and
checksums between Tijori and the simulator, the real pending loop and sweep. Each test names the
rule it proves (README, "Payee validations"), and asserts what Tijori asked Paytm (the
simulator's request log), not only where the validation ended."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities import parameters

from paytm_signing import generate_signature
from tests.local.conftest import wait_until
from tijori_local.dlq import redrive
from tijori_local.runtime import LocalRuntime, RuntimeOptions

pytestmark = pytest.mark.e2e
TOKEN = "e2e-validations-token"
VALIDATE = "/bpay/api/v1/beneficiary/validate"
STATUS = "/bpay/api/v1/disburse/order/query"
FINAL = {"VALID", "INVALID", "FAILED"}
_phones = iter(range(7_300_000_000, 7_400_000_000))
_ids = iter(range(1, 10_000))


@pytest.fixture(scope="module")
def runtime(merchant_credentials: dict[str, Any]) -> Iterator[LocalRuntime]:
    # 60 simulated seconds per real second: the sweep's 2 minutes after an accepted send pass in
    # 2 s, the pending loop's check ages in seconds.
    options = RuntimeOptions(api_port=0, credentials=merchant_credentials, time_scale=60, api_token=TOKEN)
    with LocalRuntime(options) as started:
        yield started


@pytest.fixture
def api(runtime: LocalRuntime) -> httpx.Client:
    return httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)


@pytest.fixture
def sim(runtime: LocalRuntime) -> httpx.Client:
    return httpx.Client(base_url=str(runtime.sim_url), timeout=60)


def new_id(prefix: str) -> str:
    return f"E2E-VAL-{prefix}-{next(_ids)}"


def new_user(sim: httpx.Client, **fields: Any) -> str:
    phone = str(next(_phones))
    if fields.pop("create", True):
        sim.post("/_sim/users", json={"phone": phone, **fields}).raise_for_status()
    return phone


def submit(api: httpx.Client, validation_id: str, phone: str) -> dict[str, Any]:
    answer = api.post("/v1/payee-validations", json={"validation_id": validation_id, "phone": phone})
    assert answer.status_code == 202, answer.text
    view: dict[str, Any] = answer.json()
    return view


def view_of(api: httpx.Client, validation_id: str) -> dict[str, Any]:
    answer = api.get(f"/v1/payee-validations/{validation_id}")
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


def wait_status(
    api: httpx.Client, validation_id: str, statuses: set[str], timeout: float = 90
) -> dict[str, Any]:
    assert wait_until(lambda: view_of(api, validation_id)["status"] in statuses, timeout=timeout), view_of(
        api, validation_id
    )
    return view_of(api, validation_id)


def paytm_calls(sim: httpx.Client, order_id: str) -> list[str]:
    """What Tijori asked Paytm about this id, in order (the simulator's request log)."""
    sequence: list[str] = sim.get("/_sim/requests", params={"order_id": order_id}).json()["sequence"]
    return sequence


def pennies_in_ledger(sim: httpx.Client, order_id: str) -> Decimal:
    ledger = sim.get("/_sim/ledger", params={"order_id": order_id}).json()
    return sum((Decimal(str(e["amount"])) for e in ledger if e["kind"] == "penny_drop"), Decimal("0"))


# ---- the result: VALID with its penny, INVALID read exactly as the seed gives the codes ----------
def test_a_valid_wallet_is_valid_with_the_penny_recorded_and_the_sims_ledger_moved_one_rupee(
    api: httpx.Client, sim: httpx.Client
) -> None:
    validation_id, phone = new_id("OK"), new_user(sim)
    accepted = submit(api, validation_id, phone)
    assert accepted["status"] == "ACCEPTED"
    assert accepted["phone"] == "*" * 8 + phone[-2:]
    view = wait_status(api, validation_id, FINAL)
    assert view["status"] == "VALID"
    assert (view["paytm_code"], view["penny_amount"]) == ("DE_001", "1.00")
    assert view["paytm_order_id"]
    assert pennies_in_ledger(sim, validation_id) == Decimal("1.00")
    calls = paytm_calls(sim, validation_id)
    # One validate call; the result came from the status query, after it.
    assert calls.count(VALIDATE) == 1
    assert calls[0] == VALIDATE
    assert STATUS in calls


@pytest.mark.parametrize(
    ("case", "user", "code"),
    [
        ("NOWALLET", {"wallet_exists": False}, "DE_1222"),
        ("NOKYC", {"kyc": False}, "DE_1222"),
        ("LIMIT", {"limits": {"max_balance": "0.50"}}, "DE_1223"),
        ("NOUSER", {"create": False}, "DE_702"),
    ],
)
def test_a_wallet_that_cannot_take_money_is_invalid_never_valid_and_no_penny_moves(
    api: httpx.Client, sim: httpx.Client, case: str, user: dict[str, Any], code: str
) -> None:
    validation_id = new_id(case)
    submit(api, validation_id, new_user(sim, **user))
    view = wait_status(api, validation_id, FINAL)
    assert view["status"] == "INVALID"
    assert view["paytm_code"] == code
    assert view["penny_amount"] is None
    assert "VALID" not in [step["to"] for step in view["history"]]
    assert "cannot take money" in view["reason"]
    assert pennies_in_ledger(sim, validation_id) == Decimal("0")
    assert paytm_calls(sim, validation_id).count(VALIDATE) == 1


# ---- PENDING, then final through the callback and the status query --------------------------------
def test_a_validation_held_pending_is_pending_then_valid_through_the_callback_and_the_status_query(
    api: httpx.Client, sim: httpx.Client
) -> None:
    validation_id = new_id("HELD")
    sim.post(
        "/_sim/script", json={"order_id": validation_id, "outcome": "PENDING", "api": "validation"}
    ).raise_for_status()
    submit(api, validation_id, new_user(sim))
    pending = wait_status(api, validation_id, {"PENDING"} | FINAL)
    assert pending["status"] == "PENDING"
    assert pending["paytm_code"] == "DE_101"
    sim.post(f"/_sim/orders/{validation_id}/resolve", json={"outcome": "SUCCESS"}).raise_for_status()
    view = wait_status(api, validation_id, FINAL)
    assert view["status"] == "VALID"
    assert [step["to"] for step in view["history"]] == ["ACCEPTED", "PENDING", "VALID"]
    assert view["penny_amount"] == "1.00"
    assert paytm_calls(sim, validation_id).count(VALIDATE) == 1


def test_a_lost_callback_is_found_by_the_sweeps_status_query(api: httpx.Client, sim: httpx.Client) -> None:
    validation_id = new_id("LOST")
    sim.post(
        "/_sim/faults", json={"kind": "drop_callback", "path": VALIDATE, "order_id": validation_id}
    ).raise_for_status()
    submit(api, validation_id, new_user(sim))
    view = wait_status(api, validation_id, FINAL)
    assert view["status"] == "VALID"
    sent = [c for c in sim.get("/_sim/callbacks").json() if validation_id in c["body"]]
    assert [c["kind"] for c in sent] == ["dropped"]
    assert paytm_calls(sim, validation_id)[:2] == [VALIDATE, STATUS]


# ---- a callback is never believed on its own -----------------------------------------------------
def _forged_callback(runtime: LocalRuntime, validation_id: str, phone: str) -> httpx.Response:
    body = json.dumps(
        {
            "status": "SUCCESS",
            "statusCode": "DE_001",
            "statusMessage": "Successful",
            "result": {
                "mid": runtime.credentials.mid,
                "orderId": validation_id,
                "beneficiaryPhoneNo": phone,
                "amount": "1.00",
            },
        }
    )
    return httpx.post(
        f"{runtime.api_url}/v1/callbacks/payouts",
        content=body.encode(),
        headers={
            "Content-Type": "application/json",
            "x-mid": runtime.credentials.mid,
            "x-checksum": generate_signature(body, "F0RGED-KEY-16-by"),
        },
    )


def test_a_forged_payouts_callback_is_401_and_changes_nothing_and_asks_nothing(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client
) -> None:
    validation_id, phone = new_id("FORGED"), new_user(sim)
    sim.post(
        "/_sim/script", json={"order_id": validation_id, "outcome": "PENDING", "api": "validation"}
    ).raise_for_status()
    submit(api, validation_id, phone)
    wait_status(api, validation_id, {"PENDING"})
    # Past the pending loop's 12-hour check age: its next is at 24 hours, 11 simulated hours (11 real
    # minutes here) away, so nothing but the forged callback could ask Paytm in the window below.
    sim.post("/_sim/clock/advance", json={"hours": 13}).raise_for_status()

    def settled_calls() -> bool:
        # Quiet for several scheduled rounds (one every 1-2 real seconds, each now also sweeping
        # wallet links), not just one: the rounds that crossed the 13 hours are all done.
        calls = paytm_calls(sim, validation_id)
        time.sleep(8)
        return paytm_calls(sim, validation_id) == calls and STATUS in calls

    assert wait_until(settled_calls, timeout=60)
    before, calls_before = view_of(api, validation_id), paytm_calls(sim, validation_id)
    answer = _forged_callback(runtime, validation_id, phone)
    assert answer.status_code == 401
    time.sleep(2)
    assert view_of(api, validation_id) == before
    assert paytm_calls(sim, validation_id) == calls_before  # no status query was asked for
    sim.post(f"/_sim/orders/{validation_id}/resolve", json={"outcome": "SUCCESS"}).raise_for_status()
    assert wait_status(api, validation_id, FINAL)["status"] == "VALID"


def test_a_forged_callback_before_the_genuine_one_is_refused_and_the_status_query_settles_it(
    api: httpx.Client, sim: httpx.Client
) -> None:
    validation_id = new_id("FORGEDFIRST")
    sim.post(
        "/_sim/faults", json={"kind": "forged_checksum_callback", "path": VALIDATE, "order_id": validation_id}
    ).raise_for_status()
    submit(api, validation_id, new_user(sim, kyc=False))
    view = wait_status(api, validation_id, FINAL)
    # The forged one claimed DE_001; Paytm's record says DE_1222.
    assert (view["status"], view["paytm_code"]) == ("INVALID", "DE_1222")
    sent = [c for c in sim.get("/_sim/callbacks", params={"wait": "1"}).json() if validation_id in c["body"]]
    assert {c["kind"]: c["statusCode"] for c in sent} == {"forged": 401, "final": 200}


# ---- replay and conflict --------------------------------------------------------------------------
def test_a_replay_answers_the_stored_validation_with_one_validate_call_and_another_body_is_409(
    api: httpx.Client, sim: httpx.Client
) -> None:
    validation_id, phone = new_id("REPLAY"), new_user(sim)
    first = submit(api, validation_id, phone)
    wait_status(api, validation_id, FINAL)
    again = submit(api, validation_id, phone)
    assert (again["validation_id"], again["created_at"]) == (first["validation_id"], first["created_at"])
    assert again["status"] == "VALID"
    other = api.post("/v1/payee-validations", json={"validation_id": validation_id, "phone": new_user(sim)})
    assert other.status_code == 409
    assert other.json()["conflicting_fields"] == ["phone"]
    time.sleep(1)
    assert paytm_calls(sim, validation_id).count(VALIDATE) == 1


def test_an_invalid_request_is_422_per_field_and_sends_nothing(api: httpx.Client, sim: httpx.Client) -> None:
    answer = api.post("/v1/payee-validations", json={"validation_id": "E2E VAL BAD", "phone": "5123456789"})
    assert answer.status_code == 422
    assert {d["field"] for d in answer.json()["detail"]} == {"validation_id", "phone"}
    assert api.get("/v1/payee-validations/E2E-VAL-NEVER").status_code == 404


# ---- ambiguity: never FAILED, never sent twice ----------------------------------------------------
def test_a_timeout_after_commit_on_validate_makes_one_validate_call_and_the_status_query_settles_it(
    api: httpx.Client, sim: httpx.Client
) -> None:
    validation_id = new_id("TIMEOUT")
    fault = {"kind": "timeout_after_commit", "path": VALIDATE, "order_id": validation_id, "delay_seconds": 20}
    sim.post("/_sim/faults", json=fault).raise_for_status()
    submit(api, validation_id, new_user(sim))
    view = wait_status(api, validation_id, FINAL, timeout=120)
    assert view["status"] == "VALID"
    assert "FAILED" not in [step["to"] for step in view["history"]]
    calls = paytm_calls(sim, validation_id)
    assert calls.count(VALIDATE) == 1
    assert calls.index(STATUS) > calls.index(VALIDATE)
    assert pennies_in_ledger(sim, validation_id) == Decimal("1.00")


def _set_payouts_key(runtime: LocalRuntime, key: str) -> None:
    assert runtime.stack is not None
    secret = copy.deepcopy(runtime.options.credentials)
    secret["payouts"]["merchant_key"] = key
    runtime.client("secretsmanager").put_secret_value(
        SecretId=runtime.stack.ref("MerchantSecret"), SecretString=json.dumps(secret)
    )
    parameters.clear_caches()


def test_a_wrong_payouts_key_sends_the_message_to_the_dlq_never_failed_and_a_redrive_after_the_fix_validates(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client
) -> None:
    assert runtime.stack is not None
    validation_id = new_id("MISCONFIG")
    right_key = runtime.options.credentials["payouts"]["merchant_key"]
    sqs, dlq = runtime.client("sqs"), runtime.stack.ref("PayoutDLQ")

    def in_dlq() -> bool:
        attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) == 1

    _set_payouts_key(runtime, "WrongPayoutsKey1")
    try:
        submit(api, validation_id, new_user(sim))
        assert wait_until(in_dlq, timeout=120)
        view = view_of(api, validation_id)
        assert view["status"] == "ACCEPTED"  # not finalised: nothing was decided
        assert view["paytm_code"] in (None, "DE_409")
        assert pennies_in_ledger(sim, validation_id) == Decimal("0")
    finally:
        _set_payouts_key(runtime, right_key)
    refused = paytm_calls(sim, validation_id)
    assert refused[0] == VALIDATE
    assert set(refused) <= {VALIDATE, STATUS}
    assert redrive(sqs, dlq_url=dlq, queue_url=runtime.stack.ref("PayoutQueue")).moved == 1
    view = wait_status(api, validation_id, FINAL)
    assert view["status"] == "VALID"
    after = paytm_calls(sim, validation_id)[len(refused) :]
    # After the fix: the status query first (an earlier send may have reached Paytm), then one send.
    assert after.count(VALIDATE) == 1
    assert after[after.index(VALIDATE) - 1] == STATUS


# ---- the demo's section ---------------------------------------------------------------------------
def test_the_validations_demo_reconciles_every_status_and_every_penny_with_the_simulator(
    runtime: LocalRuntime,
) -> None:
    from tijori_local.demo_validations import run_validations

    section = run_validations(runtime, lambda line: None)
    assert section["total"] >= 30
    assert section["expected_mismatches"] == []
    assert section["non_final"] == []
    assert set(section["held_pending_before_resolving"].values()) == {"PENDING"}
    assert section["callbacks"] == {"lost": 3, "forged_sent": 3, "forged_refused_401": 3}
    reconciliation = section["reconciliation"]
    assert reconciliation["balanced"] is True, reconciliation
    assert reconciliation["pennies_recorded"] == reconciliation["pennies_in_sim_ledger"] == "18.00"


# ---- payouts that name a validation ----------------------------------------------------------
SALES_TO_USER_CREDIT = "/wallet-web/salesToUserCredit"


def _payout(order_id: str, phone: str, validation_id: str) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "amount": "10.00",
        "payee": {"phone": phone},
        "payee_validation_id": validation_id,
    }


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        pytest.param({"kyc": True, "wallet_exists": False}, "INVALID", id="DE_1222: no wallet"),
        pytest.param({"create": False}, "INVALID", id="DE_702: no such user"),
    ],
)
def test_a_payout_naming_an_invalid_validation_is_refused_and_nothing_is_sent(
    api: httpx.Client, sim: httpx.Client, user: dict[str, Any], expected: str
) -> None:
    validation_id, phone = new_id("PAYOUT-INVALID"), new_user(sim, **user)
    submit(api, validation_id, phone)
    assert wait_status(api, validation_id, FINAL)["status"] == expected
    order_id = f"E2E-VAL-PAYOUT-{next(_ids)}"
    refused = api.post("/v1/payouts", json=_payout(order_id, phone, validation_id))
    assert refused.status_code == 409, refused.text
    assert (refused.json()["reason"], refused.json()["payee_validation_id"]) == (
        "validation_not_valid",
        validation_id,
    )
    assert refused.json()["detail"][0]["field"] == "payee_validation_id"
    assert api.get(f"/v1/payouts/{order_id}").status_code == 404
    assert paytm_calls(sim, order_id) == []


def test_a_payout_naming_a_valid_validation_of_the_same_phone_is_paid_and_of_another_phone_refused(
    api: httpx.Client, sim: httpx.Client
) -> None:
    validation_id, phone = new_id("PAYOUT-VALID"), new_user(sim, kyc=True)
    submit(api, validation_id, phone)
    assert wait_status(api, validation_id, FINAL)["status"] == "VALID"
    other_phone = new_user(sim, kyc=True)
    mismatch = api.post(
        "/v1/payouts", json=_payout(f"E2E-VAL-PAYOUT-{next(_ids)}", other_phone, validation_id)
    )
    assert (mismatch.status_code, mismatch.json()["reason"]) == (409, "validation_for_another_phone")
    unknown = api.post("/v1/payouts", json=_payout(f"E2E-VAL-PAYOUT-{next(_ids)}", phone, "E2E-VAL-NONE-1"))
    assert (unknown.status_code, unknown.json()["reason"]) == (409, "unknown_validation")
    order_id = f"E2E-VAL-PAYOUT-{next(_ids)}"
    accepted = api.post("/v1/payouts", json=_payout(order_id, phone, validation_id))
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["payee_validation_id"] == validation_id
    assert wait_until(lambda: api.get(f"/v1/payouts/{order_id}").json()["status"] == "SUCCESS", timeout=90)
    assert paytm_calls(sim, order_id).count(SALES_TO_USER_CREDIT) == 1
