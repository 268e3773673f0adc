"""Wallet payouts end to end: the real handlers on the local runtime, real HTTP to the simulator.

Each test names the money-safety rule it proves (DESIGN.md, "Payout lifecycle").
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities import parameters

from tests.local.conftest import wait_until
from tests.paytm_direct import credit_directly
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.payouts.models import Payout
from tijori_local.dlq import redrive
from tijori_local.runtime import LocalRuntime, RuntimeOptions

pytestmark = pytest.mark.e2e
TOKEN = "e2e-token"
FINAL = {"SUCCESS", "FAILED", "REVERSED"}
_phones = iter(range(8_000_000_000, 8_100_000_000))


@pytest.fixture(scope="module")
def runtime(merchant_credentials: dict[str, Any]) -> Iterator[LocalRuntime]:
    # 60 simulated seconds per real second: Wait states and the schedule run briskly; days are
    # crossed with the simulator's clock advance, which moves Tijori's clock too.
    options = RuntimeOptions(api_port=0, credentials=merchant_credentials, time_scale=60, api_token=TOKEN)
    with LocalRuntime(options) as started:
        yield started


@pytest.fixture
def api(runtime: LocalRuntime) -> httpx.Client:
    return httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)


@pytest.fixture
def sim(runtime: LocalRuntime) -> httpx.Client:
    return httpx.Client(base_url=str(runtime.sim_url), timeout=60)


def new_user(sim: httpx.Client, **fields: Any) -> str:
    phone = str(next(_phones))
    if fields.pop("create", True):
        sim.post("/_sim/users", json={"phone": phone, **fields}).raise_for_status()
    return phone


def payout_body(order_id: str, phone: str, **extra: Any) -> dict[str, Any]:
    return {"order_id": order_id, "amount": "25.00", "payee": {"phone": phone}, **extra}


def status_of(api: httpx.Client, order_id: str) -> dict[str, Any]:
    view: dict[str, Any] = api.get(f"/v1/payouts/{order_id}").json()
    return view


def wait_for_status(
    api: httpx.Client, order_id: str, statuses: set[str], timeout: float = 90
) -> dict[str, Any]:
    assert wait_until(lambda: status_of(api, order_id)["status"] in statuses, timeout=timeout), status_of(
        api, order_id
    )
    return status_of(api, order_id)


def credits_for(sim: httpx.Client, order_id: str) -> int:
    ledger = sim.get("/_sim/ledger", params={"order_id": order_id}).json()
    return sum(1 for entry in ledger if entry["kind"] == "credit")


CREDIT = "/wallet-web/salesToUserCredit"
CHECK = "/wallet-web/checkStatus"


def credit_calls_for(sim: httpx.Client, order_id: str) -> int:
    answer = sim.get("/_sim/requests", params={"path": CREDIT, "order_id": order_id})
    return int(answer.json()["count"])


def paytm_calls_for(sim: httpx.Client, order_id: str) -> list[str]:
    """What Tijori asked Paytm for this order, in order: the simulator's own request log."""
    sequence: list[str] = sim.get("/_sim/requests", params={"order_id": order_id}).json()["sequence"]
    return sequence


def test_twenty_concurrent_identical_posts_make_one_credit(api: httpx.Client, sim: httpx.Client) -> None:
    body = payout_body("E2E-CONCURRENT-1", new_user(sim))
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: api.post("/v1/payouts", json=body), range(20)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["created_at"] for a in answers}) == 1
    wait_for_status(api, "E2E-CONCURRENT-1", {"SUCCESS"})
    assert credits_for(sim, "E2E-CONCURRENT-1") == 1
    # Tijori itself sent one credit: not a second one the simulator refused as a duplicate.
    assert paytm_calls_for(sim, "E2E-CONCURRENT-1") == [CREDIT]


def test_same_order_id_with_another_amount_is_409_and_no_second_credit(
    api: httpx.Client, sim: httpx.Client
) -> None:
    body = payout_body("E2E-CONFLICT-1", new_user(sim))
    assert api.post("/v1/payouts", json=body).status_code == 202
    wait_for_status(api, "E2E-CONFLICT-1", {"SUCCESS"})
    conflict = api.post("/v1/payouts", json={**body, "amount": "2500.00"})
    assert conflict.status_code == 409
    assert conflict.json()["conflicting_fields"] == ["amount"]
    assert credits_for(sim, "E2E-CONFLICT-1") == 1
    assert status_of(api, "E2E-CONFLICT-1")["amount"] == "25.00"


def test_duplicated_sqs_delivery_makes_one_sales_to_user_credit_call(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client
) -> None:
    assert runtime.stack is not None
    body = payout_body("E2E-DUPLICATE-SQS-1", new_user(sim))
    assert api.post("/v1/payouts", json=body).status_code == 202
    # SQS delivers at least once: the same message again, twice.
    sqs = runtime.client("sqs")
    queue_url = runtime.stack.ref("PayoutQueue")
    for _ in range(2):
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"order_id": body["order_id"]}))
    wait_for_status(api, body["order_id"], {"SUCCESS"})
    assert wait_until(
        lambda: (
            int(
                sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])[
                    "Attributes"
                ]["ApproximateNumberOfMessages"]
            )
            == 0
        )
    )
    assert paytm_calls_for(sim, body["order_id"]) == [CREDIT]
    assert credits_for(sim, body["order_id"]) == 1


def test_timeout_after_commit_is_settled_by_a_status_check_with_one_credit(
    api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = "E2E-TIMEOUT-1"
    fault = {
        "kind": "timeout_after_commit",
        "path": "/wallet-web/salesToUserCredit",
        "order_id": order_id,
        "count": 1,
        "delay_seconds": 20,
    }
    sim.post("/_sim/faults", json=fault).raise_for_status()
    assert api.post("/v1/payouts", json=payout_body(order_id, new_user(sim))).status_code == 202
    view = wait_for_status(api, order_id, FINAL, timeout=120)
    assert view["status"] == "SUCCESS"
    assert credits_for(sim, order_id) == 1
    # No resend: after the timeout Tijori asked, and the status check found the credit.
    assert paytm_calls_for(sim, order_id) == [CREDIT, CHECK]


@pytest.mark.parametrize(
    ("amount_on_record", "final"),
    [("25.00", "SUCCESS"), ("10.00", "NEEDS_REVIEW")],
)
def test_stuc_1007_is_settled_by_the_status_check_and_only_a_matching_record_is_success(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client, amount_on_record: str, final: str
) -> None:
    order_id = f"E2E-STUC1007-{amount_on_record.replace('.', '')}"
    phone = new_user(sim)
    # Paytm already holds this merchantOrderId (say, sent by an earlier system): STUC_1007.
    answer = credit_directly(
        str(runtime.sim_url), runtime.credentials, order_id=order_id, phone=phone, amount=amount_on_record
    )
    assert answer["status"] == "SUCCESS"
    assert api.post("/v1/payouts", json=payout_body(order_id, phone)).status_code == 202
    view = wait_for_status(api, order_id, FINAL | {"NEEDS_REVIEW"}, timeout=120)
    assert view["status"] == final
    assert "FAILED" not in [h["to"] for h in view["history"]]
    if final == "NEEDS_REVIEW":
        assert "record is for 10 INR, the payout is 25.00 INR" in view["history"][-1]["reason"]
    # The direct credit, Tijori's one credit (refused as a duplicate), then a status check: the
    # refusal was never taken at its word, and nothing was sent again.
    assert paytm_calls_for(sim, order_id)[:3] == [CREDIT, CREDIT, CHECK]
    assert credit_calls_for(sim, order_id) == 2
    assert credits_for(sim, order_id) == 1


def _set_wallet_key(runtime: LocalRuntime, aes_key: str) -> None:
    assert runtime.stack is not None
    secret = copy.deepcopy(runtime.options.credentials)
    secret["wallet"]["aes_key"] = aes_key
    runtime.client("secretsmanager").put_secret_value(
        SecretId=runtime.stack.ref("MerchantSecret"), SecretString=json.dumps(secret)
    )
    parameters.clear_caches()  # the functions' 300 s cache: as a cold start after a fix would


def test_checksum_misconfiguration_goes_to_the_dlq_and_a_redrive_after_the_fix_succeeds(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client
) -> None:
    assert runtime.stack is not None
    order_id = "E2E-MISCONFIG-1"
    right_key = runtime.options.credentials["wallet"]["aes_key"]
    # The mistake seed 000 warns of: the PG merchant key where the wallet team's AesKey belongs.
    _set_wallet_key(runtime, runtime.options.credentials["pg"]["merchant_key"])
    try:
        assert api.post("/v1/payouts", json=payout_body(order_id, new_user(sim))).status_code == 202
        sqs = runtime.client("sqs")
        dlq = runtime.stack.ref("PayoutDLQ")

        def in_dlq() -> bool:
            attributes = sqs.get_queue_attributes(
                QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
            )
            return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) == 1

        assert wait_until(in_dlq, timeout=120)
        view = status_of(api, order_id)
        assert view["status"] == "PROCESSING"  # not finalised: money never moved, nothing decided
        assert credits_for(sim, order_id) == 0
    finally:
        _set_wallet_key(runtime, right_key)
    refused_before_the_fix = paytm_calls_for(sim, order_id)
    # Each delivery after the first asked for the status before sending: all refused at the checksum.
    assert refused_before_the_fix[0] == CREDIT
    assert set(refused_before_the_fix) <= {CREDIT, CHECK}
    assert redrive(sqs, dlq_url=dlq, queue_url=runtime.stack.ref("PayoutQueue")).moved == 1
    view = wait_for_status(api, order_id, FINAL)
    assert view["status"] == "SUCCESS"
    assert credits_for(sim, order_id) == 1
    # After the fix: one credit, sent only after a status check said Paytm never took the order
    # (an earlier attempt may have reached it); the pending window starts at that send.
    after_the_fix = paytm_calls_for(sim, order_id)[len(refused_before_the_fix) :]
    assert after_the_fix.count(CREDIT) == 1
    assert after_the_fix[after_the_fix.index(CREDIT) - 1] == CHECK
    assert view["first_sent_at"] is not None


def test_exception_after_the_paytm_call_before_the_state_write_is_retried_with_exactly_one_credit(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = "E2E-CRASH-AFTER-CALL-1"
    original = DynamoDbPayoutRepository.transition
    crashed: list[str] = []

    def transition_that_crashes_once(
        self: DynamoDbPayoutRepository, oid: str, **kwargs: Any
    ) -> Payout | None:
        if oid == order_id and kwargs["target"].value == "SUCCESS" and not crashed:
            crashed.append(oid)
            raise RuntimeError("injected: the process died after Paytm answered")
        return original(self, oid, **kwargs)

    monkeypatch.setattr(DynamoDbPayoutRepository, "transition", transition_that_crashes_once)
    assert api.post("/v1/payouts", json=payout_body(order_id, new_user(sim))).status_code == 202
    view = wait_for_status(api, order_id, FINAL, timeout=120)
    assert crashed == [order_id]
    assert view["status"] == "SUCCESS"
    assert view["attempts"] == 2
    assert credits_for(sim, order_id) == 1
    # The retry asked before sending: one credit, then the status check that found it.
    assert paytm_calls_for(sim, order_id) == [CREDIT, CHECK]


def test_five_days_pending_for_a_user_who_never_registers_is_reversed(
    api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = "E2E-NEVER-REGISTERS-1"
    body = payout_body(order_id, new_user(sim, create=False), mode="any_user")
    assert api.post("/v1/payouts", json=body).status_code == 202
    wait_for_status(api, order_id, {"PENDING"})
    sim.post("/_sim/clock/advance", json={"days": 5, "hours": 1}).raise_for_status()
    view = wait_for_status(api, order_id, FINAL)
    assert view["status"] == "REVERSED"
    assert credits_for(sim, order_id) == 0
    assert credit_calls_for(sim, order_id) == 1


def test_pending_resolves_through_the_scheduled_runs_with_no_execution_per_payout(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client
) -> None:
    assert runtime.stack is not None
    order_id = "E2E-KYC-RUNS-1"
    phone = new_user(sim, kyc=False)
    assert api.post("/v1/payouts", json=payout_body(order_id, phone)).status_code == 202
    wait_for_status(api, order_id, {"PENDING"})
    sim.post("/_sim/users", json={"phone": phone, "kyc": True}).raise_for_status()
    sim.post("/_sim/clock/advance", json={"hours": 3}).raise_for_status()
    view = wait_for_status(api, order_id, FINAL)
    assert view["status"] == "SUCCESS"
    assert credits_for(sim, order_id) == 1
    assert credit_calls_for(sim, order_id) == 1
    # Only the scheduled runs checked it: the one state machine that ran is the Express pending-checks
    # run (the stack's other one, reconciliation, is started by an operator or its daily schedule,
    # which the local runtime keeps off).
    stepfunctions = runtime.client("stepfunctions")
    machines = stepfunctions.list_state_machines()["stateMachines"]
    ran = {
        m["name"]
        for m in machines
        if runtime.stack.stack_name in m["name"]
        and stepfunctions.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
    }
    assert ran == {f"{runtime.stack.stack_name}-pending-checks"}
    assert set(paytm_calls_for(sim, order_id)[1:]) == {CHECK}


def test_a_pending_checks_run_that_fails_is_caught_up_by_a_later_run(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = "E2E-RUNS-FAIL-1"
    phone = new_user(sim, kyc=False)
    assert api.post("/v1/payouts", json=payout_body(order_id, phone)).status_code == 202
    wait_for_status(api, order_id, {"PENDING"})
    # Every run fails while reading the pending payouts due (DynamoDB throttled, say) ...
    original = DynamoDbPayoutRepository.pending_since_within
    failing = {"on": True}

    def pending_since_within(self: DynamoDbPayoutRepository, *args: Any, **kwargs: Any) -> Any:
        if failing["on"]:
            raise RuntimeError("injected: the pending-checks run dies")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDbPayoutRepository, "pending_since_within", pending_since_within)
    sim.post("/_sim/users", json={"phone": phone, "kyc": True}).raise_for_status()
    sim.post("/_sim/clock/advance", json={"hours": 3}).raise_for_status()
    sfn = runtime.client("stepfunctions")
    assert runtime.stack is not None
    machine = runtime.stack.ref("PendingChecksStateMachine")

    def a_run_failed() -> bool:
        return bool(sfn.list_executions(stateMachineArn=machine, statusFilter="FAILED")["executions"])

    assert wait_until(a_run_failed, timeout=60)
    assert status_of(api, order_id)["status"] == "PENDING"
    # ... then recovers: the next run starts from the cursor the failed runs never moved.
    failing["on"] = False
    view = wait_for_status(api, order_id, FINAL)
    assert view["status"] == "SUCCESS"
    assert credit_calls_for(sim, order_id) == 1


def _tijori(runtime: LocalRuntime, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The operator's `tijori` command against the local runtime, in a process of its own."""
    assert runtime.stack is not None
    tijori = Path(sys.executable).parent / "tijori"
    return subprocess.run(  # noqa: S603 - our own console script
        [
            str(tijori),
            *arguments,
            "--endpoint-url",
            runtime.aws_endpoint_url,
            "--stack-name",
            runtime.stack.stack_name,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _credited_while_paytm_status_fails_past_the_deadline(
    api: httpx.Client, sim: httpx.Client, order_id: str
) -> dict[str, Any]:
    """A pending payout (1-day window) that Paytm credits while its status API fails for this
    order (HTTP 500): Tijori cannot see the credit before its deadline (1 day + 1 day of slack),
    so the payout is NEEDS_REVIEW with Paytm's money with the payee."""
    phone = new_user(sim, kyc=False)
    assert api.post("/v1/payouts", json=payout_body(order_id, phone, pending_days_limit=1)).status_code == 202
    wait_for_status(api, order_id, {"PENDING"})
    fault = {"kind": "http_500", "path": CHECK, "order_id": order_id, "count": 10_000}
    sim.post("/_sim/faults", json=fault).raise_for_status()
    sim.post("/_sim/users", json={"phone": phone, "kyc": True}).raise_for_status()
    sim.post("/_sim/clock/advance", json={"days": 2, "hours": 1}).raise_for_status()
    return wait_for_status(api, order_id, {"NEEDS_REVIEW"})


def test_a_payout_reviewed_at_its_deadline_is_checked_on_and_a_late_success_stays_success(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = "E2E-REVIEW-LATE-SUCCESS-1"
    view = _credited_while_paytm_status_fails_past_the_deadline(api, sim, order_id)
    assert "settlement deadline" in view["history"][-1]["reason"]
    listed = _tijori(runtime, "payouts", "list", "--status", "NEEDS_REVIEW", "--json")
    assert listed.returncode == 0, listed.stderr
    assert order_id in [row["order_id"] for row in json.loads(listed.stdout)]
    # Paytm answers again; the operator asks now, and the answer settles the payout.
    sim.delete("/_sim/faults").raise_for_status()
    recheck = _tijori(runtime, "payouts", "recheck", order_id)
    assert recheck.returncode == 0, recheck.stderr
    report = json.loads(recheck.stdout)
    assert report["status_before"] == "NEEDS_REVIEW"
    assert report["status_after"] == "SUCCESS"
    assert report["paytm"]["matches_payout"] is True
    view = status_of(api, order_id)
    assert [h["to"] for h in view["history"]][-2:] == ["NEEDS_REVIEW", "SUCCESS"]
    assert view["history"][-1]["reason"] == "credited to the payee's wallet (status check after review)"
    assert credits_for(sim, order_id) == 1
    assert credit_calls_for(sim, order_id) == 1


def test_a_payout_in_review_is_checked_daily_by_the_scheduled_runs_without_an_operator(
    api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = "E2E-REVIEW-DAILY-1"
    _credited_while_paytm_status_fails_past_the_deadline(api, sim, order_id)
    sim.delete("/_sim/faults").raise_for_status()
    sim.post("/_sim/clock/advance", json={"days": 1, "hours": 1}).raise_for_status()
    view = wait_for_status(api, order_id, FINAL)
    assert view["status"] == "SUCCESS"
    assert credits_for(sim, order_id) == 1


def test_an_operator_recheck_of_a_mismatched_record_prints_it_and_keeps_the_payout_in_review(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = "E2E-RECHECK-MISMATCH-1"
    phone = new_user(sim)
    credit_directly(str(runtime.sim_url), runtime.credentials, order_id=order_id, phone=phone, amount="10.00")
    assert api.post("/v1/payouts", json=payout_body(order_id, phone)).status_code == 202
    wait_for_status(api, order_id, {"NEEDS_REVIEW"})
    recheck = _tijori(runtime, "payouts", "recheck", order_id)
    assert recheck.returncode == 0, recheck.stderr
    report = json.loads(recheck.stdout)
    assert report["paytm"]["txn_status"] == "SUCCESS"
    assert report["paytm"]["matches_payout"] is False
    assert report["status_after"] == "NEEDS_REVIEW"
    missing = _tijori(runtime, "payouts", "recheck", "E2E-NO-SUCH-PAYOUT")
    assert missing.returncode == 1
    assert "UnknownPayoutError" in missing.stderr
