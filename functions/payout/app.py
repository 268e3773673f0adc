"""PayoutFunction: takes payouts off PayoutQueue (SQS, partial batch failures).

Per record: parse the message, claim the payout ACCEPTED -> PROCESSING by a conditional write (a
duplicated delivery claims nothing). A record that cannot be parsed, or names an order id that
does not exist, fails on its own and reaches the DLQ after maxReceiveCount receives; the rest of
the batch is deleted. The call to Paytm's salesToUserCredit follows the claim in issue 5.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tijori.adapters.payout_queue import parse_payout_message
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.clock import utc_now
from tijori.observability import logger, metrics, tracer
from tijori.payouts.processing import claim_payout
from tijori.settings import PayoutWorkerSettings, load_settings

settings = load_settings(PayoutWorkerSettings)
repository = DynamoDbPayoutRepository(boto3.resource("dynamodb").Table(settings.payouts_table_name))
# A batch in which every record failed is reported like any other partial failure (each record
# retried, then DLQ) instead of failing the invocation.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def handle_record(record: SQSRecord) -> str:
    message = parse_payout_message(record.body)
    logger.append_keys(order_id=message.order_id)
    claimed = claim_payout(message.order_id, repository=repository, now=utc_now())
    if claimed is None:
        logger.info("payout already claimed by another delivery; nothing to do")
        metrics.add_metric(name="DuplicateDeliveries", unit=MetricUnit.Count, value=1)
        return "duplicate"
    logger.info("payout claimed", extra={"attempts": claimed.attempts})
    return claimed.status.value


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
