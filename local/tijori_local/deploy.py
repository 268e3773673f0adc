"""Deploy `template.yaml`'s resources into moto, as CloudFormation would have.

What moto cannot take from this template itself (no HttpApi, substitutions not applied) is
created here from the template's own properties: tables with their keys and GSIs, queues with
their redrive policies and visibility timeouts, the secret, the state machine with its definition
substitutions, the event bus, and each function's environment with every reference resolved. Conditions are
evaluated against the parameters (`Fn::If`, `AWS::NoValue`, a resource's `Condition`), as
CloudFormation would. Before anything is created, every `Ref`/`Fn::GetAtt`/`Fn::Sub`/`Fn::If` in
the whole template is checked, and one that names nothing fails the deploy, naming it
(`sam validate --lint` does not catch these). Resources the local runtime has no use for (IAM
roles, alarms, topics, the HTTP API's settings) are checked but not created.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from tijori_local.template import PROJECT_ROOT

ACCOUNT_ID = "123456789012"
PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::Region",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::NoValue",
    "AWS::NotificationARNs",
}
_SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")


class UnresolvedReferenceError(ValueError):
    """A `Ref`/`Fn::GetAtt`/`Fn::Sub`/`Fn::If` in the template that names nothing."""


class _NoValue:
    """What `!Ref AWS::NoValue` resolves to: the property it is in is left out."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass
class FunctionSpec:
    """One `AWS::Serverless::Function` as the local runtime runs it."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    timeout_seconds: int
    environment: dict[str, str]
    events: dict[str, dict[str, Any]]
    # ReservedConcurrentExecutions after conditions; None when the template reserves none.
    # Recorded, not enforced: the local runtime does not cap a function's concurrency.
    reserved_concurrency: int | None = None
    # MemorySize (the function's, else Globals', else Lambda's default): what Lambda bills GB-s by.
    memory_mb: int = 128
    # Architectures[0] (the function's, else Globals', else x86_64): the GB-s price depends on it.
    architecture: str = "x86_64"


@dataclass
class StateMachineSpec:
    """One `AWS::Serverless::StateMachine`: its ARN, type and events (schedules start it)."""

    logical_id: str
    arn: str
    machine_type: str
    events: dict[str, dict[str, Any]]


@dataclass
class DeployedStack:
    """What was created, by logical id: physical names, ARNs and queue URLs."""

    region: str = "ap-south-1"
    stack_name: str = "tijori-local"
    parameters: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    state_machines: dict[str, StateMachineSpec] = field(default_factory=dict)
    # State machine logical id -> its Type in the template (STANDARD unless it says EXPRESS).
    state_machine_types: dict[str, str] = field(default_factory=dict)

    def ref(self, logical_id: str) -> str:
        """What `!Ref` gives: parameter value, table name, queue URL, secret/state machine ARN."""
        if logical_id in self.parameters:
            return self.parameters[logical_id]
        if logical_id in self.queue_urls:
            return self.queue_urls[logical_id]
        if logical_id in self.names:
            return self.names[logical_id]
        pseudo = {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        raise UnresolvedReferenceError(f"!Ref {logical_id}: nothing deployed locally has that name")

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn" and logical_id in self.arns:
            return self.arns[logical_id]
        if attribute == "QueueName" and logical_id in self.queue_urls:
            return self.names[logical_id]
        if attribute == "QueueUrl" and logical_id in self.queue_urls:
            return self.queue_urls[logical_id]
        raise UnresolvedReferenceError(f"!GetAtt {logical_id}.{attribute}: not available locally")


def check_references(template: dict[str, Any]) -> None:
    """Fail on the first reference in the template that names no resource, parameter or condition."""
    known = set(template.get("Resources", {})) | set(template.get("Parameters", {})) | PSEUDO_PARAMETERS
    conditions = set(template.get("Conditions", {}))

    def visit(node: Any, where: str, local_names: frozenset[str] = frozenset()) -> None:
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, argument),) = node.items()
                if key == "Ref" and isinstance(argument, str) and argument not in known | local_names:
                    raise UnresolvedReferenceError(
                        f"!Ref {argument} (at {where}) names no resource or parameter"
                    )
                if key == "Fn::If" and argument[0] not in conditions:
                    raise UnresolvedReferenceError(f"!If {argument[0]} (at {where}) names no condition")
                if (
                    key in ("Condition", "Fn::Condition")
                    and isinstance(argument, str)
                    and argument not in conditions
                ):
                    raise UnresolvedReferenceError(f"Condition {argument} (at {where}) names no condition")
                if key == "Fn::GetAtt":
                    target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
                    if target not in template.get("Resources", {}):
                        raise UnresolvedReferenceError(f"!GetAtt {target} (at {where}) names no resource")
                if key == "Fn::Sub":
                    text, variables = (
                        (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
                    )
                    names = local_names | frozenset(variables)
                    for variable in _SUB_VARIABLE.findall(text):
                        base = variable.split(".")[0]
                        if base not in known | names:
                            raise UnresolvedReferenceError(f"!Sub ${{{variable}}} (at {where}) names nothing")
                    visit(variables, where, local_names)
                    return
            for key, value in node.items():
                visit(value, f"{where}.{key}", local_names)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{where}[{index}]", local_names)

    for logical_id, resource in template.get("Resources", {}).items():
        name = resource.get("Condition")
        if name is not None and name not in conditions:
            raise UnresolvedReferenceError(f"Condition {name} (of {logical_id}) names no condition")
    for section in ("Conditions", "Globals", "Resources", "Outputs"):
        visit(template.get(section, {}), section)


class LocalDeployer:
    """Deploys into whatever endpoint the injected boto3 clients point at (moto)."""

    def __init__(
        self,
        template: dict[str, Any],
        *,
        dynamodb: Any,
        sqs: Any,
        secretsmanager: Any,
        stepfunctions: Any = None,
        kms: Any = None,
        events: Any = None,
        parameter_overrides: dict[str, str] | None = None,
        region: str = "ap-south-1",
        stack_name: str = "tijori-local",
    ) -> None:
        self._template = template
        self._kms = kms
        self._dynamodb = dynamodb
        self._sqs = sqs
        self._secrets = secretsmanager
        self._stepfunctions = stepfunctions
        self._events = events
        self._stack_name = stack_name
        self.stack = DeployedStack(region=region, stack_name=stack_name)
        parameters = {
            name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()
        }
        parameters.update(parameter_overrides or {})
        self.stack.parameters = parameters
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        """The value of one of the template's Conditions, given the parameters."""
        if name not in self._conditions:
            expressions = self._template.get("Conditions", {})
            if name not in expressions:
                raise UnresolvedReferenceError(f"Condition {name}: the template has no such condition")
            self._conditions[name] = self._evaluate(expressions[name])
        return self._conditions[name]

    def _evaluate(self, expression: Any) -> bool:
        ((key, argument),) = expression.items()
        if key == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return str(left) == str(right)  # CloudFormation compares parameter values as strings
        if key == "Fn::Not":
            return not self._evaluate(argument[0])
        if key == "Fn::And":
            return all(self._evaluate(item) for item in argument)
        if key == "Fn::Or":
            return any(self._evaluate(item) for item in argument)
        if key in ("Condition", "Fn::Condition"):
            return self.condition(str(argument))
        raise ValueError(f"condition function {key} is not supported locally")

    def _resources(self, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (logical_id, resource.get("Properties", {}))
            for logical_id, resource in self._template["Resources"].items()
            if resource.get("Type") == resource_type
            and ("Condition" not in resource or self.condition(resource["Condition"]))
        ]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and argument == "AWS::NoValue":
                return NO_VALUE
            if key == "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.condition(name) else when_false)
            if key == "Ref":
                return self.stack.ref(str(argument))
            if key == "Fn::GetAtt":
                logical_id, attribute = argument
                return self.stack.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
                resolved = {name: str(self.resolve(item)) for name, item in variables.items()}

                def substitute(match: re.Match[str]) -> str:
                    variable = match.group(1)
                    if variable in resolved:
                        return resolved[variable]
                    if "." in variable:
                        logical_id, attribute = variable.split(".", 1)
                        return self.stack.get_att(logical_id, attribute)
                    return self.stack.ref(variable)

                return _SUB_VARIABLE.sub(substitute, text).replace("${!", "${")
        if isinstance(value, dict):
            resolved_items = ((key, self.resolve(item)) for key, item in value.items())
            return {key: item for key, item in resolved_items if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(entry) for entry in value) if item is not NO_VALUE]
        return value

    def deploy(self) -> DeployedStack:
        check_references(self._template)
        # Queues first, DLQs before the queues that redrive into them.
        queues = self._resources("AWS::SQS::Queue")
        queues.sort(key=lambda item: "RedrivePolicy" in item[1])
        for logical_id, properties in queues:
            self._create_queue(logical_id, properties)
        for logical_id, properties in self._resources("AWS::DynamoDB::Table"):
            self._create_table(logical_id, properties)
        for logical_id, properties in self._resources("AWS::SecretsManager::Secret"):
            self._create_secret(logical_id, properties)
        for logical_id, properties in self._resources("AWS::KMS::Key"):
            self._create_kms_key(logical_id, properties)
        for logical_id, properties in self._resources("AWS::Events::EventBus"):
            self._create_event_bus(logical_id, properties)
        # Functions get names and ARNs before the state machine that invokes them is created.
        for logical_id, _ in self._resources("AWS::Serverless::Function"):
            name = f"{self._stack_name}-{logical_id}"
            self.stack.names[logical_id] = name
            self.stack.arns[logical_id] = f"arn:aws:lambda:{self.stack.region}:{ACCOUNT_ID}:function:{name}"
        if self._stepfunctions is not None:
            for logical_id, properties in self._resources("AWS::Serverless::StateMachine"):
                self._create_state_machine(logical_id, properties)
        for logical_id, properties in self._resources("AWS::Serverless::Function"):
            self.stack.functions[logical_id] = self._function_spec(logical_id, properties)
        return self.stack

    def _create_queue(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = f"{self._stack_name}-{logical_id}"
        attributes: dict[str, str] = {}
        for prop in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
        ):
            if prop in properties:
                attributes[prop] = str(self.resolve(properties[prop]))
        if "RedrivePolicy" in properties:
            attributes["RedrivePolicy"] = json.dumps(self.resolve(properties["RedrivePolicy"]))
        url = self._sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.stack.names[logical_id] = name
        self.stack.queue_urls[logical_id] = url
        self.stack.arns[logical_id] = arn

    def _create_table(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = f"{self._stack_name}-{logical_id}"
        arguments: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": self.resolve(properties["AttributeDefinitions"]),
            "KeySchema": self.resolve(properties["KeySchema"]),
            "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in properties:
            arguments["GlobalSecondaryIndexes"] = self.resolve(properties["GlobalSecondaryIndexes"])
        description = self._dynamodb.create_table(**arguments)["TableDescription"]
        recovery = properties.get("PointInTimeRecoverySpecification", {})
        if recovery.get("PointInTimeRecoveryEnabled"):
            self._dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        time_to_live = self.resolve(properties.get("TimeToLiveSpecification", {}))
        if time_to_live.get("Enabled"):
            self._dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": time_to_live["AttributeName"], "Enabled": True},
            )
        self.stack.names[logical_id] = name
        self.stack.arns[logical_id] = description["TableArn"]

    def _create_kms_key(self, logical_id: str, properties: dict[str, Any]) -> None:
        if self._kms is None:
            # The same endpoint as the other clients: the local runtime's moto server (or moto's
            # in-process mock, behind AWS's own address).
            endpoint = self._dynamodb.meta.endpoint_url
            custom = None if endpoint.endswith(".amazonaws.com") else endpoint
            self._kms = boto3.client("kms", endpoint_url=custom, region_name=self.stack.region)
        key = self._kms.create_key(
            Description=str(self.resolve(properties.get("Description", logical_id))),
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
        )["KeyMetadata"]
        if self.resolve(properties.get("EnableKeyRotation", False)):
            self._kms.enable_key_rotation(KeyId=key["KeyId"])
        self.stack.names[logical_id] = key["KeyId"]  # !Ref of a KMS key is its key id
        self.stack.arns[logical_id] = key["Arn"]

    def _create_secret(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = f"{self._stack_name}-{logical_id}"
        arn = self._secrets.create_secret(Name=name, SecretString=str(properties.get("SecretString", "{}")))[
            "ARN"
        ]
        self.stack.names[logical_id] = arn  # !Ref of a secret is its ARN
        self.stack.arns[logical_id] = arn

    def _create_event_bus(self, logical_id: str, properties: dict[str, Any]) -> None:
        """Named (and referable) always; created only given an `events` client (without one, what
        the functions put on it fails, as on a bus that does not exist)."""
        name = str(self.resolve(properties.get("Name", f"{self._stack_name}-{logical_id}")))
        arn = f"arn:aws:events:{self.stack.region}:{ACCOUNT_ID}:event-bus/{name}"
        if self._events is not None:
            arn = self._events.create_event_bus(Name=name)["EventBusArn"]
        self.stack.names[logical_id] = name  # !Ref of an event bus is its name
        self.stack.arns[logical_id] = arn

    def _create_state_machine(self, logical_id: str, properties: dict[str, Any]) -> None:
        definition = (PROJECT_ROOT / properties["DefinitionUri"]).read_text(encoding="utf-8")
        substitutions = {
            name: str(self.resolve(value))
            for name, value in properties.get("DefinitionSubstitutions", {}).items()
        }
        for name, value in substitutions.items():
            definition = definition.replace("${" + name + "}", value)
        leftover = _SUB_VARIABLE.findall(definition)
        if leftover:
            raise UnresolvedReferenceError(
                f"{logical_id}: definition substitution ${{{leftover[0]}}} is not in DefinitionSubstitutions"
            )
        name = str(self.resolve(properties.get("Name", f"{self._stack_name}-{logical_id}")))
        machine_type = str(self.resolve(properties.get("Type", "STANDARD")))
        arn = self._stepfunctions.create_state_machine(
            name=name,
            definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{self._stack_name}-{logical_id}-role",
            type=machine_type,
        )["stateMachineArn"]
        self.stack.names[logical_id] = arn  # !Ref of a state machine is its ARN
        self.stack.arns[logical_id] = arn
        self.stack.state_machines[logical_id] = StateMachineSpec(
            logical_id=logical_id,
            arn=arn,
            machine_type=machine_type,
            events=dict(properties.get("Events", {})),
        )
        self.stack.state_machine_types[logical_id] = machine_type

    def _function_spec(self, logical_id: str, properties: dict[str, Any]) -> FunctionSpec:
        defaults = self._template.get("Globals", {}).get("Function", {})
        variables: dict[str, Any] = dict(defaults.get("Environment", {}).get("Variables", {}))
        variables.update(properties.get("Environment", {}).get("Variables", {}))
        environment = {name: str(self.resolve(value)) for name, value in variables.items()}
        handler = str(properties.get("Handler", defaults.get("Handler", "app.lambda_handler")))
        reserved = self.resolve(properties.get("ReservedConcurrentExecutions", NO_VALUE))
        return FunctionSpec(
            logical_id=logical_id,
            name=self.stack.names[logical_id],
            arn=self.stack.arns[logical_id],
            code_dir=PROJECT_ROOT / str(properties["CodeUri"]),
            handler=handler,
            timeout_seconds=int(properties.get("Timeout", defaults.get("Timeout", 3))),
            environment=environment,
            events=dict(properties.get("Events", {})),
            reserved_concurrency=None if reserved is NO_VALUE else int(reserved),
            memory_mb=int(self.resolve(properties.get("MemorySize", defaults.get("MemorySize", 128)))),
            architecture=str(
                self.resolve(properties.get("Architectures", defaults.get("Architectures", ["x86_64"])))[0]
            ),
        )
