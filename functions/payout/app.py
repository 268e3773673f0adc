"""PayoutFunction: takes payouts off PayoutQueue and credits them through Paytm (seed 000), payee
validations (a penny, seed 001), refunds (money out too, seed 002's Refund API) and the status
checks that callbacks ask for.

SQS with partial batch failures; the records of a batch are processed concurrently over one
pooled async HTTP client, each Paytm call's timeout derived from the Lambda's remaining time. A
message's intent is an attempt (claim and credit) or a status check (a verified callback or an
operator asked for one: the status is asked and applied, nothing is sent). A record fails alone
(and reaches the DLQ after maxReceiveCount receives) when it cannot be parsed, names no payout,
or Paytm reports a configuration error; a redrive after the fix resumes the same payout. Money
rules: tijori/payouts/settlement.py.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from paytm_signing import load_merchant_credentials
from tijori.adapters.aws_clients import aws_client, dynamodb_table
from tijori.adapters.event_bus import bus_events
from tijori.adapters.http_pool import LoopBoundHttpClient
from tijori.adapters.payout_queue import (
    ItemKind,
    PayoutIntent,
    PayoutMessage,
    SqsPayoutDispatcher,
    parse_payout_message,
)
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.adapters.thread_pool import LoopBoundThreadPool
from tijori.clock import utc_now
from tijori.lifecycle.announcements import MerchantEvents
from tijori.observability import PowertoolsMetricsCounter, log_unpublished_event, logger, metrics, tracer
from tijori.payouts.prepaid_load import PrepaidConfigurationError, PrepaidNotSentError
from tijori.payouts.settlement import CallBudget, PayoutSettler, PaytmConfigurationError
from tijori.paytm.wallet_client import PaytmWalletClient
from tijori.settings import ConfigurationError, PayoutWorkerSettings, load_settings

if TYPE_CHECKING:
    from tijori.adapters.payment_table import DynamoDbPaymentRepository, DynamoDbRefundRepository
    from tijori.adapters.pg_gateway import PaytmPgGateway
    from tijori.adapters.token_vault import KmsTokenVault
    from tijori.adapters.validation_table import DynamoDbValidationRepository
    from tijori.adapters.wallet_link_table import DynamoDbWalletLinkRepository
    from tijori.payments.charges import ChargeWallet
    from tijori.paytm.prepaid_client import PrepaidWalletClient

settings = load_settings(PayoutWorkerSettings)
tracer.patch(["botocore", "httpx"])  # X-Ray traces the AWS calls and Paytm's; there are no others


@functools.cache
def _events() -> MerchantEvents | None:
    """Every final transition this function writes is announced on the stack's bus."""
    return bus_events(settings.event_bus_name, log_unpublished_event)


@functools.cache
def _repository() -> DynamoDbPayoutRepository:
    return DynamoDbPayoutRepository(dynamodb_table(settings.payouts_table_name), _events())


@functools.cache
def _dispatcher() -> SqsPayoutDispatcher:
    return SqsPayoutDispatcher(aws_client("sqs"), settings.payout_queue_url)


# Payments and refunds are imported with the first message that names one (the imports inside the
# functions below): a payouts-only cold start never pays for them.
@functools.cache
def _payments() -> DynamoDbPaymentRepository:
    from tijori.adapters.payment_table import DynamoDbPaymentRepository

    return DynamoDbPaymentRepository(dynamodb_table(settings.payments_table_name), _events())


@functools.cache
def _refunds() -> DynamoDbRefundRepository:
    from tijori.adapters.payment_table import DynamoDbRefundRepository

    return DynamoDbRefundRepository(
        dynamodb_table(settings.refunds_table_name), dynamodb_table(settings.payments_table_name), _events()
    )


@functools.cache
def _validations() -> DynamoDbValidationRepository:
    from tijori.adapters.validation_table import DynamoDbValidationRepository

    return DynamoDbValidationRepository(dynamodb_table(settings.validations_table_name), _events())


def _pg() -> PaytmPgGateway:
    from tijori.adapters.pg_gateway import PaytmPgGateway

    credentials = load_merchant_credentials(settings.merchant_secret_name)
    return PaytmPgGateway.for_merchant(http_pool.get(), settings.paytm_pg_base_url, credentials)


http_pool = LoopBoundHttpClient()
# One thread per record of a full batch (template.yaml: BatchSize 10) for the blocking table calls;
# the loop's default pool has only os.cpu_count() + 4.
BATCH_SIZE = 10
blocking_calls = LoopBoundThreadPool(max_workers=BATCH_SIZE)
# A batch in which every record failed is reported like any other partial failure (each record
# retried, then DLQ) instead of failing the invocation.
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


async def handle_record(record: SQSRecord, lambda_context: LambdaContext) -> str:
    blocking_calls.install()
    message = parse_payout_message(record.body)
    budget = CallBudget(lambda: lambda_context.get_remaining_time_in_millis() / 1000)
    if message.kind is ItemKind.PAYOUT:
        result = await _handle_payout(message, budget)
    elif message.kind is ItemKind.REFUND:
        result = await _handle_refund(message, budget)
    elif message.kind is ItemKind.VALIDATION:
        result = await _handle_validation(message, budget)
    else:
        result = await _handle_payment(message, budget)
    # Records run concurrently, so the correlation id goes on each line rather than on the logger.
    logger.info(
        f"{message.kind.value} message finished",
        extra={"correlation_id": message.item_id, "intent": message.intent.value, "result": result},
    )
    return result


async def _handle_payment(message: PayoutMessage, budget: CallBudget) -> str:
    """A charge on a linked wallet to send (attempt), or a payment's status check (a verified PG
    callback asked for it: the customer did make an attempt)."""
    from tijori.payments.charges import ChargeConfigurationError, ChargeSettler
    from tijori.payments.collection import PaymentCollector

    pg = _pg()
    settler = ChargeSettler(
        payments=_payments(),
        pg=pg,
        dispatcher=_dispatcher(),
        clock=utc_now,
        wall_clock=time.time,
        wallet=_charge_wallet() if message.intent is PayoutIntent.ATTEMPT else None,
        check_delay_seconds=settings.status_check_delay_seconds,
        metrics=PowertoolsMetricsCounter(),
    )
    try:
        if message.intent is PayoutIntent.ATTEMPT:
            return await settler.attempt(message.item_id, budget)
        collector = PaymentCollector(
            repository=_payments(),
            pg=pg,
            clock=utc_now,
            callback_url="",
            metrics=PowertoolsMetricsCounter(),
            charges=settler,
        )
        status = await collector.check(message.item_id, timeout=budget.call_timeout(), attempt_reported=True)
        return f"payment status check: {status}"
    except ChargeConfigurationError as error:
        metrics.add_metric(name="PaytmConfigurationErrors", unit=MetricUnit.Count, value=1)
        logger.error(
            "Paytm configuration error: the charge message fails and will reach the DLQ",
            extra={"correlation_id": message.item_id, "status_code": error.code},
        )
        raise


def _charge_wallet() -> ChargeWallet:
    """What sending a charge needs: the link, its sealed token (KMS), directPay (seed 002)."""
    from tijori.adapters.autodebit_gateway import PaytmAutoDebitGateway
    from tijori.payments.charges import ChargeWallet

    if not settings.wallet_links_table_name or not settings.wallet_token_key_id:
        raise ConfigurationError("charges need WALLET_LINKS_TABLE_NAME and WALLET_TOKEN_KEY_ID")
    credentials = load_merchant_credentials(settings.merchant_secret_name)
    return ChargeWallet(
        links=_wallet_links(),
        vault=_vault(),
        autodebit=PaytmAutoDebitGateway.for_merchant(
            http_pool.get(), settings.paytm_pg_base_url, settings.paytm_pg_base_url, credentials
        ),
    )


@functools.cache
def _wallet_links() -> DynamoDbWalletLinkRepository:
    from tijori.adapters.wallet_link_table import DynamoDbWalletLinkRepository

    return DynamoDbWalletLinkRepository(dynamodb_table(settings.wallet_links_table_name), _events())


@functools.cache
def _vault() -> KmsTokenVault:
    from tijori.adapters.token_vault import KmsTokenVault

    return KmsTokenVault(aws_client("kms"), settings.wallet_token_key_id)


def _prepaid() -> PrepaidWalletClient:
    """Seed 003's connector, built for the first prepaid payout of an invocation (its imports with
    it: a wallet-only cold start never pays for them)."""
    from tijori.paytm.prepaid_client import PrepaidWalletClient

    if not settings.paytm_prepaid_base_url:
        raise ConfigurationError(
            "PAYTM_PREPAID_BASE_URL is empty: set the template's PaytmPrepaidBaseUrl to the host the "
            "provider gives for creditAccount (seed 003 names none)"
        )
    return PrepaidWalletClient(
        http_pool.get(),
        settings.paytm_prepaid_base_url,
        load_merchant_credentials(settings.merchant_secret_name),
        envelope=settings.prepaid_token_format,
    )


async def _handle_payout(message: PayoutMessage, budget: CallBudget) -> str:
    settler = PayoutSettler(
        prepaid=_prepaid,
        repository=_repository(),
        wallet=PaytmWalletClient(
            http_pool.get(),
            settings.paytm_wallet_base_url,
            load_merchant_credentials(settings.merchant_secret_name),
        ),
        dispatcher=_dispatcher(),
        clock=utc_now,
        wall_clock=time.time,
        check_delay_seconds=settings.status_check_delay_seconds,
        metrics=PowertoolsMetricsCounter(),
    )
    try:
        if message.intent is PayoutIntent.CHECK:
            check = await settler.check(message.item_id, timeout=budget.call_timeout())
            return f"status check: {check.outcome.value} ({check.status.value})"
        return await settler.attempt(message.item_id, budget)
    except PaytmConfigurationError as error:
        metrics.add_metric(name="PaytmConfigurationErrors", unit=MetricUnit.Count, value=1)
        logger.error(
            "Paytm configuration error: the message fails and will reach the DLQ",
            extra={"correlation_id": message.item_id, "status_code": error.answer.status_code},
        )
        raise
    except PrepaidConfigurationError as error:
        # Counted by the loader; nothing was loaded. The message fails and reaches the DLQ.
        logger.error(
            "prepaid configuration error: the message fails and will reach the DLQ",
            extra={"correlation_id": message.item_id, "status_code": error.answer.status_code},
        )
        raise
    except PrepaidNotSentError:
        logger.warning(
            "prepaid load not sent (connection refused): the message is retried",
            extra={"correlation_id": message.item_id},
        )
        raise


async def _handle_refund(message: PayoutMessage, budget: CallBudget) -> str:
    from tijori.payments.refunds import RefundConfigurationError, RefundSettler

    settler = RefundSettler(
        refunds=_refunds(),
        payments=_payments(),
        pg=_pg(),
        dispatcher=_dispatcher(),
        clock=utc_now,
        wall_clock=time.time,
        check_delay_seconds=settings.status_check_delay_seconds,
        metrics=PowertoolsMetricsCounter(),
    )
    try:
        if message.intent is PayoutIntent.CHECK:
            return await settler.check(message.item_id, timeout=budget.call_timeout())
        return await settler.attempt(message.item_id, budget)
    except RefundConfigurationError as error:
        metrics.add_metric(name="PaytmConfigurationErrors", unit=MetricUnit.Count, value=1)
        logger.error(
            "Paytm configuration error: the refund message fails and will reach the DLQ",
            extra={"correlation_id": message.item_id, "status_code": error.answer.code},
        )
        raise


async def _handle_validation(message: PayoutMessage, budget: CallBudget) -> str:
    from tijori.paytm.payouts_client import PaytmPayoutsClient
    from tijori.validations.settlement import ValidationConfigurationError, ValidationSettler

    credentials = load_merchant_credentials(settings.merchant_secret_name)
    settler = ValidationSettler(
        repository=_validations(),
        payouts=PaytmPayoutsClient(http_pool.get(), settings.paytm_payouts_base_url, credentials),
        mid=credentials.mid,
        dispatcher=_dispatcher(),
        clock=utc_now,
        wall_clock=time.time,
        check_delay_seconds=settings.status_check_delay_seconds,
        metrics=PowertoolsMetricsCounter(),
    )
    try:
        if message.intent is PayoutIntent.CHECK:
            return await settler.check(message.item_id, timeout=budget.call_timeout())
        return await settler.attempt(message.item_id, budget)
    except ValidationConfigurationError as error:
        logger.error(
            "Paytm configuration error: the validation message fails and will reach the DLQ",
            extra={"correlation_id": message.item_id, "status_code": error.answer.code},
        )
        raise


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return async_process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
