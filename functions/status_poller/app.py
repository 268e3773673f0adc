"""StatusPollerFunction: the task of the scheduled pending-checks run, one-off checks, re-checks.

- Pending-checks run (the Express state machine's task, started every minute by the schedule),
  input `{"pending_checks": {"round": N}}`: one round of the lifecycle engine's scheduled run
  (tijori.lifecycle.scheduled.run_checks) for each kind in turn, payouts, payee validations,
  payments, refunds: what
  each due index says is overdue, then every pending item that reached one of its kind's check
  ages since the kind's last run, while time lasts; answers `{"more", "round", counts...}` so the
  state machine runs another round when time ran out before the run caught up.
- One check, input `{"order_id": ...}` (a payout) or `{"kind": "payment" | "refund" |
  "validation", "id": ...}`:
  the status API for that item, applied by the usual rules.
- Operator re-check (`tijori payouts recheck`), input `{"order_id": ..., "operator_recheck":
  true}`: asks Paytm now, applies the answer where the rules allow, answers what it said.
- Reconciliation (the reconciliation state machine's task, started by `tijori reconcile` or its
  daily schedule), input `{"reconcile": {"kind", "since"?}}` or `{"reconcile": {"scheduled":
  true}}` to start a run, `{"reconcile": {"run_id"}}` to continue one: asks Paytm about every item
  of the window while time lasts, stores the mismatches, changes no item; answers `{"run_id",
  "more", "state", "counts"}`.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import TYPE_CHECKING, Any, Literal

import httpx
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from paytm_signing import load_merchant_credentials
from tijori.adapters.aws_clients import aws_client, dynamodb_table
from tijori.adapters.event_bus import bus_events
from tijori.adapters.http_pool import LoopBoundHttpClient
from tijori.adapters.payment_table import DynamoDbPaymentRepository, DynamoDbRefundRepository
from tijori.adapters.payout_queue import ItemKind, SqsPayoutDispatcher
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.adapters.pg_gateway import PaytmPgGateway
from tijori.adapters.reconciliation_table import DynamoDbItemWindow, DynamoDbReconciliationStore
from tijori.adapters.validation_table import DynamoDbValidationRepository
from tijori.clock import utc_now
from tijori.lifecycle.announcements import MerchantEvents
from tijori.lifecycle.scheduled import ScheduledKind, run_checks
from tijori.observability import (
    PowertoolsMetricsCounter,
    log_item_failure,
    log_unpublished_event,
    logger,
    metrics,
    tracer,
)
from tijori.payments.charges import ChargeSettler
from tijori.payments.collection import PaymentChecks, PaymentCollector
from tijori.payments.refunds import RefundChecks, RefundSettler
from tijori.payouts.models import OrderId
from tijori.payouts.settlement import CallBudget, PayoutChecks, PayoutSettler
from tijori.paytm.payouts_client import PaytmPayoutsClient
from tijori.paytm.wallet_client import PaytmWalletClient
from tijori.reconciliation.paytm_records import PaymentStatusAsker, RefundStatusAsker, WalletStatusAsker
from tijori.reconciliation.ports import RunTrigger, StatusAsker
from tijori.reconciliation.rules import ReconciledKind
from tijori.reconciliation.run import Reconciler
from tijori.settings import StatusPollerSettings, load_settings
from tijori.validations.settlement import ValidationChecks, ValidationSettler
from tijori.wallet_links.sweep import WalletLinkAnnouncements

if TYPE_CHECKING:
    from tijori.adapters.wallet_link_table import DynamoDbWalletLinkRepository

settings = load_settings(StatusPollerSettings)
tracer.patch(["botocore", "httpx"])  # X-Ray traces the AWS calls and Paytm's; there are no others


@functools.cache
def _events() -> MerchantEvents | None:
    """Every final transition this function writes is announced on the stack's bus, and the
    sweep publishes the events a writer could not."""
    return bus_events(settings.event_bus_name, log_unpublished_event)


@functools.cache
def _repository() -> DynamoDbPayoutRepository:
    return DynamoDbPayoutRepository(dynamodb_table(settings.payouts_table_name), _events())


@functools.cache
def _dispatcher() -> SqsPayoutDispatcher:
    return SqsPayoutDispatcher(aws_client("sqs"), settings.payout_queue_url)


@functools.cache
def _payments() -> DynamoDbPaymentRepository:
    return DynamoDbPaymentRepository(dynamodb_table(settings.payments_table_name), _events())


@functools.cache
def _refunds() -> DynamoDbRefundRepository:
    return DynamoDbRefundRepository(
        dynamodb_table(settings.refunds_table_name), dynamodb_table(settings.payments_table_name), _events()
    )


@functools.cache
def _validations() -> DynamoDbValidationRepository:
    return DynamoDbValidationRepository(dynamodb_table(settings.validations_table_name), _events())


@functools.cache
def _wallet_links() -> DynamoDbWalletLinkRepository:
    from tijori.adapters.wallet_link_table import DynamoDbWalletLinkRepository

    return DynamoDbWalletLinkRepository(dynamodb_table(settings.wallet_links_table_name), _events())


@functools.cache
def _reconciliation_store() -> DynamoDbReconciliationStore:
    return DynamoDbReconciliationStore(dynamodb_table(settings.reconciliation_table_name))


@functools.cache
def _item_window() -> DynamoDbItemWindow:
    return DynamoDbItemWindow(
        {
            ReconciledKind.PAYOUTS: dynamodb_table(settings.payouts_table_name),
            ReconciledKind.PAYMENTS: dynamodb_table(settings.payments_table_name),
            ReconciledKind.REFUNDS: dynamodb_table(settings.refunds_table_name),
        }
    )


# One event loop for the execution environment's lifetime (asyncio.run would close it after each
# invocation), so the pooled client and its keep-alive connections to Paytm serve warm invocations.
event_loop = asyncio.new_event_loop()
http_pool = LoopBoundHttpClient()


class CheckTask(BaseModel):
    """One payout to check now."""

    model_config = ConfigDict(extra="forbid")

    order_id: OrderId
    operator_recheck: bool = False


class ItemCheckTask(BaseModel):
    """One payment, refund or payee validation to check now."""

    model_config = ConfigDict(extra="forbid")

    kind: ItemKind
    id: OrderId


class PendingChecksRound(BaseModel):
    model_config = ConfigDict(extra="ignore")

    round: int = Field(default=0, ge=0)


class PendingChecksTask(BaseModel):
    """The pending-checks state machine's task input."""

    model_config = ConfigDict(extra="forbid")

    pending_checks: PendingChecksRound


class ReconcileRequest(BaseModel):
    """Start a run (`kind`, `since`; or `scheduled`: the window since the last scheduled run), or
    continue one (`run_id`)."""

    model_config = ConfigDict(extra="forbid")

    run_id: str | None = Field(default=None, min_length=1, max_length=64)
    kind: Literal["payouts", "payments", "refunds", "all"] = "all"
    since: AwareDatetime | None = None
    scheduled: bool = False


class ReconcileTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reconcile: ReconcileRequest


def _settler(http: httpx.AsyncClient) -> PayoutSettler:
    credentials = load_merchant_credentials(settings.merchant_secret_name)
    return PayoutSettler(
        repository=_repository(),
        wallet=PaytmWalletClient(http, settings.paytm_wallet_base_url, credentials),
        dispatcher=_dispatcher(),
        clock=utc_now,
        wall_clock=time.time,
        metrics=PowertoolsMetricsCounter(),
        log_failure=log_item_failure,
    )


def _pg(http: httpx.AsyncClient) -> PaytmPgGateway:
    credentials = load_merchant_credentials(settings.merchant_secret_name)
    return PaytmPgGateway.for_merchant(http, settings.paytm_pg_base_url, credentials)


def _collector(http: httpx.AsyncClient) -> PaymentCollector:
    pg = _pg(http)
    metrics_counter = PowertoolsMetricsCounter()
    # Charges not yet decided (ACCEPTED, PROCESSING) are requeued or asked about; this function
    # never sends one.
    charges = ChargeSettler(
        payments=_payments(),
        pg=pg,
        dispatcher=_dispatcher(),
        clock=utc_now,
        wall_clock=time.time,
        metrics=metrics_counter,
    )
    return PaymentCollector(
        repository=_payments(),
        pg=pg,
        clock=utc_now,
        callback_url="",
        metrics=metrics_counter,
        charges=charges,
    )


def _refund_settler(http: httpx.AsyncClient) -> RefundSettler:
    return RefundSettler(
        refunds=_refunds(),
        payments=_payments(),
        pg=_pg(http),
        dispatcher=_dispatcher(),
        clock=utc_now,
        wall_clock=time.time,
        metrics=PowertoolsMetricsCounter(),
    )


def _validation_settler(http: httpx.AsyncClient) -> ValidationSettler:
    credentials = load_merchant_credentials(settings.merchant_secret_name)
    return ValidationSettler(
        repository=_validations(),
        payouts=PaytmPayoutsClient(http, settings.paytm_payouts_base_url, credentials),
        mid=credentials.mid,
        dispatcher=_dispatcher(),
        clock=utc_now,
        wall_clock=time.time,
        metrics=PowertoolsMetricsCounter(),
    )


async def run_item_check(task: ItemCheckTask, budget: CallBudget) -> dict[str, Any]:
    logger.set_correlation_id(task.id)
    http = http_pool.get()
    if task.kind is ItemKind.PAYMENT:
        result = await _collector(http).check(task.id, timeout=budget.call_timeout())
    elif task.kind is ItemKind.REFUND:
        result = await _refund_settler(http).check(task.id, timeout=budget.call_timeout())
    elif task.kind is ItemKind.VALIDATION:
        result = await _validation_settler(http).check(task.id, timeout=budget.call_timeout())
    else:
        check = await _settler(http).check(task.id, timeout=budget.call_timeout())
        result = check.status.value
    logger.info("status check", extra={"kind": task.kind.value, "result": result})
    return {"kind": task.kind.value, "id": task.id, "result": result}


async def run_check(task: CheckTask, budget: CallBudget) -> dict[str, Any]:
    logger.set_correlation_id(task.order_id)
    check = await _settler(http_pool.get()).check(task.order_id, timeout=budget.call_timeout())
    if check.configuration_problem:
        metrics.add_metric(name="PaytmConfigurationErrors", unit=MetricUnit.Count, value=1)
    logger.info("status check", extra={"outcome": check.outcome, "status": check.status})
    return {"order_id": task.order_id, "outcome": check.outcome.value, "status": check.status.value}


async def run_recheck(task: CheckTask, budget: CallBudget) -> dict[str, Any]:
    logger.set_correlation_id(task.order_id)
    report = await _settler(http_pool.get()).recheck(task.order_id, timeout=budget.call_timeout())
    logger.info("operator re-check", extra={key: report[key] for key in ("status_before", "applied")})
    return report


async def run_pending_checks(task: PendingChecksTask, budget: CallBudget) -> dict[str, Any]:
    """One round: each kind in turn (payouts first: they are the most), while time lasts. A kind
    whose product the merchant secret does not hold has nothing to check (a payouts-only stack
    creates no payments), so it is left out rather than failing the round for the others."""
    http = http_pool.get()
    products = load_merchant_credentials(settings.merchant_secret_name).products
    kinds: list[ScheduledKind] = []
    if "wallet" in products:
        kinds.append(PayoutChecks(_settler(http)))
    if "payouts" in products:
        kinds.append(ValidationChecks(_validation_settler(http)))
    if "pg" in products:
        kinds += [PaymentChecks(_collector(http)), RefundChecks(_refund_settler(http))]
    if "auto_debit" in products and settings.wallet_links_table_name:
        kinds.append(WalletLinkAnnouncements(_wallet_links()))
    counter = PowertoolsMetricsCounter()
    done: dict[str, Any] = {"requeued": [], "checked": [], "failed": [], "more": False, "by_kind": {}}
    for kind in kinds:
        result = await run_checks(
            kind,
            now=utc_now(),
            page_size=settings.sweep_page_size,
            budget=budget,
            metrics=counter,
            log_failure=log_item_failure,
        )
        for action in ("requeued", "checked", "failed"):
            done[action] += result[action]
        done["more"] = done["more"] or result["more"]
        done["by_kind"][kind.kind] = {
            "cursor": result["cursor"],
            **{action: len(result[action]) for action in ("requeued", "checked", "failed")},
        }
    counts = {action: len(done[action]) for action in ("requeued", "checked", "failed")}
    for action, count in counts.items():
        metrics.add_metric(name=f"Sweep{action.capitalize()}", unit=MetricUnit.Count, value=count)
    summary = {**counts, "more": done["more"], "by_kind": done["by_kind"]}
    logger.info("pending-checks round finished", extra=summary)
    return {**done, "round": task.pending_checks.round + 1}


def _reconciler(http: httpx.AsyncClient) -> Reconciler:
    """Askers for the products the merchant secret holds; a kind without one has nothing at
    Paytm to compare with, so its items are not in the run (as for the pending checks)."""
    products = load_merchant_credentials(settings.merchant_secret_name).products
    askers: dict[ReconciledKind, StatusAsker] = {}
    if "wallet" in products:
        credentials = load_merchant_credentials(settings.merchant_secret_name)
        wallet = PaytmWalletClient(http, settings.paytm_wallet_base_url, credentials)
        askers[ReconciledKind.PAYOUTS] = WalletStatusAsker(wallet)
    if "pg" in products:
        pg = _pg(http)
        askers[ReconciledKind.PAYMENTS] = PaymentStatusAsker(pg)
        askers[ReconciledKind.REFUNDS] = RefundStatusAsker(pg)
    return Reconciler(
        store=_reconciliation_store(),
        window=_item_window(),
        askers=askers,
        clock=utc_now,
        metrics=PowertoolsMetricsCounter(),
        concurrency=settings.reconciliation_concurrency,
        rate_per_second=settings.reconciliation_calls_per_second,
        page_size=settings.reconciliation_page_size,
    )


async def run_reconciliation(task: ReconcileRequest, budget: CallBudget) -> dict[str, Any]:
    reconciler = _reconciler(http_pool.get())
    if task.run_id is not None:
        run = reconciler.get(task.run_id)
    else:
        trigger = RunTrigger.SCHEDULE if task.scheduled else RunTrigger.OPERATOR
        run = reconciler.start(kind=task.kind, since=task.since, trigger=trigger)
        logger.info("reconciliation started", extra={"run_id": run.run_id, "since": run.since.isoformat()})
    logger.set_correlation_id(run.run_id)
    run = await reconciler.advance(run, budget)
    more = run.state.value == "RUNNING"
    if not more:
        logger.info("reconciliation finished", extra={"counts": run.counts, "mismatches": run.mismatches})
    return {"run_id": run.run_id, "more": more, "state": run.state.value, "counts": run.counts}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    budget = CallBudget(lambda: context.get_remaining_time_in_millis() / 1000)
    if "pending_checks" in event:
        return event_loop.run_until_complete(
            run_pending_checks(PendingChecksTask.model_validate(event), budget)
        )
    if "reconcile" in event:
        task = ReconcileTask.model_validate(event).reconcile
        return event_loop.run_until_complete(run_reconciliation(task, budget))
    if "kind" in event:
        return event_loop.run_until_complete(run_item_check(ItemCheckTask.model_validate(event), budget))
    check = CheckTask.model_validate(event)
    run = run_recheck(check, budget) if check.operator_recheck else run_check(check, budget)
    return event_loop.run_until_complete(run)
