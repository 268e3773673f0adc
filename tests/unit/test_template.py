"""template.yaml keeps the properties the money-safety rules depend on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from tijori.settings import CallbackSettings, IntakeSettings, PayoutWorkerSettings, StatusPollerSettings
from tijori_local.deploy import NO_VALUE, LocalDeployer
from tijori_local.runtime import PAYTM_URL_PARAMETERS
from tijori_local.template import PROJECT_ROOT, load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def _properties(logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = RESOURCES[logical_id]["Properties"]
    return properties


def test_payout_queue_visibility_is_at_least_six_times_the_function_timeout() -> None:
    timeout = _properties("PayoutFunction").get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"])
    assert _properties("PayoutQueue")["VisibilityTimeout"] >= 6 * timeout


def test_payout_queue_redrives_to_the_dlq() -> None:
    policy = _properties("PayoutQueue")["RedrivePolicy"]
    assert policy["deadLetterTargetArn"] == {"Fn::GetAtt": ["PayoutDLQ", "Arn"]}
    assert 1 < policy["maxReceiveCount"] <= 10


def test_payout_function_reports_batch_item_failures() -> None:
    event = _properties("PayoutFunction")["Events"]["PayoutMessages"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_payouts_table_keeps_money_records() -> None:
    table = RESOURCES["PayoutsTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert "TimeToLiveSpecification" not in table["Properties"]
    index_names = [index["IndexName"] for index in table["Properties"]["GlobalSecondaryIndexes"]]
    assert index_names == ["DueForCheck", "ByBatch"]


def test_callbacks_table_expires_its_items_and_is_encrypted() -> None:
    table = _properties("CallbacksTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_callback_function_writes_only_callbacks_reads_payouts_and_payments_sends_to_the_queue() -> None:
    granted = {
        (action, json.dumps(statement["Resource"]))
        for policy in _properties("CallbackFunction")["Policies"]
        for statement in policy["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    callbacks, payouts = (
        '{"Fn::GetAtt": ["CallbacksTable", "Arn"]}',
        '{"Fn::GetAtt": ["PayoutsTable", "Arn"]}',
    )
    assert granted == {
        ("secretsmanager:GetSecretValue", '{"Ref": "MerchantSecret"}'),
        ("dynamodb:PutItem", callbacks),
        ("dynamodb:UpdateItem", callbacks),
        ("dynamodb:GetItem", callbacks),
        ("dynamodb:GetItem", payouts),
        ("dynamodb:GetItem", '{"Fn::GetAtt": ["PaymentsTable", "Arn"]}'),
        # A Payouts callback names a payee validation first (seed 001).
        ("dynamodb:GetItem", '{"Fn::GetAtt": ["PayeeValidationsTable", "Arn"]}'),
        ("sqs:SendMessage", '{"Fn::GetAtt": ["PayoutQueue", "Arn"]}'),
        # The one-time add-money form (seed 002), the stack's other open route: its ticket taken,
        # the link read, the link's token opened for the customer's browser.
        ("dynamodb:GetItem", '{"Fn::GetAtt": ["WalletLinksTable", "Arn"]}'),
        ("dynamodb:UpdateItem", '{"Fn::GetAtt": ["WalletLinksTable", "Arn"]}'),
        ("kms:Decrypt", '{"Fn::GetAtt": ["WalletTokenKey", "Arn"]}'),
    }
    variables = _properties("CallbackFunction")["Environment"]["Variables"]
    assert variables["CALLBACKS_TABLE_NAME"] == {"Ref": "CallbacksTable"}
    assert variables["PAYOUT_QUEUE_URL"] == {"Ref": "PayoutQueue"}
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["PAYOUTS_TABLE_NAME"] == {
        "Ref": "PayoutsTable"
    }


def test_dlq_depth_alarm_watches_the_dlq() -> None:
    alarm = _properties("PayoutDLQDepthAlarm")
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["PayoutDLQ", "QueueName"]}
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_merchant_routes_use_iam_and_callback_routes_are_open() -> None:
    assert _properties("TijoriHttpApi")["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    for event in _properties("InitiateFunction")["Events"].values():
        assert "Auth" not in event["Properties"]
    for event in _properties("CallbackFunction")["Events"].values():
        assert event["Properties"]["Auth"] == {"Authorizer": "NONE"}


# API Gateway's account-level limits for HTTP APIs in a region; a route above them means nothing.
ACCOUNT_RATE_LIMIT = 10_000
ACCOUNT_BURST_LIMIT = 5_000
# A warm CallbackFunction invocation (verify the checksum with the cached key, answer): ~100 ms.
CALLBACK_SECONDS = 0.1


def _open_route_keys() -> set[str]:
    """`POST /v1/callbacks/pg`, ...: every route of the HttpApi that skips the IAM authorizer."""
    keys = set()
    for resource in RESOURCES.values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            properties = event["Properties"]
            if event["Type"] == "HttpApi" and properties.get("Auth", {}).get("Authorizer") == "NONE":
                keys.add(f"{properties['Method'].upper()} {properties['Path']}")
    return keys


def test_every_open_route_is_throttled_below_the_merchant_routes() -> None:
    api = _properties("TijoriHttpApi")
    default = api["DefaultRouteSettings"]
    # The callbacks, and the one-time add-money form a customer's browser opens (seed 002).
    assert _open_route_keys() == {
        "POST /v1/callbacks/pg",
        "POST /v1/callbacks/payouts",
        "GET /v1/add-money/{ticket}",
    }
    for key in _open_route_keys():
        settings = api["RouteSettings"][key]
        assert 0 < settings["ThrottlingRateLimit"] < default["ThrottlingRateLimit"], key
        assert 0 < settings["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"], key


def test_merchant_routes_have_a_throttle_below_the_account_limit() -> None:
    default = _properties("TijoriHttpApi")["DefaultRouteSettings"]
    assert 0 < default["ThrottlingRateLimit"] < ACCOUNT_RATE_LIMIT
    assert 0 < default["ThrottlingBurstLimit"] < ACCOUNT_BURST_LIMIT


def test_callback_routes_admit_no_more_than_the_reserved_executions_serve() -> None:
    routes = _properties("TijoriHttpApi")["RouteSettings"]
    admitted_per_second = sum(routes[key]["ThrottlingRateLimit"] for key in _open_route_keys())
    reserved = TEMPLATE["Parameters"]["CallbackReservedConcurrency"]["Default"]
    assert admitted_per_second * CALLBACK_SECONDS <= reserved


@pytest.mark.parametrize(
    ("value", "reserved"),
    [(None, "5"), ("0", NO_VALUE), ("12", "12")],
    ids=["default-reserves-5", "zero-reserves-none", "override"],
)
def test_callback_reserved_concurrency_is_a_parameter_and_zero_reserves_none(
    value: str | None, reserved: object
) -> None:
    parameter = TEMPLATE["Parameters"]["CallbackReservedConcurrency"]
    assert parameter["Type"] == "Number"
    assert parameter["MinValue"] == 0
    overrides = {} if value is None else {"CallbackReservedConcurrency": value}
    # Conditions, !If and AWS::NoValue evaluated as CloudFormation does (no AWS clients needed).
    deployer = LocalDeployer(
        TEMPLATE, dynamodb=None, sqs=None, secretsmanager=None, parameter_overrides=overrides
    )
    resolved = deployer.resolve(_properties("CallbackFunction")["ReservedConcurrentExecutions"])
    if reserved is NO_VALUE:
        assert resolved is NO_VALUE
    else:
        assert str(resolved) == reserved


def test_stage_throttles_routes_the_api_has(transformed_template: dict[str, Any]) -> None:
    # CloudFormation fails the stage on a RouteSettings key that is no route ("Unable to find
    # Route by key"), and sam validate does not notice: check the keys against SAM's routes.
    resources = transformed_template["Resources"]
    paths = resources["TijoriHttpApi"]["Properties"]["Body"]["paths"]
    routes = {f"{method.upper()} {path}" for path, methods in paths.items() for method in methods}
    (stage,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    assert set(stage["RouteSettings"]) == _open_route_keys()
    assert set(stage["RouteSettings"]) <= routes
    assert stage["DefaultRouteSettings"] == _properties("TijoriHttpApi")["DefaultRouteSettings"]


@pytest.mark.parametrize(
    "function", ["InitiateFunction", "PayoutFunction", "StatusPollerFunction", "CallbackFunction"]
)
def test_policies_are_scoped_to_resources(function: str) -> None:
    properties = _properties(function)
    if "Role" in properties:  # an explicit role (PayoutFunction): its inline policies
        role_id = properties["Role"]["Fn::GetAtt"][0]
        documents = [policy["PolicyDocument"] for policy in _properties(role_id)["Policies"]]
    else:
        documents = properties["Policies"]
    assert documents
    for document in documents:
        for statement in document["Statement"]:
            assert statement["Resource"] != "*"
            assert not any(
                action.endswith(":*")
                for action in (
                    [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
                )
            )


def test_pending_checks_run_once_per_schedule_as_an_express_state_machine_that_loops_while_behind() -> None:
    machine = _properties("PendingChecksStateMachine")
    assert machine["Type"] == "EXPRESS"  # billed per request and duration, not per transition
    schedule = machine["Events"]["EveryRun"]
    assert schedule["Type"] == "Schedule"
    assert schedule["Properties"]["Schedule"] == {"Ref": "PendingCheckSchedule"}
    assert TEMPLATE["Parameters"]["PendingCheckSchedule"]["Default"] == "rate(1 minute)"
    assert json.loads(schedule["Properties"]["Input"]) == {"pending_checks": {"round": 0}}
    definition = json.loads((PROJECT_ROOT / machine["DefinitionUri"]).read_text())
    task = definition["States"]["CheckDue"]
    assert task["Parameters"]["FunctionName"] == "${StatusPollerFunctionArn}"
    assert set(machine["DefinitionSubstitutions"]) == {"StatusPollerFunctionArn"}
    assert "Lambda.ServiceException" in task["Retry"][0]["ErrorEquals"]
    loop = definition["States"]["CaughtUp"]["Choices"][0]
    assert loop["Next"] == "CheckDue"
    assert {"Variable": "$.pending_checks.round", "NumericLessThan": 10} in loop["And"]
    # No Wait state: a run never sleeps (Express runs are capped at 5 minutes).
    assert all(state["Type"] != "Wait" for state in definition["States"].values())


def test_no_function_starts_executions_or_carries_a_state_machine_arn() -> None:
    for logical_id, resource in TEMPLATE["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        assert "PENDING_RETRY_STATE_MACHINE_ARN" not in resource["Properties"].get("Environment", {}).get(
            "Variables", {}
        ), logical_id
        assert "states:" not in json.dumps(resource["Properties"].get("Policies", [])), logical_id


def test_every_function_gets_both_layers() -> None:
    assert TEMPLATE["Globals"]["Function"]["Layers"] == [{"Ref": "SigningLayer"}, {"Ref": "DomainLayer"}]


def test_layer_requirements_pin_the_same_versions_as_pyproject() -> None:
    import tomllib

    pinned = {
        line.split("==")[0].split("[")[0]: line.split("==")[1]
        for line in tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
        if "==" in line
    }
    for layer in ("signing", "domain"):
        for line in (PROJECT_ROOT / "layers" / layer / "requirements.txt").read_text().splitlines():
            if line and not line.startswith("#"):
                name, version = line.split("==")
                assert pinned[name.split("[")[0]] == version, f"{layer}: {line}"


# ---- one Paytm base URL per API family -------------------------------------------------------------

PAYTM_FAMILY_PARAMETERS = {
    "PaytmWalletBaseUrl": ("PAYTM_WALLET_BASE_URL", "https://trust.paytm.in"),
    "PaytmPayoutsBaseUrl": ("PAYTM_PAYOUTS_BASE_URL", "https://dashboard.paytm.com"),
    "PaytmPgBaseUrl": ("PAYTM_PG_BASE_URL", "https://secure.paytmpayments.com"),
    "PaytmAccountsBaseUrl": ("PAYTM_ACCOUNTS_BASE_URL", "https://accounts.paytm.com"),
    # Seed 003 names no host ("https://domain"): set at deploy, once Paytm gives it.
    "PaytmPrepaidBaseUrl": ("PAYTM_PREPAID_BASE_URL", ""),
}


def test_every_paytm_family_has_a_parameter_defaulting_to_its_production_host() -> None:
    parameters = {name: spec for name, spec in TEMPLATE["Parameters"].items() if name.startswith("Paytm")}
    assert {name: spec.get("Default") for name, spec in parameters.items()} == {
        name: default for name, (_, default) in PAYTM_FAMILY_PARAMETERS.items()
    }
    assert set(PAYTM_FAMILY_PARAMETERS) == set(PAYTM_URL_PARAMETERS)


def _environment(logical_id: str) -> dict[str, Any]:
    variables: dict[str, Any] = dict(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    variables.update(_properties(logical_id).get("Environment", {}).get("Variables", {}))
    return variables


@pytest.mark.parametrize(
    ("logical_id", "settings_model"),
    [
        ("InitiateFunction", IntakeSettings),
        ("PayoutFunction", PayoutWorkerSettings),
        ("StatusPollerFunction", StatusPollerSettings),
        ("CallbackFunction", CallbackSettings),
    ],
)
def test_each_function_is_given_every_variable_its_settings_require_and_each_url_from_its_family(
    logical_id: str, settings_model: type[BaseModel]
) -> None:
    environment = _environment(logical_id)
    required = {name.upper() for name, field in settings_model.model_fields.items() if field.is_required()}
    assert required <= set(environment), required - set(environment)
    by_variable = {variable: parameter for parameter, (variable, _) in PAYTM_FAMILY_PARAMETERS.items()}
    for name, value in environment.items():
        if name.startswith("PAYTM_"):
            assert value == {"Ref": by_variable[name]}, name
            assert name.lower() in settings_model.model_fields, f"{logical_id} is given {name} it never reads"
