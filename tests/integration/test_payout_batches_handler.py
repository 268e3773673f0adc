"""POST /v1/payout-batches and GET /v1/payout-batches/{batch_id}: InitiateFunction's real
lambda_handler with events/initiate_create_payout_batch.json against moto."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import FakeLambdaContext, LocalAccount, load_event
from tijori.batches.rows import MAX_BATCH_BODY_BYTES, MAX_BATCH_ROWS


@pytest.fixture
def initiate(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("initiate")


def _batch_event(
    body: str, *, content_type: str = "text/csv", batch_id: str = "CASHBACK-EVT-01"
) -> dict[str, Any]:
    event = load_event("initiate_create_payout_batch")
    event["body"] = body
    event["headers"]["content-type"] = content_type
    event["queryStringParameters"] = {"batch_id": batch_id}
    event["rawQueryString"] = f"batch_id={batch_id}"
    return event


def _get_event(batch_id: str, *, detail: bool = False) -> dict[str, Any]:
    event = load_event("initiate_get_payout")
    route = "GET /v1/payout-batches/{batch_id}"
    event["routeKey"] = event["requestContext"]["routeKey"] = route
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/v1/payout-batches/{batch_id}"
    event["pathParameters"] = {"batch_id": batch_id}
    if detail:
        event["queryStringParameters"] = {"detail": "true"}
        event["rawQueryString"] = "detail=true"
    return event


def _call(module: ModuleType, context: FakeLambdaContext, event: dict[str, Any]) -> tuple[int, Any]:
    response = module.lambda_handler(event, context)
    return response["statusCode"], json.loads(response["body"])


def test_csv_batch_event_accepts_valid_rows_and_rejects_each_bad_one_by_line_and_field(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    status, answer = _call(initiate, lambda_context, load_event("initiate_create_payout_batch"))
    assert status == 202
    assert answer["batch_id"] == "CASHBACK-EVT-01"
    assert answer["accepted"] == {"count": 2, "new": 2, "order_ids": ["CB-EVT-1", "CB-EVT-3"]}
    assert answer["rejected"] == {
        "count": 2,
        "rows": [
            {
                "line": 3,
                "order_id": "CB-EVT-2",
                "errors": [
                    {"field": "amount", "reason": "Value error, must be at least 1.00", "type": "value_error"}
                ],
            },
            {
                "line": 5,
                "order_id": "CB-EVT-4",
                "errors": [
                    {
                        "field": "phone",
                        "reason": "String should match pattern '^[6-9][0-9]{9}$'",
                        "type": "string_pattern_mismatch",
                    }
                ],
            },
        ],
    }
    stored = function_env.table.get_item(Key={"order_id": "CB-EVT-1"})["Item"]
    assert (stored["batch_id"], stored["amount"], stored["status"]) == (
        "CASHBACK-EVT-01",
        "10.50",
        "ACCEPTED",
    )
    queued = sorted(
        json.loads(m["Body"])["order_id"] for m in function_env.receive_all(function_env.queue_url)
    )
    assert queued == ["CB-EVT-1", "CB-EVT-3"]


def test_batch_payout_keeps_the_fingerprint_of_the_same_body_posted_alone(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    body = '[{"order_id": "CB-FP-1", "amount": "10.50", "payee": {"phone": "9876543210"}}]'
    assert _call(initiate, lambda_context, _batch_event(body, content_type="application/json"))[0] == 202
    in_batch = function_env.table.get_item(Key={"order_id": "CB-FP-1"})["Item"]
    single = load_event("initiate_create_payout")
    single["body"] = json.dumps({"order_id": "CB-FP-2", "amount": "10.50", "payee": {"phone": "9876543210"}})
    assert _call(initiate, lambda_context, single)[0] == 202
    alone = function_env.table.get_item(Key={"order_id": "CB-FP-2"})["Item"]
    # The order id is part of the fingerprint: recompute the batch one's as POST /v1/payouts would.
    from tijori.payouts.models import PayoutRequest

    request = PayoutRequest.model_validate(
        {"order_id": "CB-FP-1", "amount": "10.50", "payee": {"phone": "9876543210"}}
    )
    assert in_batch["request_fingerprint"] == request.fingerprint()
    assert "batch_id" not in alone


def test_resubmitting_the_batch_stores_nothing_twice_and_a_changed_row_is_a_conflict(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    first = _call(initiate, lambda_context, load_event("initiate_create_payout_batch"))[1]
    function_env.receive_all(function_env.queue_url)  # drain the first intake's messages
    event = load_event("initiate_create_payout_batch")
    event["body"] = event["body"].replace("CB-EVT-3,25.00", "CB-EVT-3,26.00")
    status, again = _call(initiate, lambda_context, event)
    assert status == 202
    assert again["accepted"] == {"count": 1, "new": 0, "order_ids": ["CB-EVT-1"]}
    assert again["rejected"]["rows"][1] == {
        "line": 4,
        "order_id": "CB-EVT-3",
        "errors": [
            {
                "field": "order_id",
                "reason": "order_id 'CB-EVT-3' already exists with a different amount",
                "type": "order_id_conflict",
            }
        ],
    }
    assert first["accepted"]["new"] == 2
    assert function_env.table.scan()["Count"] == 2
    # The replayed row is still ACCEPTED: queued again, as a replay of POST /v1/payouts is.
    assert [json.loads(m["Body"]) for m in function_env.receive_all(function_env.queue_url)] == [
        {"order_id": "CB-EVT-1"}
    ]


def test_a_row_whose_order_id_belongs_to_another_batch_is_rejected_naming_it(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    assert _call(initiate, lambda_context, load_event("initiate_create_payout_batch"))[0] == 202
    body = load_event("initiate_create_payout_batch")["body"]
    status, answer = _call(initiate, lambda_context, _batch_event(body, batch_id="CASHBACK-EVT-02"))
    assert status == 202
    assert answer["accepted"]["count"] == 0
    assert answer["rejected"]["rows"][0]["errors"] == [
        {
            "field": "order_id",
            "reason": "order_id 'CB-EVT-1' was already accepted by batch 'CASHBACK-EVT-01'",
            "type": "order_id_in_another_batch",
        }
    ]


def test_get_batch_counts_and_sums_by_status_and_lists_the_open_payouts(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    assert _call(initiate, lambda_context, load_event("initiate_create_payout_batch"))[0] == 202
    function_env.table.update_item(
        Key={"order_id": "CB-EVT-1"},
        UpdateExpression="SET #s = :s, paytm_txn_id = :t",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "SUCCESS", ":t": "PAYTM-1"},
    )
    status, progress = _call(initiate, lambda_context, _get_event("CASHBACK-EVT-01", detail=True))
    assert status == 200
    assert progress["payouts"] == 2
    assert progress["complete"] is False
    assert progress["count_by_status"]["SUCCESS"] == 1
    assert progress["count_by_status"]["ACCEPTED"] == 1
    assert progress["amount_by_status"]["SUCCESS"] == "10.50"
    assert progress["amount_by_status"]["ACCEPTED"] == "25.00"
    assert progress["total_amount"] == "35.50"
    assert progress["open_order_ids"] == ["CB-EVT-3"]
    assert progress["payouts_detail"][0] == {
        "order_id": "CB-EVT-1",
        "status": "SUCCESS",
        "amount": "10.50",
        "paytm_txn_id": "PAYTM-1",
        "last_status_code": None,
        "last_status_message": None,
    }
    function_env.table.update_item(
        Key={"order_id": "CB-EVT-3"},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "FAILED"},
    )
    progress = _call(initiate, lambda_context, _get_event("CASHBACK-EVT-01"))[1]
    assert (progress["complete"], progress["open_order_ids"]) == (True, [])
    assert "payouts_detail" not in progress


def test_get_of_an_unknown_batch_is_404(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    status, problem = _call(initiate, lambda_context, _get_event("NO-SUCH-BATCH"))
    assert status == 404
    assert problem["message"] == "no payout batch with batch_id 'NO-SUCH-BATCH'"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "problem_type"),
    [
        ("x" * (MAX_BATCH_BODY_BYTES + 1), "text/csv", 413, "body_too_large"),
        (
            "order_id,amount,phone\n" + "A,10.00,9876543210\n" * (MAX_BATCH_ROWS + 1),
            "text/csv",
            422,
            "too_many_rows",
        ),
        ("order_id,amount,colour\nA,10.00,red\n", "text/csv", 422, "csv_unknown_column"),
        ("order_id,amount,phone\n", "text/csv", 422, "batch_empty"),
        ('{"order_id": "A"}', "application/json", 422, "batch_not_an_array"),
        ("[]", "application/json", 422, "batch_empty"),
        ("[1,", "application/json", 400, "json_invalid"),
        ("order_id\nA\n", "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_a_body_that_is_no_batch_is_refused_whole_naming_why(
    initiate: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    body: str,
    content_type: str,
    status: int,
    problem_type: str,
) -> None:
    answer_status, problem = _call(initiate, lambda_context, _batch_event(body, content_type=content_type))
    assert (answer_status, problem["detail"][0]["type"]) == (status, problem_type)
    assert function_env.table.scan()["Count"] == 0


def test_a_batch_id_outside_the_pattern_is_422_naming_it(
    initiate: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    event = copy.deepcopy(_batch_event("order_id,amount,phone\nA,10.00,9876543210\n", batch_id="bad id!"))
    status, problem = _call(initiate, lambda_context, event)
    assert status == 422
    assert problem["detail"][0]["field"] == "batch_id"
