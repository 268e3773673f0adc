"""PayoutFunction's real lambda_handler with events/payout_sqs_batch.json, moto and the simulator."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import FakeLambdaContext, LocalAccount, load_event
from tijori.payouts.lifecycle import PayoutStatus
from tijori_local.sim.server import SimServer


def _accept_event_payout(load_handler: Callable[[str], ModuleType], context: FakeLambdaContext) -> None:
    initiate = load_handler("initiate")
    assert initiate.lambda_handler(load_event("initiate_create_payout"), context)["statusCode"] == 202


def test_batch_credits_the_good_record_and_fails_only_the_poisoned_and_unknown(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
) -> None:
    httpx.post(f"{paytm.url}/_sim/users", json={"phone": "9876543210"})
    _accept_event_payout(load_handler, lambda_context)
    payout = load_handler("payout")
    event = load_event("payout_sqs_batch")
    response = payout.lambda_handler(event, lambda_context)
    failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    ids = [record["messageId"] for record in event["Records"]]
    assert failed == {ids[1], ids[2]}  # "not json" and an order id nobody submitted
    item = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    assert item["status"] == "SUCCESS"
    assert item["paytm_txn_id"]
    assert [h["to"] for h in item["history"]] == ["ACCEPTED", "PROCESSING", "SUCCESS"]
    credits = [e for e in httpx.get(f"{paytm.url}/_sim/ledger").json() if e["kind"] == "credit"]
    assert [c["orderId"] for c in credits] == ["ORD-EVT-0001"]


def test_duplicated_delivery_in_one_batch_makes_one_credit(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
) -> None:
    httpx.post(f"{paytm.url}/_sim/users", json={"phone": "9876543210"})
    _accept_event_payout(load_handler, lambda_context)
    payout = load_handler("payout")
    event = load_event("payout_sqs_batch")
    event["Records"] = [event["Records"][0], {**event["Records"][0], "messageId": "duplicate-delivery"}]
    response = payout.lambda_handler(event, lambda_context)
    assert response["batchItemFailures"] == []
    item = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    assert int(item["attempts"]) == 1
    orders = httpx.get(f"{paytm.url}/_sim/orders/ORD-EVT-0001")
    assert orders.status_code == 200
    assert len([e for e in httpx.get(f"{paytm.url}/_sim/ledger").json() if e["kind"] == "credit"]) == 1
    # Tijori sent one credit; the second delivery sent nothing (not a refused duplicate).
    assert _paytm_calls(paytm, "ORD-EVT-0001") == ["/wallet-web/salesToUserCredit"]


def _paytm_calls(paytm: SimServer, order_id: str) -> list[str]:
    sequence: list[str] = httpx.get(f"{paytm.url}/_sim/requests", params={"order_id": order_id}).json()[
        "sequence"
    ]
    return sequence


def test_a_status_check_message_asks_paytm_and_applies_the_answer_without_sending_money(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
) -> None:
    httpx.post(f"{paytm.url}/_sim/users", json={"phone": "9876543210", "kyc": False})
    _accept_event_payout(load_handler, lambda_context)
    payout = load_handler("payout")
    first = load_event("payout_sqs_batch")
    first["Records"] = [first["Records"][0]]
    assert payout.lambda_handler(first, lambda_context)["batchItemFailures"] == []
    assert function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]["status"] == "PENDING"
    httpx.post(f"{paytm.url}/_sim/users", json={"phone": "9876543210", "kyc": True})  # Paytm credits it
    # What a verified callback (or an operator) queues: {"order_id", "intent": "check"}.
    response = payout.lambda_handler(load_event("payout_sqs_status_check"), lambda_context)
    assert response["batchItemFailures"] == []
    item = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    assert item["status"] == "SUCCESS"
    assert _paytm_calls(paytm, "ORD-EVT-0001") == ["/wallet-web/salesToUserCredit", "/wallet-web/checkStatus"]


def test_unknown_payee_with_existing_user_mode_fails_with_paytm_code(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
) -> None:
    _accept_event_payout(load_handler, lambda_context)
    payout = load_handler("payout")
    event = load_event("payout_sqs_batch")
    event["Records"] = [event["Records"][0]]
    assert payout.lambda_handler(event, lambda_context)["batchItemFailures"] == []
    item = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    assert item["status"] == "FAILED"
    assert item["last_status_code"] == "STUC_1002"


def test_configuration_error_fails_the_message_not_the_payout(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
) -> None:
    _accept_event_payout(load_handler, lambda_context)
    httpx.post(f"{paytm.url}/_sim/merchant", json={"active": False})  # GE_1035
    payout = load_handler("payout")
    event = load_event("payout_sqs_batch")
    event["Records"] = [event["Records"][0]]
    response = payout.lambda_handler(event, lambda_context)
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [event["Records"][0]["messageId"]]
    item = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    assert item["status"] == "PROCESSING"
    assert "lease_until" not in item  # released: the redelivery takes over at once


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


def test_logs_carry_the_order_id_and_never_the_phone_key_or_checksum(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
    merchant_credentials: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tijori.observability import logger

    # The logger's handler keeps the stream it was created with; point it here for this test.
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        httpx.post(f"{paytm.url}/_sim/users", json={"phone": "9876543210"})
        initiate = load_handler("initiate")
        assert (
            initiate.lambda_handler(load_event("initiate_create_payout"), lambda_context)["statusCode"] == 202
        )
        load_handler("payout").lambda_handler(load_event("payout_sqs_batch"), lambda_context)
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    output = buffer.getvalue() + capsys.readouterr().out
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    logs = [line for line in lines if "level" in line]
    assert any(line.get("correlation_id") == "ORD-EVT-0001" for line in logs)
    text = "\n".join(json.dumps(line) for line in lines)
    assert "9876543210" not in text
    for section in ("wallet", "payouts", "pg", "auto_debit", "prepaid"):
        for name, value in merchant_credentials[section].items():
            if "key" in name or "secret" in name:
                assert value not in text, f"{section}.{name} is in the logs"
    assert "checksumhash" not in text.lower()


def test_a_full_batch_has_a_thread_for_every_record_s_table_call(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ten records' claims must all be in flight at once: none waits for another's table call.

    Each claim (a blocking boto3 write, run through asyncio.to_thread) waits at a barrier of ten;
    with asyncio's default pool (os.cpu_count() + 4 threads: 6 on a 2-vCPU Lambda, pinned here)
    only six get there and the barrier breaks."""
    httpx.post(f"{paytm.url}/_sim/users", json={"phone": "9876543210"})
    initiate = load_handler("initiate")
    template = load_event("initiate_create_payout")
    order_ids = [f"ORD-BATCH-{n:02d}" for n in range(10)]
    for order_id in order_ids:
        body = {**json.loads(template["body"]), "order_id": order_id}
        assert (
            initiate.lambda_handler({**template, "body": json.dumps(body)}, lambda_context)["statusCode"]
            == 202
        )
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    payout = load_handler("payout")
    barrier = threading.Barrier(len(order_ids), timeout=5)
    claim = payout._repository().transition

    def claim_at_the_barrier(order_id: str, **changes: Any) -> Any:
        if changes["target"] is PayoutStatus.PROCESSING:
            barrier.wait()
        return claim(order_id, **changes)

    monkeypatch.setattr(payout._repository(), "transition", claim_at_the_barrier)
    event = load_event("payout_sqs_batch")
    record = event["Records"][0]
    event["Records"] = [
        {**record, "messageId": f"batch-{order_id}", "body": json.dumps({"order_id": order_id})}
        for order_id in order_ids
    ]
    assert payout.lambda_handler(event, lambda_context)["batchItemFailures"] == []
    assert not barrier.broken
    statuses = {function_env.table.get_item(Key={"order_id": o})["Item"]["status"] for o in order_ids}
    assert statuses == {"SUCCESS"}
