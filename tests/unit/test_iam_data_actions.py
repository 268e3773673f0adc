"""No IAM statement in the deployed stack grants an action on data to every resource.

Read from the CloudFormation that SAM produces, not from template.yaml: SAM adds roles, inline
statements and AWS managed policies of its own (an SQS event attaches
AWSLambdaSQSQueueExecutionRole, which receives and deletes on every queue in the account), and
those are what the functions run with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import pytest

# Services whose actions read, write or decrypt money records, messages, secrets or executions.
# Kinesis is not in the stack, but an event source on a stream would bring its managed policy.
# EventBridge: the merchant's events carry its payouts and payments.
DATA_SERVICES = ("dynamodb", "sqs", "states", "secretsmanager", "kms", "kinesis", "events")

_AWS_MANAGED_POLICY_ARN = re.compile(r"arn:(?:\$\{AWS::Partition\}|aws[a-z-]*):iam::aws:policy/(?P<path>.+)")
_LOGS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")


@dataclass(frozen=True)
class ManagedPolicy:
    """An AWS managed policy SAM may attach; every one of these allows its actions on `*`."""

    actions: tuple[str, ...]
    grants_data_actions: bool


# The AWS managed policies SAM attaches to the roles it generates, with their actions as the AWS
# managed policy reference lists them. One SAM attaches that is not here fails the scan until it
# is added, with what it grants.
SAM_MANAGED_POLICIES: dict[str, ManagedPolicy] = {
    "service-role/AWSLambdaBasicExecutionRole": ManagedPolicy(_LOGS, grants_data_actions=False),
    "AWSXrayWriteOnlyAccess": ManagedPolicy(
        (
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
            "xray:GetSamplingStatisticSummaries",
        ),
        grants_data_actions=False,
    ),
    "service-role/AWSLambdaRole": ManagedPolicy(("lambda:InvokeFunction",), grants_data_actions=False),
    "service-role/AWSLambdaSQSQueueExecutionRole": ManagedPolicy(
        ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS),
        grants_data_actions=True,
    ),
    "service-role/AWSLambdaDynamoDBExecutionRole": ManagedPolicy(
        (
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
            *_LOGS,
        ),
        grants_data_actions=True,
    ),
    "service-role/AWSLambdaKinesisExecutionRole": ManagedPolicy(
        (
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
            "kinesis:ListStreams",
            "kinesis:SubscribeToShard",
            *_LOGS,
        ),
        grants_data_actions=True,
    ),
}


def is_data_action(action: str) -> bool:
    """`dynamodb:GetItem`, `sqs:*`, `*`, `s*:Get*`: anything that can match a data service."""
    service = action.split(":", 1)[0].lower()
    return any(fnmatchcase(data_service, service) for data_service in DATA_SERVICES)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statement_findings(where: str, statement: dict[str, Any]) -> list[str]:
    if statement.get("Effect") != "Allow":
        return []
    if "NotAction" in statement:
        # Allow everything but a list: data actions included, whatever the resource.
        return [f"{where}: Allow with NotAction {statement['NotAction']}"]
    data_actions = [action for action in _as_list(statement.get("Action", [])) if is_data_action(action)]
    if not data_actions:
        return []
    if "NotResource" in statement:
        return [f"{where}: {data_actions} on NotResource {statement['NotResource']}"]
    if "*" in _as_list(statement.get("Resource", [])):
        return [f"{where}: {data_actions} on Resource *"]
    return []


def _managed_policy_findings(where: str, arn: Any, resources: dict[str, Any]) -> list[str]:
    if isinstance(arn, dict) and "Ref" in arn:
        target = resources.get(arn["Ref"], {})
        if target.get("Type") == "AWS::IAM::ManagedPolicy":
            return []  # its own statements are scanned as a resource
        return [f"{where}: managed policy {arn} is not one this scan can read"]
    text = arn.get("Fn::Sub") if isinstance(arn, dict) else arn
    match = _AWS_MANAGED_POLICY_ARN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return [f"{where}: managed policy {arn} is not one this scan can read"]
    policy = SAM_MANAGED_POLICIES.get(match["path"])
    if policy is None:
        return [f"{where}: AWS managed policy {match['path']} is not in SAM_MANAGED_POLICIES"]
    if policy.grants_data_actions:
        return [f"{where}: AWS managed policy {match['path']} grants data actions on Resource *"]
    return []


def data_actions_on_every_resource(template: dict[str, Any]) -> list[str]:
    """Each IAM statement or managed policy in a CloudFormation template that allows a data action
    on `*` (or grants one through NotAction/NotResource), or whose grants cannot be told."""
    resources: dict[str, Any] = template.get("Resources", {})
    findings: list[str] = []
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        documents: list[tuple[str, Any]] = []
        if resource.get("Type") == "AWS::IAM::Role":
            for index, policy in enumerate(properties.get("Policies", [])):
                name = policy.get("PolicyName", index)
                documents.append((f"{logical_id}.Policies[{name}]", policy.get("PolicyDocument", {})))
            for arn in properties.get("ManagedPolicyArns", []):
                findings += _managed_policy_findings(logical_id, arn, resources)
        elif resource.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            documents.append((logical_id, properties.get("PolicyDocument", {})))
        for where, document in documents:
            for statement in _as_list(document.get("Statement", [])):
                findings += _statement_findings(where, statement)
    return findings


# ---- the stack -------------------------------------------------------------------------------


def test_deployed_stack_grants_no_data_action_on_every_resource(
    transformed_template: dict[str, Any],
) -> None:
    assert data_actions_on_every_resource(transformed_template) == []


def test_every_function_role_is_scanned_and_can_log(transformed_template: dict[str, Any]) -> None:
    # The scan reads AWS::IAM::Role resources: a function whose role lives elsewhere would escape it.
    resources = transformed_template["Resources"]
    functions = {k: r for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    assert set(functions) == {
        "InitiateFunction",
        "PayoutFunction",
        "StatusPollerFunction",
        "CallbackFunction",
    }
    for logical_id, function in functions.items():
        role_ref = function["Properties"]["Role"]
        role_id = role_ref["Fn::GetAtt"][0]
        role = resources[role_id]
        assert role["Type"] == "AWS::IAM::Role", logical_id
        managed = [
            _AWS_MANAGED_POLICY_ARN.fullmatch(arn if isinstance(arn, str) else arn["Fn::Sub"])
            for arn in role["Properties"]["ManagedPolicyArns"]
        ]
        paths = {match["path"] for match in managed if match}
        assert "service-role/AWSLambdaBasicExecutionRole" in paths, logical_id
        if function["Properties"].get("TracingConfig", {}).get("Mode") == "Active":
            assert "AWSXrayWriteOnlyAccess" in paths, logical_id


def test_sqs_event_source_can_poll_its_queue_and_only_it(transformed_template: dict[str, Any]) -> None:
    # The event source mapping polls with the function's role: without these three actions on the
    # queue, PayoutFunction would never receive a payout.
    resources = transformed_template["Resources"]
    mappings = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mappings
    for mapping in mappings:
        function_id = mapping["FunctionName"]["Ref"]
        role_id = resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        granted: dict[str, list[Any]] = {}
        for policy in resources[role_id]["Properties"].get("Policies", []):
            for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                for action in _as_list(statement["Action"]):
                    if action.startswith("sqs:"):
                        granted.setdefault(action, []).extend(_as_list(statement["Resource"]))
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            assert granted.get(action) == [mapping["EventSourceArn"]], (function_id, action)


def test_functions_that_make_final_transitions_put_events_on_the_stack_bus_and_nowhere_else(
    transformed_template: dict[str, Any],
) -> None:
    resources = transformed_template["Resources"]
    functions = {k: r for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    bus_arn = {"Fn::GetAtt": ["TijoriEventBus", "Arn"]}
    putting: set[str] = set()
    for logical_id, function in functions.items():
        role = resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]
        for policy in role["Properties"].get("Policies", []):
            for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                actions = [a for a in _as_list(statement["Action"]) if a.lower().startswith("events:")]
                if actions:
                    assert actions == ["events:PutEvents"], (logical_id, actions)
                    assert _as_list(statement["Resource"]) == [bus_arn], logical_id
                    putting.add(logical_id)
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        assert (variables.get("EVENT_BUS_NAME") == {"Ref": "TijoriEventBus"}) is (logical_id in putting)
    # Callbacks only ask for a status check: they never make a transition, final or not.
    assert putting == {"InitiateFunction", "PayoutFunction", "StatusPollerFunction"}


# ---- the scan itself -------------------------------------------------------------------------


def _role(
    *, statements: list[dict[str, Any]] | None = None, managed: list[Any] | None = None
) -> dict[str, Any]:
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [{"PolicyName": "P", "PolicyDocument": {"Statement": statements or []}}],
                    "ManagedPolicyArns": managed or [],
                },
            }
        }
    }


_QUEUE_ARN = {"Fn::GetAtt": ["PayoutQueue", "Arn"]}
_SQS_MANAGED = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"


@pytest.mark.parametrize(
    ("template", "flagged"),
    [
        pytest.param(
            _role(statements=[{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]),
            True,
            id="dynamodb-on-star",
        ),
        pytest.param(
            _role(
                statements=[{"Effect": "Allow", "Action": ["logs:PutLogEvents", "sqs:*"], "Resource": ["*"]}]
            ),
            True,
            id="sqs-wildcard-among-others",
        ),
        pytest.param(
            _role(statements=[{"Effect": "Allow", "Action": "*", "Resource": "*"}]), True, id="star"
        ),
        pytest.param(
            _role(statements=[{"Effect": "Allow", "Action": "s*:Get*", "Resource": "*"}]),
            True,
            id="service-wildcard",
        ),
        pytest.param(
            _role(statements=[{"Effect": "Allow", "Action": "KMS:Decrypt", "Resource": "*"}]),
            True,
            id="kms-any-case",
        ),
        pytest.param(
            _role(statements=[{"Effect": "Allow", "NotAction": "iam:*", "Resource": _QUEUE_ARN}]),
            True,
            id="not-action",
        ),
        pytest.param(
            _role(statements=[{"Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": _QUEUE_ARN}]),
            True,
            id="not-resource",
        ),
        pytest.param(_role(managed=[_SQS_MANAGED]), True, id="sqs-managed-policy"),
        pytest.param(
            _role(managed=[{"Fn::Sub": _SQS_MANAGED.replace("arn:aws:", "arn:${AWS::Partition}:")}]),
            True,
            id="sqs-managed-policy-by-partition",
        ),
        pytest.param(
            _role(managed=["arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"]),
            True,
            id="managed-policy-not-in-the-table",
        ),
        pytest.param(
            _role(managed=[{"Ref": "SomeParameter"}]),
            True,
            id="managed-policy-that-cannot-be-read",
        ),
        pytest.param(
            {
                "Resources": {
                    "Extra": {
                        "Type": "AWS::IAM::Policy",
                        "Properties": {
                            "PolicyDocument": {
                                "Statement": {"Effect": "Allow", "Action": "states:*", "Resource": "*"}
                            }
                        },
                    }
                }
            },
            True,
            id="standalone-policy",
        ),
        pytest.param(
            _role(statements=[{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": _QUEUE_ARN}]),
            False,
            id="scoped-to-the-queue",
        ),
        pytest.param(
            _role(statements=[{"Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "*"}]),
            False,
            id="non-data-action-on-star",
        ),
        pytest.param(
            _role(statements=[{"Effect": "Deny", "Action": "*", "Resource": "*"}]),
            False,
            id="deny",
        ),
        pytest.param(
            _role(
                managed=[
                    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                    {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXrayWriteOnlyAccess"},
                ]
            ),
            False,
            id="logs-and-traces",
        ),
    ],
)
def test_scan_flags_data_actions_on_every_resource(template: dict[str, Any], flagged: bool) -> None:
    assert bool(data_actions_on_every_resource(template)) is flagged


@pytest.mark.parametrize("path", sorted(SAM_MANAGED_POLICIES))
def test_managed_policy_table_agrees_with_the_actions_it_lists(path: str) -> None:
    policy = SAM_MANAGED_POLICIES[path]
    assert any(is_data_action(action) for action in policy.actions) is policy.grants_data_actions
