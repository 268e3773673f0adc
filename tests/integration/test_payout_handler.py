"""PayoutFunction's real lambda_handler with events/payout_sqs_batch.json against moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType

from tests.conftest import FakeLambdaContext, LocalAccount, load_event


def _accept_event_payout(load_handler: Callable[[str], ModuleType], context: FakeLambdaContext) -> None:
    initiate = load_handler("initiate")
    assert initiate.lambda_handler(load_event("initiate_create_payout"), context)["statusCode"] == 202


def test_batch_fails_only_the_poisoned_and_unknown_records(
    load_handler: Callable[[str], ModuleType], lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    _accept_event_payout(load_handler, lambda_context)
    payout = load_handler("payout")
    event = load_event("payout_sqs_batch")
    response = payout.lambda_handler(event, lambda_context)
    failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    ids = [record["messageId"] for record in event["Records"]]
    assert failed == {ids[1], ids[2]}  # "not json" and an order id nobody submitted
    item = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    assert item["status"] == "PROCESSING"
    assert int(item["attempts"]) == 1
    assert [h["to"] for h in item["history"]] == ["ACCEPTED", "PROCESSING"]


def test_duplicated_delivery_claims_the_payout_once(
    load_handler: Callable[[str], ModuleType], lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    _accept_event_payout(load_handler, lambda_context)
    payout = load_handler("payout")
    event = load_event("payout_sqs_batch")
    event["Records"] = [event["Records"][0], {**event["Records"][0], "messageId": "duplicate-delivery"}]
    response = payout.lambda_handler(event, lambda_context)
    assert response["batchItemFailures"] == []
    item = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    assert int(item["attempts"]) == 1
    assert len(item["history"]) == 2


def test_record_with_extra_fields_is_poison(
    load_handler: Callable[[str], ModuleType], lambda_context: FakeLambdaContext
) -> None:
    payout = load_handler("payout")
    event = load_event("payout_sqs_batch")
    event["Records"] = [{**event["Records"][0], "body": json.dumps({"order_id": "ORD-1", "amount": "5"})}]
    response = payout.lambda_handler(event, lambda_context)
    assert [item["itemIdentifier"] for item in response["batchItemFailures"]] == [
        event["Records"][0]["messageId"]
    ]
