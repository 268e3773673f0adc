"""Importing a function (its cold start) builds nothing heavy: no AWS client or resource, no
OpenAPI document, and X-Ray patches only the libraries the function calls.

Each import runs in a fresh interpreter, as Lambda's does, with tracing on (`LAMBDA_TASK_ROOT` set,
`POWERTOOLS_TRACE_DISABLED` unset): in this process it would patch botocore for every later test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tijori_local.functions import FUNCTIONS_ROOT

# What template.yaml gives the functions, with placeholder names (nothing is called at import).
ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "tijori",
    "POWERTOOLS_METRICS_NAMESPACE": "Tijori",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
    "PAYOUTS_TABLE_NAME": "tijori-PayoutsTable",
    "CALLBACKS_TABLE_NAME": "tijori-CallbacksTable",
    "PAYOUT_QUEUE_URL": "https://sqs.ap-south-1.amazonaws.com/123456789012/tijori-PayoutQueue",
    "MERCHANT_SECRET_NAME": "arn:aws:secretsmanager:ap-south-1:123456789012:secret:tijori-merchant",
    "PAYTM_WALLET_BASE_URL": "http://trust-uat.paytm.in",
    "PAYMENTS_TABLE_NAME": "tijori-PaymentsTable",
    "REFUNDS_TABLE_NAME": "tijori-RefundsTable",
    "PAYTM_PG_BASE_URL": "https://securestage.paytmpayments.com",
    "VALIDATIONS_TABLE_NAME": "tijori-PayeeValidationsTable",
    "RECONCILIATION_TABLE_NAME": "tijori-ReconciliationTable",
    "PAYTM_PAYOUTS_BASE_URL": "https://staging-dashboard.paytm.com",
    "PENDING_RETRY_STATE_MACHINE_ARN": (
        "arn:aws:states:ap-south-1:123456789012:stateMachine:tijori-pending-retry"
    ),
    # What the Lambda runtime sets; LAMBDA_TASK_ROOT is what turns Powertools' tracing on.
    "AWS_REGION": "ap-south-1",
    "AWS_DEFAULT_REGION": "ap-south-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_LAMBDA_FUNCTION_NAME": "tijori-cold-start-test",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "LAMBDA_TASK_ROOT": str(FUNCTIONS_ROOT),
}

# Records what the import builds, then reports it as JSON on the last line.
_IMPORT_AND_REPORT = """
import json, sys
import botocore.session
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

clients = []
create_client = botocore.session.Session.create_client
def recording_create_client(self, service_name, *args, **kwargs):
    clients.append(service_name)
    return create_client(self, service_name, *args, **kwargs)
botocore.session.Session.create_client = recording_create_client

schemas = []
get_openapi_schema = ApiGatewayResolver.get_openapi_schema
def recording_get_openapi_schema(self, *args, **kwargs):
    schemas.append(True)
    return get_openapi_schema(self, *args, **kwargs)
ApiGatewayResolver.get_openapi_schema = recording_get_openapi_schema

sys.path.insert(0, sys.argv[1])
import app
import aws_xray_sdk

print(json.dumps({
    "clients": clients,
    "openapi_schemas": len(schemas),
    "tracing": aws_xray_sdk.global_sdk_config.sdk_enabled(),
    "xray_patched": sorted(
        name.split(".")[2] for name in sys.modules if name.startswith("aws_xray_sdk.ext.")
        and name.endswith(".patch")
    ),
    "modules": sorted(sys.modules),
    "request_model_built": sys.modules["tijori.payouts.models"].PayoutRequest.__pydantic_complete__,
}))
"""

# What each function calls, so all that X-Ray should patch.
CALLS = {
    # Initiate calls Paytm (initiateTransaction) too, but loads and patches httpx with its first
    # payment: a payouts-only cold start never pays for it.
    "initiate": ["botocore"],
    "payout": ["botocore", "httpx"],
    "status_poller": ["botocore", "httpx"],
    "callback": ["botocore"],
}


def cold_start(function: str) -> dict[str, Any]:
    environment = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own fixed script
        [sys.executable, "-c", _IMPORT_AND_REPORT, str(FUNCTIONS_ROOT / function)],
        env={**environment, **ENVIRONMENT},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    report: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return report


@pytest.fixture(scope="module", params=sorted(CALLS))
def imported(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return request.param, cold_start(request.param)


def test_tracing_is_on_as_in_lambda(imported: tuple[str, dict[str, Any]]) -> None:
    _, report = imported
    assert report["tracing"] is True


def test_no_aws_client_or_resource_is_built_at_import(imported: tuple[str, dict[str, Any]]) -> None:
    _, report = imported
    assert report["clients"] == []


def test_xray_patches_only_what_the_function_calls(imported: tuple[str, dict[str, Any]]) -> None:
    function, report = imported
    assert report["xray_patched"] == CALLS[function]


def test_the_openapi_document_is_not_built_at_import(imported: tuple[str, dict[str, Any]]) -> None:
    _, report = imported
    assert report["openapi_schemas"] == 0
    # Nor are its models (and the Swagger page's) loaded: only a request for the document does.
    assert "aws_lambda_powertools.event_handler.openapi.models" not in report["modules"]
    assert "aws_lambda_powertools.event_handler.openapi.swagger_ui" not in report["modules"]


def test_functions_that_never_call_paytm_do_not_load_httpx(imported: tuple[str, dict[str, Any]]) -> None:
    function, report = imported
    if "httpx" not in CALLS[function]:
        assert "httpx" not in report["modules"]


def test_no_function_loads_the_prepaid_token_envelope(imported: tuple[str, dict[str, Any]]) -> None:
    # They sign, verify and validate credentials; none builds or reads a prepaid token.
    _, report = imported
    assert "paytm_signing.envelope" not in report["modules"]
    assert "cryptography.hazmat.primitives.kdf.hkdf" not in report["modules"]


def test_only_the_merchant_api_builds_the_request_model(imported: tuple[str, dict[str, Any]]) -> None:
    function, report = imported
    assert report["request_model_built"] is (function == "initiate")
