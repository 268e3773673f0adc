"""PendingRetryStateMachine in Step Functions: one execution at a time per payout, named from its
order id and a generation, so that a payout whose execution died gets a new one (execution names
cannot be reused, even after the execution ended)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from tijori.payouts.ports import ExecutionState


def execution_name(order_id: str, generation: int = 0) -> str:
    """Order ids are 1-50 of [A-Za-z0-9-_@], all allowed in execution names (max 80). Generation 0
    keeps the name payouts had before generations existed."""
    return f"payout-{order_id}" if generation == 0 else f"payout-{order_id}-g{generation}"


class StepFunctionsPendingRetry:
    """PendingRetryPort over a boto3 Step Functions client (injected)."""

    def __init__(self, stepfunctions_client: Any, state_machine_arn: str) -> None:
        self._sfn = stepfunctions_client
        self._arn = state_machine_arn

    def start(self, order_id: str, *, generation: int) -> None:
        try:
            self._sfn.start_execution(
                stateMachineArn=self._arn,
                name=execution_name(order_id, generation),
                input=json.dumps({"order_id": order_id}),
            )
        except ClientError as error:
            # That generation's execution exists (running, or ended): a second start is a no-op.
            if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise

    def execution_arn(self, order_id: str, generation: int) -> str:
        machine_prefix, _, machine_name = self._arn.rpartition(":stateMachine:")
        return f"{machine_prefix}:execution:{machine_name}:{execution_name(order_id, generation)}"

    def state(self, order_id: str, *, generation: int) -> ExecutionState:
        try:
            described = self._sfn.describe_execution(executionArn=self.execution_arn(order_id, generation))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return ExecutionState.MISSING
            raise
        return ExecutionState.RUNNING if described["status"] == "RUNNING" else ExecutionState.ENDED
