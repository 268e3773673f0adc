"""The local runtime runs the real template: routes, SQS batches, the scheduled Express state
machine, restarts."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from paytm_signing import MerchantCredentials, TokenFormat
from tests.conftest import load_event
from tests.local.conftest import API_TOKEN, wait_until
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest
from tijori_local.deploy import UnresolvedReferenceError
from tijori_local.runtime import (
    PAYTM_URL_PARAMETERS,
    PREPAID_HEADER_STAND_INS,
    LocalRuntime,
    RuntimeOptions,
    generated_credentials,
)
from tijori_local.sim.client import SimClient
from tijori_local.template import TEMPLATE_PATH

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def _payout_body(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "amount": "10.00", "payee": {"phone": "9876543210"}}


def _item(runtime: LocalRuntime, order_id: str) -> dict[str, Any] | None:
    assert runtime.stack is not None
    answer = runtime.client("dynamodb").get_item(
        TableName=runtime.stack.ref("PayoutsTable"), Key={"order_id": {"S": order_id}}
    )
    item: dict[str, Any] | None = answer.get("Item")
    return item


def test_route_returns_what_its_handler_returns(runtime: LocalRuntime) -> None:
    response = httpx.post(f"{runtime.api_url}/v1/payouts", json=_payout_body("RT-ROUTE-1"), headers=AUTH)
    assert response.status_code == 202
    direct = runtime.invoke(
        "InitiateFunction",
        load_event("initiate_get_payout")
        | {
            "rawPath": "/v1/payouts/RT-ROUTE-1",
            "pathParameters": {"order_id": "RT-ROUTE-1"},
        },
    )
    over_http = httpx.get(f"{runtime.api_url}/v1/payouts/RT-ROUTE-1", headers=AUTH)
    assert over_http.status_code == direct["statusCode"] == 200
    assert over_http.json()["order_id"] == json.loads(direct["body"])["order_id"] == "RT-ROUTE-1"
    assert over_http.headers["content-type"].startswith("application/json")


def test_merchant_routes_need_the_api_token(runtime: LocalRuntime) -> None:
    assert httpx.get(f"{runtime.api_url}/v1/payouts/ANY").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.get(f"{runtime.api_url}/v1/payouts/ANY", headers=wrong).status_code == 401


def test_unknown_route_is_404(runtime: LocalRuntime) -> None:
    assert httpx.get(f"{runtime.api_url}/v1/nothing-here", headers=AUTH).status_code == 404


def test_callback_route_is_open_and_gets_the_raw_form_body(runtime: LocalRuntime) -> None:
    event = load_event("callback_pg")
    raw = base64.b64decode(event["body"])
    headers = {"content-type": "application/x-www-form-urlencoded"}
    response = httpx.post(f"{runtime.api_url}/v1/callbacks/pg", content=raw, headers=headers)
    assert response.status_code == 200
    assert response.json()["order_id"] == "PG-EVT-0001"
    forged = raw.replace(b"499.00", b"4990.00")
    assert (
        httpx.post(f"{runtime.api_url}/v1/callbacks/pg", content=forged, headers=headers).status_code == 401
    )


def test_sqs_batch_with_a_poisoned_record_deletes_the_rest_and_the_poison_reaches_the_dlq(
    runtime: LocalRuntime,
) -> None:
    assert runtime.stack is not None
    sqs = runtime.client("sqs")
    for order_id in ("RT-SQS-1", "RT-SQS-2"):
        assert (
            httpx.post(f"{runtime.api_url}/v1/payouts", json=_payout_body(order_id), headers=AUTH).status_code
            == 202
        )
    sqs.send_message(QueueUrl=runtime.stack.ref("PayoutQueue"), MessageBody="poison: not a payout message")
    assert wait_until(
        lambda: all(
            # processed: unknown payees with existing_user fail with Paytm's STUC_1002
            (item := _item(runtime, order_id)) is not None and item["status"]["S"] == "FAILED"
            for order_id in ("RT-SQS-1", "RT-SQS-2")
        )
    )
    dlq = runtime.stack.ref("PayoutDLQ")

    def poison_in_dlq() -> bool:
        attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) >= 1

    assert wait_until(poison_in_dlq, timeout=60)
    message = sqs.receive_message(QueueUrl=dlq, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert message["Body"] == "poison: not a payout message"
    assert int(message["Attributes"]["ApproximateReceiveCount"]) >= 5  # maxReceiveCount in template.yaml


def test_the_schedule_starts_express_pending_checks_runs_that_succeed(runtime: LocalRuntime) -> None:
    # rate(1 minute) at time scale 600 is every 0.2 real seconds (the runtime's floor).
    assert runtime.stack is not None
    machine = runtime.stack.state_machines["PendingChecksStateMachine"]
    assert machine.machine_type == "EXPRESS"
    before = runtime.state_machine_runs
    assert wait_until(lambda: runtime.state_machine_runs >= before + 2, timeout=30)
    sfn = runtime.client("stepfunctions")

    def a_run_succeeded() -> bool:
        runs = sfn.list_executions(stateMachineArn=machine.arn)["executions"]
        return any(run["status"] == "SUCCEEDED" for run in runs)

    assert wait_until(a_run_succeeded, timeout=30)
    run = next(
        r
        for r in sfn.list_executions(stateMachineArn=machine.arn)["executions"]
        if r["status"] == "SUCCEEDED"
    )
    history = sfn.get_execution_history(executionArn=run["executionArn"], maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered[0] == "CheckDue"


def test_scheduled_runs_alone_take_a_pending_payout_to_review_as_a_compressed_day_passes(
    merchant_credentials: dict[str, Any],
) -> None:
    with LocalRuntime(
        RuntimeOptions(api_port=0, credentials=merchant_credentials, time_scale=86_400)
    ) as runtime:
        assert runtime.stack is not None
        table = (
            __import__("boto3")
            .resource("dynamodb", region_name="ap-south-1", endpoint_url=runtime.aws_endpoint_url)
            .Table(runtime.stack.ref("PayoutsTable"))
        )
        repository = DynamoDbPayoutRepository(table)
        now = runtime.clock.now()
        request = PayoutRequest.model_validate(_payout_body("RT-RUNS-1") | {"pending_days_limit": 0})
        repository.create(Payout.accept(request, now), first_check_at=now + timedelta(days=30))
        repository.transition(
            "RT-RUNS-1",
            expected=PayoutStatus.ACCEPTED,
            target=PayoutStatus.PROCESSING,
            at=now,
            reason="test",
            next_check_at=now + timedelta(days=30),
            first_send_at=now,
        )
        repository.transition(
            "RT-RUNS-1",
            expected=PayoutStatus.PROCESSING,
            target=PayoutStatus.PENDING,
            at=now,
            reason="test",
            next_check_at=None,
            pending_since=now,
        )

        def in_review() -> bool:
            payout = repository.get("RT-RUNS-1")
            return payout is not None and payout.status is PayoutStatus.NEEDS_REVIEW

        # No execution per payout, no Wait state: the scheduled Express runs find it at its check
        # ages, and the one at a day (its deadline with pendingDaysLimit 0) moves it to review.
        assert wait_until(in_review, timeout=90)
        assert runtime.clock.now() - now >= timedelta(days=1)
        assert runtime.state_machine_runs >= 2


def test_lambda_task_error_is_reported_with_its_error_name(runtime: LocalRuntime) -> None:
    assert runtime.stack is not None
    sfn = runtime.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=runtime.stack.ref("PendingChecksStateMachine"),
        name="run-with-a-bad-round",
        input=json.dumps({"pending_checks": {"round": -1}}),
    )["executionArn"]
    assert wait_until(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING")
    description = sfn.describe_execution(executionArn=execution)
    assert description["status"] == "FAILED"
    assert description["error"] == "ValidationError"


def test_broken_ref_fails_the_deploy_naming_it(tmp_path: Path, merchant_credentials: dict[str, Any]) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE_PATH.read_text().replace("!Ref PayoutQueue", "!Ref PayoutQueu", 1))
    runtime = LocalRuntime(RuntimeOptions(api_port=0, credentials=merchant_credentials, template_path=broken))
    with pytest.raises(UnresolvedReferenceError, match="PayoutQueu"):
        runtime.start()


def test_a_restart_starts_the_tables_and_the_simulator_empty_together(
    merchant_credentials: dict[str, Any],
) -> None:
    """README "Running it locally": neither side remembers a payout the other has forgotten, so an
    old order id can never meet a fresh simulator that would pay it again."""
    options = RuntimeOptions(
        api_port=0, credentials=merchant_credentials, time_scale=600, api_token=API_TOKEN
    )
    with LocalRuntime(options) as first:
        httpx.post(f"{first.sim_url}/_sim/users", json={"phone": "9876543210"}).raise_for_status()
        answer = httpx.post(f"{first.api_url}/v1/payouts", json=_payout_body("RT-RESTART-1"), headers=AUTH)
        assert answer.status_code == 202
        assert wait_until(
            lambda: (_item(first, "RT-RESTART-1") or {}).get("status", {}).get("S") == "SUCCESS"
        )
        assert httpx.get(f"{first.sim_url}/_sim/ledger", params={"order_id": "RT-RESTART-1"}).json()
    with LocalRuntime(options) as second:
        assert _item(second, "RT-RESTART-1") is None
        assert httpx.get(f"{second.sim_url}/_sim/ledger", params={"order_id": "RT-RESTART-1"}).json() == []
        assert httpx.get(f"{second.sim_url}/_sim/orders/RT-RESTART-1").status_code == 404


def test_every_paytm_family_points_at_the_simulator_and_each_function_gets_the_ones_it_calls(
    runtime: LocalRuntime,
) -> None:
    assert runtime.stack is not None
    # Seed 003's base URL is the simulator's prepaid gate (its own port, able to refuse connections).
    assert runtime.sim_prepaid_url is not None
    assert runtime.sim_prepaid_url != runtime.sim_url
    assert {name: runtime.stack.ref(name) for name in PAYTM_URL_PARAMETERS} == {
        **dict.fromkeys(PAYTM_URL_PARAMETERS, runtime.sim_url),
        "PaytmPrepaidBaseUrl": runtime.sim_prepaid_url,
    }
    paytm_urls = {
        logical_id: sorted(name for name in spec.environment if name.startswith("PAYTM_"))
        for logical_id, spec in runtime.stack.functions.items()
    }
    assert paytm_urls == {
        # Auto-debit's linking calls (seed 002) go to the accounts host.
        "InitiateFunction": ["PAYTM_ACCOUNTS_BASE_URL", "PAYTM_PG_BASE_URL"],
        "PayoutFunction": [
            "PAYTM_PAYOUTS_BASE_URL",
            "PAYTM_PG_BASE_URL",
            "PAYTM_PREPAID_BASE_URL",
            "PAYTM_WALLET_BASE_URL",
        ],
        "StatusPollerFunction": ["PAYTM_PAYOUTS_BASE_URL", "PAYTM_PG_BASE_URL", "PAYTM_WALLET_BASE_URL"],
        "CallbackFunction": [],
    }


def test_a_stack_whose_secret_holds_only_the_wallet_section_pays_out_end_to_end(
    merchant_credentials: dict[str, Any],
) -> None:
    """A stack that only pays out needs only the wallet section; the simulator knows this merchant
    for the wallet alone (every other product's calls would be refused)."""
    wallet_only = {"mid": merchant_credentials["mid"], "wallet": merchant_credentials["wallet"]}
    options = RuntimeOptions(api_port=0, credentials=wallet_only, time_scale=600, api_token=API_TOKEN)
    with LocalRuntime(options) as runtime:
        assert runtime.credentials.products == ("wallet",)
        httpx.post(f"{runtime.sim_url}/_sim/users", json={"phone": "9876543210"}).raise_for_status()
        answer = httpx.post(
            f"{runtime.api_url}/v1/payouts", json=_payout_body("RT-WALLET-ONLY-1"), headers=AUTH
        )
        assert answer.status_code == 202
        assert wait_until(
            lambda: (_item(runtime, "RT-WALLET-ONLY-1") or {}).get("status", {}).get("S") == "SUCCESS"
        )
        ledger = httpx.get(f"{runtime.sim_url}/_sim/ledger", params={"order_id": "RT-WALLET-ONLY-1"}).json()
        (credit,) = [entry for entry in ledger if entry["kind"] == "credit"]
        assert Decimal(str(credit["amount"])) == Decimal("10.00")
        # Its scheduled runs check what it has: payouts; no payment kind fails the round.
        done = runtime.invoke("StatusPollerFunction", {"pending_checks": {"round": 0}})
        assert set(done["by_kind"]) == {"payout"}
        # A payment asks for the PG product it lacks: 503 naming the section, nothing stored.
        payment = {
            "order_id": "RT-WALLET-ONLY-P",
            "amount": "10.00",
            "currency": "INR",
            "customer": {"customer_id": "C1"},
        }
        refused = httpx.post(f"{runtime.api_url}/v1/payments", json=payment, headers=AUTH)
        assert refused.status_code == 503
        assert "no pg section" in refused.json()["message"]
        missing = httpx.get(f"{runtime.api_url}/v1/payments/RT-WALLET-ONLY-P", headers=AUTH)
        assert missing.status_code == 404


def test_generated_credentials_carry_a_prepaid_iv_and_the_two_stand_in_headers() -> None:
    first = MerchantCredentials.from_mapping(generated_credentials())
    second = MerchantCredentials.from_mapping(generated_credentials())

    assert first.prepaid.iv_bytes is not None
    assert len(first.prepaid.iv_bytes) == 16
    assert first.prepaid.iv_bytes != second.prepaid.iv_bytes
    assert tuple(first.prepaid.header_values()) == PREPAID_HEADER_STAND_INS
    assert first.prepaid.header_values() != second.prepaid.header_values()
    assert first.prepaid.token_format_for("provider") == (first.prepaid.iv_bytes, False)


def test_the_embedded_simulator_speaks_the_provider_envelope_through_its_prepaid_gate(
    runtime: LocalRuntime, merchant_credentials: dict[str, Any]
) -> None:
    assert runtime.simulator is not None
    assert runtime.sim_prepaid_url is not None
    credentials = MerchantCredentials.from_mapping(merchant_credentials)
    provider = TokenFormat(
        fixed_iv=credentials.prepaid.iv_bytes, authenticated=False
    )  # the fixture's prepaid.iv
    assert runtime.simulator.context.prepaid_token_format == provider
    client = SimClient(runtime.sim_prepaid_url, credentials)
    try:
        client.control("POST", "prepaid", {"urn": "70000000123"})
        status, answer = client.credit_account(
            {
                "messageCode": "1080",
                "clientTxnId": "RTPREPAID1",
                "urn": 70000000123,
                "subWalletId": "MOB-70000000123_1",
                "transactionAmount": 1000,
                "orderId": "RT-PREPAID-1",
            }
        )
    finally:
        client.close()
    assert (status, answer["responseCode"]) == (200, "00")


def test_the_prepaid_envelope_option_reaches_the_simulator_and_the_template_parameter_if_declared(
    tmp_path: Path,
) -> None:
    template = TEMPLATE_PATH.read_text(encoding="utf-8")
    declared = "PrepaidTokenFormat:" in template
    if not declared:  # until template.yaml declares it: a copy that does
        template = template.replace(
            "Parameters:\n",
            "Parameters:\n  PrepaidTokenFormat:\n    Type: String\n    Default: provider\n",
            1,
        )
    copy = tmp_path / "template.yaml"  # code and definitions resolve from the project root
    copy.write_text(template, encoding="utf-8")
    options = RuntimeOptions(
        api_port=0, time_scale=600, api_token=API_TOKEN, template_path=copy, prepaid_envelope="authenticated"
    )
    with LocalRuntime(options) as runtime:
        assert runtime.simulator is not None
        assert runtime.stack is not None
        assert runtime.simulator.context.prepaid_token_format == TokenFormat()
        assert runtime.stack.ref("PrepaidTokenFormat") == "authenticated"
