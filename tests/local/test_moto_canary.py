"""Canary: the private moto behaviours the local runtime relies on (DESIGN.md, "Local runtime").

If a moto upgrade moves or changes any of these, this fails loudly, naming the seam.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version
from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.moto_api._internal.models import moto_api_backend
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.utils import boto_client

from tijori_local import moto_seams


def test_moto_is_the_pinned_version() -> None:
    assert version("moto") == "5.2.5"


def test_lambda_simple_backend_invoke_has_the_patched_signature() -> None:
    parameters = list(inspect.signature(LambdaSimpleBackend.invoke).parameters)
    assert parameters == ["self", "function_name", "qualifier", "body", "headers", "response_headers"]


def test_wait_function_waits_on_the_program_state_event() -> None:
    assert list(inspect.signature(WaitFunction._wait_interval).parameters) == ["self", "env", "wait_seconds"]
    assert "env.program_state_event.wait(" in inspect.getsource(WaitFunction._wait_interval)


def test_step_functions_lambda_client_targets_the_moto_server_port() -> None:
    assert "moto_server_port()" in inspect.getsource(boto_client.boto_client_for)


def test_moto_api_config_accepts_stepfunctions_and_lambda_settings() -> None:
    moto_seams.configure_moto()
    from moto.core.config import default_user_config

    assert default_user_config["stepfunctions"]["execute_state_machine"] is True
    assert default_user_config["lambda"]["use_docker"] is False
    assert callable(moto_api_backend.set_config)


def test_routing_seam_replaces_and_restores_invoke() -> None:
    original = LambdaSimpleBackend.invoke
    with moto_seams.routed_lambda_invokes(lambda name, payload: {"name": name}):
        headers: dict[str, str] = {}
        backend = object.__new__(LambdaSimpleBackend)
        assert backend.invoke("fn", None, b"{}", {}, headers) == b'{"name": "fn"}'
    assert LambdaSimpleBackend.invoke is original


def test_dynamodb_write_methods_exist_to_be_serialised() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        assert callable(getattr(DynamoDBBackend, name))


def test_concurrent_conditional_claims_of_one_payout_let_exactly_one_through(
    aws_account: Any,
) -> None:
    """Without atomic_dynamodb_writes, moto let two of these pass (seen: attempts == 2)."""
    from tests.claim_race import assert_concurrent_claims_let_exactly_one_through
    from tijori.adapters.payout_table import DynamoDbPayoutRepository

    assert_concurrent_claims_let_exactly_one_through(
        DynamoDbPayoutRepository(aws_account.table), prefix="RACE", payouts=20
    )


def test_every_request_goes_through_call_action_with_what_the_metering_reads() -> None:
    from moto.core.responses import BaseResponse

    assert list(inspect.signature(BaseResponse.call_action).parameters) == ["self"]
    source = inspect.getsource(BaseResponse)
    for name in ("def boto3_service_name", "def _get_action", "self.body", "self.headers"):
        assert name in source, name


def test_dynamodb_capacity_seam_finds_what_it_wraps() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import SecondaryIndex, Table
    from moto.dynamodb.responses import DynamoHandler

    for name in ("put_item", "update_item", "delete_item"):
        parameters = list(inspect.signature(getattr(DynamoDBBackend, name)).parameters)
        assert parameters[1] == "table_name", name
    for name in ("query", "scan"):
        names = set(inspect.signature(getattr(DynamoDBBackend, name)).parameters)
        assert {"table_name", "index_name", "consistent_read"} <= names, name
    assert callable(DynamoDBBackend.get_keys_value)
    assert callable(DynamoHandler.get_item)
    assert callable(DynamoHandler.batch_get_item)
    assert "self.table_key_attrs" in inspect.getsource(Table)
    assert "self.global_indexes" in inspect.getsource(Table)
    assert "self.schema_key_attrs" in inspect.getsource(SecondaryIndex)
    with moto_seams.dynamodb_capacity(lambda write: None, lambda read: None):
        assert DynamoDBBackend.put_item.__name__ == "put_item"
    assert "write" not in DynamoDBBackend.put_item.__qualname__


def test_step_functions_executions_carry_what_the_metering_reads() -> None:
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    assert callable(stepfunctions_parser_backends.__getitem__)
    source = inspect.getsource(Execution)
    for name in ("def to_history_output", "self.start_date", "self.stop_date", "self.exec_arn"):
        assert name in source, name
    assert isinstance(moto_seams.state_machine_executions("123456789012", "ap-south-1"), list)
