"""CallbackFunction's real lambda_handler: verified over the raw body (fail closed), stored, then at
most one status check per news; never a change of state."""

from __future__ import annotations

import base64
import copy
import io
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from aws_lambda_powertools.utilities import parameters

from paytm_signing import MerchantCredentialsError, generate_signature, verify_signature
from tests.conftest import FakeLambdaContext, LocalAccount, load_event
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest


@pytest.fixture
def callback(load_handler: Callable[[str], ModuleType]) -> ModuleType:
    return load_handler("callback")


def test_signed_pg_callback_is_acknowledged(callback: ModuleType, lambda_context: FakeLambdaContext) -> None:
    response = callback.lambda_handler(load_event("callback_pg"), lambda_context)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"received": True, "kind": "pg", "order_id": "PG-EVT-0001"}


def test_forged_pg_callback_is_401(callback: ModuleType, lambda_context: FakeLambdaContext) -> None:
    response = callback.lambda_handler(load_event("callback_pg_forged"), lambda_context)
    assert response["statusCode"] == 401
    assert "checksum" in json.loads(response["body"])["message"]


def test_pg_callback_without_checksum_is_401(callback: ModuleType, lambda_context: FakeLambdaContext) -> None:
    event = load_event("callback_pg")
    event["body"] = base64.b64encode(b"ORDERID=PG-EVT-0001&STATUS=TXN_SUCCESS").decode()
    assert callback.lambda_handler(event, lambda_context)["statusCode"] == 401


def test_pg_callback_with_a_repeated_field_is_400(
    callback: ModuleType, lambda_context: FakeLambdaContext
) -> None:
    event = load_event("callback_pg")
    raw = base64.b64decode(event["body"]) + b"&STATUS=TXN_FAILURE"
    event["body"] = base64.b64encode(raw).decode()
    assert callback.lambda_handler(event, lambda_context)["statusCode"] == 400


def test_oversized_callback_is_413(callback: ModuleType, lambda_context: FakeLambdaContext) -> None:
    event = load_event("callback_pg")
    event["body"] = base64.b64encode(b"A=" + b"x" * 20_000).decode()
    assert callback.lambda_handler(event, lambda_context)["statusCode"] == 413


def test_signed_payouts_callback_is_acknowledged(
    callback: ModuleType, lambda_context: FakeLambdaContext
) -> None:
    response = callback.lambda_handler(load_event("callback_payouts"), lambda_context)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"received": True, "kind": "payouts", "order_id": "VAL-EVT-0001"}


def test_payouts_callback_with_body_changed_after_signing_is_401(
    callback: ModuleType, lambda_context: FakeLambdaContext
) -> None:
    event = load_event("callback_payouts")
    event["body"] = event["body"].replace("SUCCESS", "FAILURE", 1)
    assert callback.lambda_handler(event, lambda_context)["statusCode"] == 401


def test_payouts_callback_without_header_is_401(
    callback: ModuleType, lambda_context: FakeLambdaContext
) -> None:
    event = load_event("callback_payouts")
    del event["headers"]["x-checksum"]
    assert callback.lambda_handler(event, lambda_context)["statusCode"] == 401


# ---- stored before answered, a status check at once, rejected ones never stored (issue 11) -------

EVENT_ORDER_ID = "PG-EVT-0001"
REJECTED_EVENTS = ["forged", "repeated field", "oversized", "payouts without checksum"]


@pytest.fixture
def function_output(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every JSON line the function writes: its log lines (level set) and its metrics (EMF)."""
    from tijori.observability import logger

    # The logger's handler keeps the stream it was created with; point it here for this test.
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)  # type: ignore[attr-defined]

    def lines() -> list[dict[str, Any]]:
        output = buffer.getvalue() + capsys.readouterr().out
        return [json.loads(line) for line in output.splitlines() if line.startswith("{")]

    try:
        yield lines
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


def _metric_names(lines: list[dict[str, Any]]) -> list[str]:
    return [
        metric["Name"]
        for line in lines
        for directive in line.get("_aws", {}).get("CloudWatchMetrics", [])
        for metric in directive["Metrics"]
    ]


def _store_payout(account: LocalAccount, order_id: str) -> None:
    request = PayoutRequest.model_validate(
        {"order_id": order_id, "amount": "10.00", "payee": {"phone": "9876543210"}}
    )
    now = datetime.now(UTC)
    DynamoDbPayoutRepository(account.table).create(
        Payout.accept(request, now), first_check_at=now + timedelta(minutes=15)
    )


def _stored_callbacks(account: LocalAccount) -> list[dict[str, Any]]:
    items = account.callbacks_table.scan(ConsistentRead=True)["Items"]
    return sorted(
        (item for item in items if item["item_type"] == "callback"), key=lambda item: item["received_at"]
    )


def _queued(account: LocalAccount) -> list[dict[str, Any]]:
    return [json.loads(message["Body"]) for message in account.receive_all(account.queue_url)]


def _rejected_event(name: str) -> dict[str, Any]:
    if name == "forged":
        return load_event("callback_pg_forged")
    if name == "payouts without checksum":
        event = load_event("callback_payouts")
        del event["headers"]["x-checksum"]
        return event
    event = load_event("callback_pg")
    raw = base64.b64decode(event["body"])
    event["body"] = base64.b64encode(
        raw + b"&STATUS=TXN_FAILURE" if name == "repeated field" else b"A=" + b"x" * 20_000
    ).decode()
    return event


def test_verified_callback_is_stored_raw_with_its_headers_and_expires_after_90_days(
    callback: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    event = load_event("callback_payouts")
    before = datetime.now(UTC)
    assert callback.lambda_handler(event, lambda_context)["statusCode"] == 200
    (stored,) = _stored_callbacks(function_env)
    assert stored["kind"] == "payouts"
    assert stored["order_id"] == "VAL-EVT-0001"
    assert stored["body"] == event["body"]
    assert stored["headers"]["x-checksum"] == event["headers"]["x-checksum"]
    received = datetime.fromisoformat(stored["received_at"])
    assert before <= received <= datetime.now(UTC)
    assert int(stored["expires_at"]) == int((received + timedelta(days=90)).timestamp())
    ttl = function_env.dynamodb.describe_time_to_live(TableName=function_env.stack.ref("CallbacksTable"))
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_verified_callback_for_a_payout_requests_one_status_check_and_changes_nothing(
    callback: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    _store_payout(function_env, EVENT_ORDER_ID)
    assert callback.lambda_handler(load_event("callback_pg"), lambda_context)["statusCode"] == 200
    assert _queued(function_env) == [{"order_id": EVENT_ORDER_ID, "intent": "check"}]
    payout = DynamoDbPayoutRepository(function_env.table).get(EVENT_ORDER_ID)
    assert payout is not None
    assert payout.status is PayoutStatus.ACCEPTED
    assert payout.status_checks == 0
    (stored,) = _stored_callbacks(function_env)
    assert stored["outcome"] == "check_requested"


def test_verified_callback_for_an_unknown_order_is_stored_logged_counted_and_triggers_nothing(
    callback: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    function_output: Callable[[], list[dict[str, Any]]],
) -> None:
    assert callback.lambda_handler(load_event("callback_pg"), lambda_context)["statusCode"] == 200
    assert _queued(function_env) == []
    (stored,) = _stored_callbacks(function_env)
    assert stored["outcome"] == "unknown_order"
    lines = function_output()
    assert any(line.get("outcome") == "unknown_order" for line in lines if "level" in line)
    assert "CallbacksForUnknownOrders" in _metric_names(lines)


@pytest.mark.parametrize("rejected", REJECTED_EVENTS)
def test_rejected_callback_writes_no_row_is_counted_and_logged_without_its_body(
    callback: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    function_output: Callable[[], list[dict[str, Any]]],
    rejected: str,
) -> None:
    _store_payout(function_env, EVENT_ORDER_ID)
    event = _rejected_event(rejected)
    assert callback.lambda_handler(event, lambda_context)["statusCode"] in (400, 401, 413)
    assert function_env.callbacks_table.scan(ConsistentRead=True)["Items"] == []
    assert _queued(function_env) == []
    lines = function_output()
    assert "CallbacksRejected" in _metric_names(lines)
    text = "\n".join(json.dumps(line) for line in lines)
    raw = base64.b64decode(event["body"]).decode() if event["isBase64Encoded"] else event["body"]
    assert raw not in text
    assert EVENT_ORDER_ID not in text
    assert "VAL-EVT-0001" not in text


def test_checksums_are_stored_but_never_logged(
    callback: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    function_output: Callable[[], list[dict[str, Any]]],
) -> None:
    payouts_event, pg_event = load_event("callback_payouts"), load_event("callback_pg")
    assert callback.lambda_handler(payouts_event, lambda_context)["statusCode"] == 200
    assert callback.lambda_handler(pg_event, lambda_context)["statusCode"] == 200
    pg_checksum = dict(parse_qsl(base64.b64decode(pg_event["body"]).decode()))["CHECKSUMHASH"]
    text = "\n".join(json.dumps(line) for line in function_output())
    assert "callback stored" in text
    for checksum in (payouts_event["headers"]["x-checksum"], pg_checksum):
        assert checksum not in text
        assert json.dumps(checksum)[1:-1] not in text


# ---- values are signed, names are not: known fields, repeats, duplicates (issue 14) --------------


def test_payouts_callback_with_a_repeated_key_is_400_even_when_signed(
    callback: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    merchant_credentials: dict[str, Any],
) -> None:
    event = load_event("callback_payouts")
    event["body"] = event["body"][:-1] + ',"status":"FAILURE"}'
    event["headers"]["x-checksum"] = generate_signature(
        event["body"], merchant_credentials["payouts"]["merchant_key"]
    )
    response = callback.lambda_handler(event, lambda_context)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["message"] == "field status appears twice"
    assert function_env.callbacks_table.scan(ConsistentRead=True)["Items"] == []


@pytest.mark.parametrize(
    ("renamed", "to", "checks"),
    [
        pytest.param(
            "STATUS", "STATUT", [{"order_id": EVENT_ORDER_ID, "intent": "check"}], id="STATUS renamed"
        ),
        # ORDER_ID is an alias the old code read: a renamed ORDERID must not be taken as the order id.
        pytest.param("ORDERID", "ORDER_ID", [], id="ORDERID renamed"),
    ],
)
def test_pg_callback_with_a_renamed_field_still_verifies_and_changes_nothing(
    callback: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    function_output: Callable[[], list[dict[str, Any]]],
    merchant_credentials: dict[str, Any],
    renamed: str,
    to: str,
    checks: list[dict[str, str]],
) -> None:
    _store_payout(function_env, EVENT_ORDER_ID)
    event = load_event("callback_pg")
    fields = dict(parse_qsl(base64.b64decode(event["body"]).decode(), keep_blank_values=True))
    fields[to] = fields.pop(renamed)
    signature = fields.pop("CHECKSUMHASH")
    assert verify_signature(fields, merchant_credentials["pg"]["merchant_key"], signature), (
        "the rename must keep the signature"
    )
    event["body"] = base64.b64encode(urlencode({**fields, "CHECKSUMHASH": signature}).encode()).decode()

    assert callback.lambda_handler(event, lambda_context)["statusCode"] == 200
    payout = DynamoDbPayoutRepository(function_env.table).get(EVENT_ORDER_ID)
    assert payout is not None
    assert payout.status is PayoutStatus.ACCEPTED
    assert payout.history[-1].to_status is PayoutStatus.ACCEPTED
    assert _queued(function_env) == checks
    (stored,) = _stored_callbacks(function_env)
    assert stored["unknown_fields"] == [to]
    assert any(line.get("unknown_fields") == [to] for line in function_output() if "level" in line)


def test_renamed_field_event_is_stored_with_its_unknown_field_and_only_asks_for_a_check(
    callback: ModuleType, lambda_context: FakeLambdaContext, function_env: LocalAccount
) -> None:
    _store_payout(function_env, EVENT_ORDER_ID)
    event = load_event("callback_pg_renamed_field")
    assert callback.lambda_handler(event, lambda_context)["statusCode"] == 200
    assert _queued(function_env) == [{"order_id": EVENT_ORDER_ID, "intent": "check"}]
    (stored,) = _stored_callbacks(function_env)
    assert stored["unknown_fields"] == ["STATUT"]
    assert stored["body"] == base64.b64decode(event["body"]).decode()


def test_documented_additions_are_not_unknown_fields(
    callback: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    merchant_credentials: dict[str, Any],
) -> None:
    fields = dict(
        parse_qsl(base64.b64decode(load_event("callback_pg")["body"]).decode(), keep_blank_values=True)
    )
    del fields["CHECKSUMHASH"]
    fields.update({"udf1": "a", "udf2": "b", "udf3": "c", "mercUnqRef": "ref-1", "PROMO_CAMP_ID": "X"})
    fields["CHECKSUMHASH"] = generate_signature(fields, merchant_credentials["pg"]["merchant_key"])
    event = load_event("callback_pg")
    event["body"] = base64.b64encode(urlencode(fields).encode()).decode()
    assert callback.lambda_handler(event, lambda_context)["statusCode"] == 200
    (stored,) = _stored_callbacks(function_env)
    assert stored["unknown_fields"] == ["PROMO_CAMP_ID"]
    assert "udf1=a" in stored["body"]


@pytest.mark.parametrize("event_name", ["callback_pg", "callback_payouts"])
def test_a_repeated_delivery_is_stored_as_a_duplicate_and_triggers_nothing(
    callback: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    function_output: Callable[[], list[dict[str, Any]]],
    event_name: str,
) -> None:
    order_id = EVENT_ORDER_ID if event_name == "callback_pg" else "VAL-EVT-0001"
    _store_payout(function_env, order_id)
    for _ in range(3):
        assert callback.lambda_handler(load_event(event_name), lambda_context)["statusCode"] == 200
    assert _queued(function_env) == [{"order_id": order_id, "intent": "check"}]
    first, *repeats = _stored_callbacks(function_env)
    assert first["outcome"] == "check_requested"
    assert "duplicate_of" not in first
    assert [(item["outcome"], item["duplicate_of"]) for item in repeats] == [
        ("duplicate", first["callback_id"])
    ] * 2
    assert _metric_names(function_output()).count("CallbacksDuplicate") == 2


def test_new_news_for_the_same_order_is_not_a_duplicate(
    callback: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    merchant_credentials: dict[str, Any],
) -> None:
    _store_payout(function_env, "VAL-EVT-0001")
    pending = load_event("callback_payouts")
    pending["body"] = pending["body"].replace('"status":"SUCCESS"', '"status":"PENDING"')
    pending["headers"]["x-checksum"] = generate_signature(
        pending["body"], merchant_credentials["payouts"]["merchant_key"]
    )
    for event in (pending, load_event("callback_payouts")):
        assert callback.lambda_handler(event, lambda_context)["statusCode"] == 200
    assert _queued(function_env) == [{"order_id": "VAL-EVT-0001", "intent": "check"}] * 2


def test_concurrent_deliveries_of_one_callback_trigger_one_check(
    load_handler: Callable[[str], ModuleType], function_env: LocalAccount
) -> None:
    _store_payout(function_env, EVENT_ORDER_ID)
    # One module per delivery, as each Lambda execution environment imports its own.
    handlers = [load_handler("callback") for _ in range(6)]
    with ThreadPoolExecutor(max_workers=len(handlers)) as pool:
        answers = list(
            pool.map(
                lambda module: module.lambda_handler(load_event("callback_pg"), FakeLambdaContext()), handlers
            )
        )
    assert [answer["statusCode"] for answer in answers] == [200] * len(handlers)
    assert _queued(function_env) == [{"order_id": EVENT_ORDER_ID, "intent": "check"}]
    outcomes = sorted(item["outcome"] for item in _stored_callbacks(function_env))
    assert outcomes == ["check_requested"] + ["duplicate"] * (len(handlers) - 1)


# ---- key rotation (issue 16) ------------------------------------------------------------------------


def test_callback_under_the_previous_key_verifies_while_it_is_set_and_is_401_once_dropped(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    merchant_credentials: dict[str, Any],
) -> None:
    # The events are signed with the test keys: make them the previous ones, new keys current.
    secret_id = function_env.stack.ref("MerchantSecret")
    rotating = copy.deepcopy(merchant_credentials)
    for product, new_key in (("pg", "NewTijoriPgKey16"), ("payouts", "NewPayoutsKey#16")):
        rotating[product].update(
            merchant_key=new_key, previous_merchant_key=merchant_credentials[product]["merchant_key"]
        )
    function_env.secretsmanager.put_secret_value(SecretId=secret_id, SecretString=json.dumps(rotating))
    parameters.clear_caches()
    callback = load_handler("callback")
    assert callback.lambda_handler(load_event("callback_pg"), lambda_context)["statusCode"] == 200
    assert callback.lambda_handler(load_event("callback_payouts"), lambda_context)["statusCode"] == 200

    rotated = copy.deepcopy(rotating)
    for product in ("pg", "payouts"):
        del rotated[product]["previous_merchant_key"]
    function_env.secretsmanager.put_secret_value(SecretId=secret_id, SecretString=json.dumps(rotated))
    parameters.clear_caches()  # the 300 s credentials cache, expired
    assert callback.lambda_handler(load_event("callback_pg"), lambda_context)["statusCode"] == 401
    assert callback.lambda_handler(load_event("callback_payouts"), lambda_context)["statusCode"] == 401


# ---- each route verifies with its own product's key ------------------------------------------------


def _signed_with(event_name: str, key: str) -> dict[str, Any]:
    """The event with its checksum made again under `key` (same fields, same body otherwise)."""
    event = load_event(event_name)
    if event_name == "callback_payouts":
        event["headers"]["x-checksum"] = generate_signature(event["body"], key)
        return event
    fields = dict(parse_qsl(base64.b64decode(event["body"]).decode(), keep_blank_values=True))
    del fields["CHECKSUMHASH"]
    fields["CHECKSUMHASH"] = generate_signature(fields, key)
    event["body"] = base64.b64encode(urlencode(fields).encode()).decode()
    return event


@pytest.mark.parametrize(
    ("event_name", "signed_by", "status"),
    [
        ("callback_pg", "pg", 200),
        ("callback_pg", "payouts", 401),
        ("callback_pg", "wallet", 401),
        ("callback_payouts", "payouts", 200),
        ("callback_payouts", "pg", 401),
        ("callback_payouts", "wallet", 401),
    ],
)
def test_each_callback_route_verifies_with_its_own_products_key_only(
    callback: ModuleType,
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    merchant_credentials: dict[str, Any],
    event_name: str,
    signed_by: str,
    status: int,
) -> None:
    section = merchant_credentials[signed_by]
    key = section["aes_key"] if signed_by == "wallet" else section["merchant_key"]
    response = callback.lambda_handler(_signed_with(event_name, key), lambda_context)
    assert response["statusCode"] == status
    assert len(_stored_callbacks(function_env)) == (1 if status == 200 else 0)


def test_a_flat_secret_verifies_both_routes_with_its_one_merchant_key(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    flat_merchant_credentials: dict[str, str],
) -> None:
    function_env.secretsmanager.put_secret_value(
        SecretId=function_env.stack.ref("MerchantSecret"), SecretString=json.dumps(flat_merchant_credentials)
    )
    parameters.clear_caches()
    callback = load_handler("callback")
    key = flat_merchant_credentials["merchant_key"]
    for event_name in ("callback_pg", "callback_payouts"):
        assert callback.lambda_handler(_signed_with(event_name, key), lambda_context)["statusCode"] == 200


def test_a_pg_callback_to_a_stack_without_a_pg_section_fails_naming_it_and_stores_nothing(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    merchant_credentials: dict[str, Any],
) -> None:
    # A configuration error, not a forgery: the invocation fails (API Gateway answers 500), so
    # Paytm delivers a genuine callback again once the pg section is in place.
    payouts_only = {"mid": merchant_credentials["mid"], "payouts": merchant_credentials["payouts"]}
    function_env.secretsmanager.put_secret_value(
        SecretId=function_env.stack.ref("MerchantSecret"), SecretString=json.dumps(payouts_only)
    )
    parameters.clear_caches()
    callback = load_handler("callback")
    with pytest.raises(MerchantCredentialsError, match="has no pg section"):
        callback.lambda_handler(load_event("callback_pg"), lambda_context)
    assert _stored_callbacks(function_env) == []
    assert callback.lambda_handler(load_event("callback_payouts"), lambda_context)["statusCode"] == 200
