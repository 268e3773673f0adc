"""CallbackFunction's real lambda_handler: verified over the raw body, fail closed."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from types import ModuleType

import pytest

from tests.conftest import FakeLambdaContext, load_event


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
