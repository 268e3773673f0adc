"""The local runtime runs the real template: routes, SQS batches, the state machine, the schedule."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import load_event
from tests.local.conftest import API_TOKEN, wait_until
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest
from tijori_local.deploy import UnresolvedReferenceError
from tijori_local.runtime import LocalRuntime, RuntimeOptions
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


def test_schedule_fires_the_sweep(runtime: LocalRuntime) -> None:
    # rate(5 minutes) at time scale 600 is every half second.
    before = runtime.schedule_firings
    assert wait_until(lambda: runtime.schedule_firings > before, timeout=20)


def test_state_machine_loop_with_a_one_day_wait_finishes_in_seconds(
    merchant_credentials: dict[str, str],
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
        request = PayoutRequest.model_validate(_payout_body("RT-SFN-1") | {"pending_days_limit": 0})
        repository.create(Payout.accept(request, now), first_check_at=now + timedelta(days=30))
        for expected, target in (
            (PayoutStatus.ACCEPTED, PayoutStatus.PROCESSING),
            (PayoutStatus.PROCESSING, PayoutStatus.PENDING),
        ):
            repository.transition(
                "RT-SFN-1",
                expected=expected,
                target=target,
                at=now,
                reason="test",
                next_check_at=now + timedelta(days=30),
            )
        sfn = runtime.client("stepfunctions")
        execution = sfn.start_execution(
            stateMachineArn=runtime.stack.ref("PendingRetryStateMachine"),
            name="payout-RT-SFN-1",
            input=json.dumps({"order_id": "RT-SFN-1"}),
        )["executionArn"]
        assert wait_until(
            lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING", timeout=90
        )
        assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
        history = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        waits = [e for e in history if e["type"] == "WaitStateEntered"]
        assert len(waits) >= 2  # it looped: Check, Wait, Check, Wait, ...
        # NEEDS_REVIEW is written only once the (compressed) clock passed created + 1 day, so a
        # whole simulated day of Wait states went by inside wait_until's real-time bound.
        payout = repository.get("RT-SFN-1")
        assert payout is not None
        assert payout.status is PayoutStatus.NEEDS_REVIEW
        assert runtime.clock.now() - now >= timedelta(days=1)


def test_lambda_task_error_is_reported_with_its_error_name(runtime: LocalRuntime) -> None:
    assert runtime.stack is not None
    sfn = runtime.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=runtime.stack.ref("PendingRetryStateMachine"),
        name="payout-RT-UNKNOWN",
        input=json.dumps({"order_id": "RT-NEVER-SUBMITTED"}),
    )["executionArn"]
    assert wait_until(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING")
    description = sfn.describe_execution(executionArn=execution)
    assert description["status"] == "FAILED"
    assert description["error"] == "UnknownPayoutError"


def test_broken_ref_fails_the_deploy_naming_it(tmp_path: Path, merchant_credentials: dict[str, str]) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE_PATH.read_text().replace("!Ref PayoutQueue", "!Ref PayoutQueu", 1))
    runtime = LocalRuntime(RuntimeOptions(api_port=0, credentials=merchant_credentials, template_path=broken))
    with pytest.raises(UnresolvedReferenceError, match="PayoutQueu"):
        runtime.start()


def test_a_restart_starts_the_tables_and_the_simulator_empty_together(
    merchant_credentials: dict[str, str],
) -> None:
    """README "Running it locally": neither side remembers a payout the other has forgotten, so an
    old order id can never meet a fresh simulator that would pay it again."""
    options = RuntimeOptions(
        api_port=0, credentials=merchant_credentials, time_scale=600, api_token=API_TOKEN
    )
    with LocalRuntime(options) as first:
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
