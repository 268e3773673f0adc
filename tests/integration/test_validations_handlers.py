"""Payee validations through the real lambda_handlers with events/*.json, against moto and the
simulator over HTTP: intake, the queued attempt, a one-off status check, a verified callback
asking for a check and a forged one asking nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import FakeLambdaContext, LocalAccount, load_event
from tijori_local.sim import SimServer

VALIDATION_ID = "VAL-EVT-0001"


def _get_event(validation_id: str) -> dict[str, Any]:
    event = load_event("initiate_get_payout")
    path = f"/v1/payee-validations/{validation_id}"
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /v1/payee-validations/{validation_id}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"validation_id": validation_id}
    return event


@pytest.fixture
def handlers(load_handler: Callable[[str], ModuleType]) -> dict[str, ModuleType]:
    return {name: load_handler(name) for name in ("initiate", "payout", "status_poller", "callback")}


def _view(handlers: dict[str, ModuleType], context: FakeLambdaContext) -> dict[str, Any]:
    response = handlers["initiate"].lambda_handler(_get_event(VALIDATION_ID), context)
    assert response["statusCode"] == 200, response["body"]
    view: dict[str, Any] = json.loads(response["body"])
    return view


def _accept(handlers: dict[str, ModuleType], context: FakeLambdaContext) -> dict[str, Any]:
    response = handlers["initiate"].lambda_handler(load_event("initiate_create_payee_validation"), context)
    assert response["statusCode"] == 202, response["body"]
    view: dict[str, Any] = json.loads(response["body"])
    return view


def test_create_event_answers_202_accepted_with_the_phone_masked_and_queues_an_attempt(
    handlers: dict[str, ModuleType], lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    view = _accept(handlers, lambda_context)
    assert (view["validation_id"], view["status"], view["phone"]) == (VALIDATION_ID, "ACCEPTED", "********10")
    queued = [json.loads(m["Body"]) for m in function_env.receive_all(function_env.queue_url)]
    assert queued == [{"kind": "validation", "id": VALIDATION_ID}]
    item = function_env.dynamodb.get_item(
        TableName=function_env.stack.ref("PayeeValidationsTable"), Key={"validation_id": {"S": VALIDATION_ID}}
    )["Item"]
    # Tijori's own Payouts callback route, from the request's host, fixed at intake.
    assert item["callback_url"]["S"] == "https://api.tijori.local/v1/callbacks/payouts"
    again = _accept(handlers, lambda_context)
    assert again["created_at"] == view["created_at"]


def test_the_attempt_message_sends_one_validate_call_and_the_status_check_settles_it(
    handlers: dict[str, ModuleType], lambda_context: FakeLambdaContext, paytm: SimServer
) -> None:
    httpx.post(f"{paytm.url}/_sim/users", json={"phone": "9876543210"}).raise_for_status()
    _accept(handlers, lambda_context)
    sqs_event = load_event("payout_sqs_validation")
    assert handlers["payout"].lambda_handler(sqs_event, lambda_context) == {"batchItemFailures": []}
    accepted = _view(handlers, lambda_context)
    assert (accepted["status"], accepted["paytm_code"], accepted["attempts"]) == ("ACCEPTED", "DE_002", 1)
    assert accepted["first_sent_at"] is not None
    # A redelivery of the same message sends nothing more.
    assert handlers["payout"].lambda_handler(sqs_event, lambda_context) == {"batchItemFailures": []}
    check = load_event("status_poller_validation_check")
    assert handlers["status_poller"].lambda_handler(check, lambda_context) == {
        "kind": "validation",
        "id": VALIDATION_ID,
        "result": "VALID",
    }
    view = _view(handlers, lambda_context)
    assert (view["status"], view["paytm_code"], view["penny_amount"]) == ("VALID", "DE_001", "1.00")
    log = httpx.get(f"{paytm.url}/_sim/requests", params={"order_id": VALIDATION_ID}).json()["sequence"]
    assert log.count("/bpay/api/v1/beneficiary/validate") == 1


def test_a_verified_payouts_callback_naming_a_validation_asks_for_its_check_and_changes_nothing(
    handlers: dict[str, ModuleType], lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    before = _accept(handlers, lambda_context)
    function_env.receive_all(function_env.queue_url)
    response = handlers["callback"].lambda_handler(load_event("callback_payouts_validation"), lambda_context)
    assert response["statusCode"] == 200
    queued = [json.loads(m["Body"]) for m in function_env.receive_all(function_env.queue_url)]
    assert queued == [{"kind": "validation", "id": VALIDATION_ID, "intent": "check"}]
    assert _view(handlers, lambda_context) == before  # the callback's DE_1222 is not taken at its word


def test_a_forged_payouts_callback_is_401_stores_nothing_and_asks_nothing(
    handlers: dict[str, ModuleType], lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    before = _accept(handlers, lambda_context)
    function_env.receive_all(function_env.queue_url)
    event = load_event("callback_payouts_validation")
    event["body"] = event["body"].replace("DE_1222", "DE_001")
    assert handlers["callback"].lambda_handler(event, lambda_context)["statusCode"] == 401
    assert function_env.receive_all(function_env.queue_url) == []
    assert function_env.dynamodb.scan(TableName=function_env.stack.ref("CallbacksTable"))["Items"] == []
    assert _view(handlers, lambda_context) == before


def test_the_pending_checks_task_checks_validations_when_the_secret_holds_payouts(
    handlers: dict[str, ModuleType], lambda_context: FakeLambdaContext
) -> None:
    done = handlers["status_poller"].lambda_handler(load_event("pending_checks_run"), lambda_context)
    assert "validation" in done["by_kind"]
