"""PendingRetryStateMachine in Step Functions: one execution per payout, named from its order id."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError


def execution_name(order_id: str) -> str:
    """Order ids are 1-50 of [A-Za-z0-9-_@], all allowed in execution names (max 80)."""
    return f"payout-{order_id}"


class StepFunctionsPendingRetry:
    """PendingRetryStarter over a boto3 Step Functions client (injected)."""

    def __init__(self, stepfunctions_client: Any, state_machine_arn: str) -> None:
        self._sfn = stepfunctions_client
        self._arn = state_machine_arn

    def start(self, order_id: str) -> None:
        try:
            self._sfn.start_execution(
                stateMachineArn=self._arn,
                name=execution_name(order_id),
                input=json.dumps({"order_id": order_id}),
            )
        except ClientError as error:
            # The payout's execution exists (running, or ended): a second start is a no-op.
            if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
