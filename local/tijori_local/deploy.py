"""Create the template's stateful resources (tables, queues, the secret) in moto.

Only what the local runtime and the integration tests need is deployed; properties are taken
from `template.yaml` itself, so a change there (a GSI, a redrive policy, a visibility timeout) is
what the tests run against. A reference that cannot be resolved fails the deploy, naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

DEPLOYED_TYPES = ("AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SecretsManager::Secret")


class UnresolvedReferenceError(ValueError):
    """A `Ref`/`Fn::GetAtt`/`Fn::Sub` in the template that names nothing deployable."""


@dataclass
class DeployedStack:
    """What was created, by logical id: physical names, ARNs and queue URLs."""

    names: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)

    def ref(self, logical_id: str) -> str:
        """What `!Ref` gives: table name, queue URL, secret ARN."""
        if logical_id in self.queue_urls:
            return self.queue_urls[logical_id]
        if logical_id in self.names:
            return self.names[logical_id]
        raise UnresolvedReferenceError(f"!Ref {logical_id} names no deployed resource")


class LocalDeployer:
    """Deploys into whatever endpoint the injected boto3 clients point at (moto)."""

    def __init__(
        self,
        template: dict[str, Any],
        *,
        dynamodb: Any,
        sqs: Any,
        secretsmanager: Any,
        stack_name: str = "tijori-local",
    ) -> None:
        self._template = template
        self._dynamodb = dynamodb
        self._sqs = sqs
        self._secrets = secretsmanager
        self._stack_name = stack_name
        self.stack = DeployedStack()

    def _resources(self, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (logical_id, resource.get("Properties", {}))
            for logical_id, resource in self._template["Resources"].items()
            if resource.get("Type") == resource_type
        ]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.stack.ref(str(argument))
            if key == "Fn::GetAtt":
                logical_id, attribute = argument
                if attribute == "Arn" and logical_id in self.stack.arns:
                    return self.stack.arns[logical_id]
                if attribute == "QueueName" and logical_id in self.stack.queue_urls:
                    return self.stack.names[logical_id]
                raise UnresolvedReferenceError(f"!GetAtt {logical_id}.{attribute} names no deployed resource")
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    def deploy(self) -> DeployedStack:
        # Queues first, DLQs before the queues that redrive into them.
        queues = self._resources("AWS::SQS::Queue")
        queues.sort(key=lambda item: "RedrivePolicy" in item[1])
        for logical_id, properties in queues:
            self._create_queue(logical_id, properties)
        for logical_id, properties in self._resources("AWS::DynamoDB::Table"):
            self._create_table(logical_id, properties)
        for logical_id, properties in self._resources("AWS::SecretsManager::Secret"):
            self._create_secret(logical_id, properties)
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
        self.stack.names[logical_id] = name
        self.stack.arns[logical_id] = description["TableArn"]

    def _create_secret(self, logical_id: str, properties: dict[str, Any]) -> None:
        name = f"{self._stack_name}-{logical_id}"
        arn = self._secrets.create_secret(Name=name, SecretString=str(properties.get("SecretString", "{}")))[
            "ARN"
        ]
        self.stack.names[logical_id] = arn  # !Ref of a secret is its ARN
        self.stack.arns[logical_id] = arn
