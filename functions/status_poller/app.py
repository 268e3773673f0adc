"""StatusPollerFunction: the pending-retry task of the state machine, and the scheduled sweep.

- State machine task, input `{"order_id": ...}`: one turn of the pending-retry loop; answers
  `{"order_id", "outcome": final|wait|needs_review, "status", "wait_seconds"}` for the Choice.
- EventBridge scheduled event: queries the sparse `DueForCheck` index and queues again every
  payout still ACCEPTED past its grace time, so a payout whose message was lost still proceeds.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from tijori.adapters.payout_queue import SqsPayoutDispatcher
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.clock import utc_now
from tijori.observability import logger, metrics, tracer
from tijori.payouts.models import OrderId
from tijori.payouts.pending import CheckOutcome, check_pending_payout
from tijori.payouts.processing import requeue_overdue_accepted
from tijori.settings import StatusPollerSettings, load_settings

settings = load_settings(StatusPollerSettings)
repository = DynamoDbPayoutRepository(boto3.resource("dynamodb").Table(settings.payouts_table_name))
dispatcher = SqsPayoutDispatcher(boto3.client("sqs"), settings.payout_queue_url)


class PendingCheckTask(BaseModel):
    """The state machine's task input."""

    model_config = ConfigDict(extra="ignore")

    order_id: OrderId


@tracer.capture_method
def run_pending_check(task: PendingCheckTask) -> dict[str, Any]:
    logger.append_keys(order_id=task.order_id)
    check = check_pending_payout(task.order_id, repository=repository, now=utc_now())
    if check.outcome is CheckOutcome.NEEDS_REVIEW:
        metrics.add_metric(name="PayoutsNeedingReview", unit=MetricUnit.Count, value=1)
    logger.info("pending check", extra={"outcome": check.outcome, "status": check.status})
    return {
        "order_id": task.order_id,
        "outcome": check.outcome.value,
        "status": check.status.value,
        "wait_seconds": check.wait_seconds,
    }


@tracer.capture_method
def run_sweep() -> dict[str, Any]:
    requeued = requeue_overdue_accepted(
        repository=repository, dispatcher=dispatcher, now=utc_now(), limit=settings.sweep_batch_limit
    )
    metrics.add_metric(name="SweepRequeued", unit=MetricUnit.Count, value=len(requeued))
    logger.info("sweep finished", extra={"requeued": len(requeued)})
    return {"requeued": list(requeued)}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "order_id" in event:
        return run_pending_check(PendingCheckTask.model_validate(event))
    parse(event=event, model=EventBridgeModel)  # anything else must be the scheduled event
    return run_sweep()
