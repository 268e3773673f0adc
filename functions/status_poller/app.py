"""StatusPollerFunction: the pending-retry task of the state machine, and the scheduled sweep.

- State machine task, input `{"order_id": ...}`: one turn of the pending loop (checkStatus,
  then settle, wait, or NEEDS_REVIEW past the deadline); answers `{"order_id", "outcome":
  final|wait|needs_review, "status", "wait_seconds"}` for the Choice state.
- Operator re-check (`tijori payouts recheck`), input `{"order_id": ..., "operator_recheck":
  true}`: asks Paytm now, applies the answer where the rules allow, answers what it said.
- EventBridge scheduled event: reads every shard of the `DueForCheck` index page by page while
  time lasts, and polls, re-queues or restarts what is overdue (each item on its own), so a payout
  whose message was lost, or whose execution never started or died, still finishes.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

import httpx
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from paytm_signing import load_merchant_credentials
from tijori.adapters.aws_clients import aws_client, dynamodb_table
from tijori.adapters.http_pool import LoopBoundHttpClient
from tijori.adapters.payout_queue import SqsPayoutDispatcher
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.adapters.pending_retry import StepFunctionsPendingRetry
from tijori.clock import utc_now
from tijori.observability import PowertoolsMetricsCounter, log_item_failure, logger, metrics, tracer
from tijori.payouts.models import OrderId
from tijori.payouts.settlement import CallBudget, PayoutSettler
from tijori.paytm.wallet_client import PaytmWalletClient
from tijori.settings import StatusPollerSettings, load_settings

settings = load_settings(StatusPollerSettings)
tracer.patch(["botocore", "httpx"])  # X-Ray traces the AWS calls and Paytm's; there are no others


@functools.cache
def _repository() -> DynamoDbPayoutRepository:
    return DynamoDbPayoutRepository(dynamodb_table(settings.payouts_table_name))


@functools.cache
def _dispatcher() -> SqsPayoutDispatcher:
    return SqsPayoutDispatcher(aws_client("sqs"), settings.payout_queue_url)


@functools.cache
def _pending_retry() -> StepFunctionsPendingRetry:
    return StepFunctionsPendingRetry(aws_client("stepfunctions"), settings.pending_retry_state_machine_arn)


# One event loop for the execution environment's lifetime (asyncio.run would close it after each
# invocation), so the pooled client and its keep-alive connections to Paytm serve warm invocations.
event_loop = asyncio.new_event_loop()
http_pool = LoopBoundHttpClient()


class PendingCheckTask(BaseModel):
    """The state machine's task input."""

    model_config = ConfigDict(extra="ignore")

    order_id: OrderId
    operator_recheck: bool = False


def _settler(http: httpx.AsyncClient) -> PayoutSettler:
    credentials = load_merchant_credentials(settings.merchant_secret_name)
    return PayoutSettler(
        repository=_repository(),
        wallet=PaytmWalletClient(http, settings.paytm_wallet_base_url, credentials),
        pending_retry=_pending_retry(),
        dispatcher=_dispatcher(),
        clock=utc_now,
        wall_clock=time.time,
        metrics=PowertoolsMetricsCounter(),
        log_failure=log_item_failure,
    )


async def run_pending_check(task: PendingCheckTask, budget: CallBudget) -> dict[str, Any]:
    logger.set_correlation_id(task.order_id)
    check = await _settler(http_pool.get()).check(task.order_id, timeout=budget.call_timeout())
    if check.configuration_problem:
        metrics.add_metric(name="PaytmConfigurationErrors", unit=MetricUnit.Count, value=1)
    logger.info(
        "pending check",
        extra={"outcome": check.outcome, "status": check.status},
    )
    return {
        "order_id": task.order_id,
        "outcome": check.outcome.value,
        "status": check.status.value,
        "wait_seconds": check.wait_seconds,
    }


async def run_recheck(task: PendingCheckTask, budget: CallBudget) -> dict[str, Any]:
    logger.set_correlation_id(task.order_id)
    report = await _settler(http_pool.get()).recheck(task.order_id, timeout=budget.call_timeout())
    logger.info(
        "operator re-check", extra={"status_before": report["status_before"], "applied": report["applied"]}
    )
    return report


async def run_sweep(budget: CallBudget) -> dict[str, Any]:
    done = await _settler(http_pool.get()).sweep(page_size=settings.sweep_page_size, budget=budget)
    for action, order_ids in done.items():
        metrics.add_metric(name=f"Sweep{action.capitalize()}", unit=MetricUnit.Count, value=len(order_ids))
    logger.info("sweep finished", extra={key: len(value) for key, value in done.items()})
    return done


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    budget = CallBudget(lambda: context.get_remaining_time_in_millis() / 1000)
    if "order_id" in event:
        task = PendingCheckTask.model_validate(event)
        return event_loop.run_until_complete(
            run_recheck(task, budget) if task.operator_recheck else run_pending_check(task, budget)
        )
    parse(event=event, model=EventBridgeModel)  # anything else must be the scheduled event
    return event_loop.run_until_complete(run_sweep(budget))
