"""InitiateFunction: the merchant API (HTTP API, IAM-authorised routes): payouts, payments
(initiateTransaction is called from the merchant's request: the checkout needs its txnToken now),
refunds and payee validations (queued for PayoutFunction, like payouts)."""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from decimal import Decimal
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from paytm_signing import MerchantCredentialsError, load_merchant_credentials
from tijori.adapters.aws_clients import aws_client, dynamodb_table
from tijori.adapters.event_bus import bus_events
from tijori.adapters.payment_table import DynamoDbPaymentRepository, DynamoDbRefundRepository
from tijori.adapters.payout_queue import SqsPayoutDispatcher
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.batches.intake import submit_batch
from tijori.batches.progress import batch_progress
from tijori.batches.responses import BatchAccepted, BatchProgressView
from tijori.batches.rows import (
    CSV_MEDIA_TYPE,
    MAX_BATCH_BODY_BYTES,
    MAX_BATCH_ROWS,
    read_csv_batch,
    read_json_batch,
)
from tijori.clock import utc_now
from tijori.lifecycle.outcomes import Outcome
from tijori.observability import PowertoolsMetricsCounter, log_unpublished_event, logger, metrics, tracer
from tijori.payments.collection import (
    PaymentCollector,
    PaymentConflictError,
    PaymentIntakeResult,
    PaytmNoAnswerError,
    PaytmRefusedError,
)
from tijori.payments.models import (
    LINK_ID_PATTERN,
    PAYMENT_ORDER_ID_PATTERN,
    REFUND_ID_PATTERN,
    AnyPaymentRequest,
    ChargeRequest,
    PaymentRequest,
    RefundRequest,
)
from tijori.payments.refunds import (
    RefundConflictError,
    RefundNotAllowedError,
    UnknownPaymentForRefundError,
    submit_refund,
)
from tijori.payments.responses import ConflictProblem, PaymentView, PaytmRefusalProblem, RefundView
from tijori.payouts.intake import PayeeNotValidatedError, PayoutConflictError, submit_payout
from tijori.payouts.models import (
    AMOUNT_PATTERN,
    ORDER_ID_PATTERN,
    RAIL_ERROR_TYPE,
    AnyPayoutRequest,
    PayoutRequest,
    PrepaidLoadOptions,
    PrepaidPayoutRequest,
)
from tijori.payouts.responses import GatewayRefusal, PayoutConflictProblem, PayoutView, Problem
from tijori.request_body import (
    JSON_MEDIA_TYPE,
    MAX_JSON_BODY_BYTES,
    RequestBodyRefusedError,
    json_body_text,
    parse_json_strictly,
    text_body,
)
from tijori.settings import IntakeSettings, load_settings
from tijori.validations.models import VALIDATION_ID_PATTERN, PayeeValidationRequest
from tijori.validations.responses import ValidationConflictProblem, ValidationView
from tijori.validations.settlement import ValidationConflictError, submit_validation
from tijori.wallet_links.add_money import AddMoneyDesk
from tijori.wallet_links.linking import (
    AutoDebitConfigurationError,
    LinkConflictError,
    LinkLimits,
    LinkNotUsableError,
    PaytmRefusedLinkError,
    PaytmUnavailableError,
    RateLimitedError,
    UnknownLinkError,
    WalletLinker,
)
from tijori.wallet_links.models import AddMoneyRequest, OtpSubmission, WalletLinkRequest
from tijori.wallet_links.responses import (
    AddMoneyView,
    BalanceView,
    RateLimitProblem,
    WalletLinkProblem,
    WalletLinkView,
)

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from tijori.adapters.http_pool import LoopBoundHttpClient
    from tijori.adapters.pg_gateway import PaytmPgGateway
    from tijori.adapters.validation_table import DynamoDbValidationRepository
    from tijori.adapters.wallet_link_table import DynamoDbPhoneRateLimiter, DynamoDbWalletLinkRepository

settings = load_settings(IntakeSettings)
# Every POST validates its body against PayoutRequest: built here, at cold start (the model defers
# its build so that the functions that never take a request do not build it).
PayoutRequest.model_rebuild(force=True)
PrepaidPayoutRequest.model_rebuild(force=True)
PaymentRequest.model_rebuild(force=True)
RefundRequest.model_rebuild(force=True)
PayeeValidationRequest.model_rebuild(force=True)
ChargeRequest.model_rebuild(force=True)
WalletLinkRequest.model_rebuild(force=True)
OtpSubmission.model_rebuild(force=True)
AddMoneyRequest.model_rebuild(force=True)
tracer.patch(["botocore"])  # X-Ray traces the AWS calls; Paytm's with the first payment (below)
# One event loop for the execution environment's lifetime, so the pooled client's keep-alive
# connections to Paytm serve warm invocations.
event_loop = asyncio.new_event_loop()


@functools.cache
def _paytm_pool() -> LoopBoundHttpClient:
    """Paytm PG's HTTP side, loaded with the first payment: httpx and the connector (and X-Ray's
    patch of httpx) cost a payouts-only cold start nothing. One pooled client, kept."""
    tracer.patch(["httpx"])
    from tijori.adapters.http_pool import LoopBoundHttpClient

    return LoopBoundHttpClient()


# initiateTransaction answers within this, or the merchant is told to retry with the same body.
INITIATE_TIMEOUT_SECONDS = 10.0


@functools.cache
def _repository() -> DynamoDbPayoutRepository:
    return DynamoDbPayoutRepository(dynamodb_table(settings.payouts_table_name))


@functools.cache
def _dispatcher() -> SqsPayoutDispatcher:
    return SqsPayoutDispatcher(aws_client("sqs"), settings.payout_queue_url)


# A batch's rows are written this many at a time (one conditional put each, on the network).
BATCH_WRITERS = 32
_batch_thread = threading.local()


@functools.cache
def _batch_pool() -> ThreadPoolExecutor:
    """Kept for the execution environment's lifetime, so are its threads' tables (below)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=BATCH_WRITERS, thread_name_prefix="tijori-batch")


def _thread_repository() -> DynamoDbPayoutRepository:
    """The calling batch thread's own repository: boto3 resources are not shared between threads."""
    if not hasattr(_batch_thread, "payouts"):
        _batch_thread.payouts = DynamoDbPayoutRepository(dynamodb_table(settings.payouts_table_name))
    repository: DynamoDbPayoutRepository = _batch_thread.payouts
    return repository


class _ThreadValidations:
    """Payee validations for batch threads: each thread reads through its own table, built when a
    row first names a validation."""

    def get(self, validation_id: str) -> Any:
        if not hasattr(_batch_thread, "validations"):
            from tijori.adapters.validation_table import DynamoDbValidationRepository

            table = dynamodb_table(settings.validations_table_name)
            _batch_thread.validations = DynamoDbValidationRepository(table)
        return _batch_thread.validations.get(validation_id)


@functools.cache
def _prepaid_defaults() -> PrepaidLoadOptions:
    """Seed 003 load fields a prepaid payout leaves out: the stack's settings."""
    return PrepaidLoadOptions(
        source_type=settings.prepaid_source_type,
        sender=settings.prepaid_sender,
        fund_flow_type=settings.prepaid_fund_flow_type,
        impl_id=settings.prepaid_impl_id,
        impl_type=settings.prepaid_impl_type,
        fee=f"{settings.prepaid_fee:.2f}",
    )


@functools.cache
def _payments() -> DynamoDbPaymentRepository:
    # A payment whose initiateTransaction Paytm refused ends FAILED here: announced on the bus.
    events = bus_events(settings.event_bus_name, log_unpublished_event)
    return DynamoDbPaymentRepository(dynamodb_table(settings.payments_table_name), events)


@functools.cache
def _refunds() -> DynamoDbRefundRepository:
    return DynamoDbRefundRepository(
        dynamodb_table(settings.refunds_table_name), dynamodb_table(settings.payments_table_name)
    )


@functools.cache
def _validations() -> DynamoDbValidationRepository:
    from tijori.adapters.validation_table import DynamoDbValidationRepository

    return DynamoDbValidationRepository(dynamodb_table(settings.validations_table_name))


def _pg_gateway() -> PaytmPgGateway:
    """Built inside the running loop (the pooled client belongs to it), with the first payment's
    imports (see _paytm_pool)."""
    from tijori.adapters.pg_gateway import PaytmPgGateway

    credentials = load_merchant_credentials(settings.merchant_secret_name)
    return PaytmPgGateway.for_merchant(_paytm_pool().get(), settings.paytm_pg_base_url, credentials)


def _callback_url(path: str = "/v1/callbacks/pg") -> str:
    """Tijori's own callback route (`/v1/callbacks/pg`, `/v1/callbacks/payouts`): the configured
    public address, or this API's own as the request reached it (API Gateway: https; the local
    runtime says http in x-forwarded-proto)."""
    base = settings.public_base_url.rstrip("/")
    if not base:
        event = app.current_event
        scheme = event.headers.get("x-forwarded-proto", "https")
        base = f"{scheme}://{event.request_context.domain_name}"
    return f"{base}{path}"


class AutoDebitNotConfiguredError(Exception):
    """This stack has no auto-debit settings (a payouts-only deployment)."""


@functools.cache
def _wallet_links() -> tuple[DynamoDbWalletLinkRepository, DynamoDbPhoneRateLimiter]:
    from tijori.adapters.wallet_link_table import DynamoDbPhoneRateLimiter, DynamoDbWalletLinkRepository

    missing = [
        name
        for name, value in (
            ("WALLET_LINKS_TABLE_NAME", settings.wallet_links_table_name),
            ("WALLET_TOKEN_KEY_ID", settings.wallet_token_key_id),
            ("PAYTM_ACCOUNTS_BASE_URL", settings.paytm_accounts_base_url),
        )
        if not value
    ]
    if missing:
        raise AutoDebitNotConfiguredError(f"auto-debit needs {', '.join(missing)}")
    table = dynamodb_table(settings.wallet_links_table_name)
    events = bus_events(settings.event_bus_name, log_unpublished_event)
    return DynamoDbWalletLinkRepository(table, events), DynamoDbPhoneRateLimiter(table)


def _linker() -> WalletLinker:
    """Built inside the running loop (the pooled client belongs to it)."""
    from tijori.adapters.autodebit_gateway import PaytmAutoDebitGateway
    from tijori.adapters.token_vault import KmsTokenVault

    links, limiter = _wallet_links()
    credentials = load_merchant_credentials(settings.merchant_secret_name)
    return WalletLinker(
        links=links,
        vault=KmsTokenVault(aws_client("kms"), settings.wallet_token_key_id),
        paytm=PaytmAutoDebitGateway.for_merchant(
            _paytm_pool().get(), settings.paytm_accounts_base_url, settings.paytm_pg_base_url, credentials
        ),
        limiter=limiter,
        clock=utc_now,
        limits=LinkLimits(
            links_per_window=settings.wallet_links_per_phone,
            otp_attempts_per_window=settings.wallet_link_otp_attempts_per_phone,
            window_seconds=settings.wallet_link_limit_window_seconds,
        ),
        metrics=PowertoolsMetricsCounter(),
    )


def _add_money_desk(linker: WalletLinker) -> AddMoneyDesk:
    """The one-time URL is served by CallbackFunction (the stack's open routes), on this API."""
    return AddMoneyDesk(
        linker=linker,
        payments=_payments(),
        clock=utc_now,
        public_base_url=_callback_url(""),
        callback_url=_callback_url(),
        paytm_pg_base_url=settings.paytm_pg_base_url,
    )


async def _create_payment(request: PaymentRequest, callback_url: str) -> tuple[PaymentIntakeResult, str]:
    """The payment and the MID its checkout names. The secret's PG product is read first (503
    naming it when absent): nothing is stored without it."""
    pg = _pg_gateway()
    collector = PaymentCollector(
        repository=_payments(),
        pg=pg,
        clock=utc_now,
        callback_url=callback_url,
        metrics=PowertoolsMetricsCounter(),
    )
    return await collector.create(request, timeout=INITIATE_TIMEOUT_SECONDS), pg.mid


# Every JSON body is parsed by parse_json_strictly (duplicate keys, depth, NaN refused), once.
app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json_strictly)
SWAGGER_ROUTE_KEY = "GET /v1/swagger"


@functools.cache
def _describe_api() -> None:
    """Configure the OpenAPI document and add the Swagger page, on the first request for either.

    Powertools' OpenAPI models take longer to import than the rest of this module: requests that
    do not ask for the document never load them.
    """
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    # Merchant routes are behind API Gateway's IAM authorizer: requests are signed with SigV4,
    # which OpenAPI can only name as an API key in the Authorization header, as API Gateway's own
    # import does.
    app.configure_openapi(
        title="Tijori payouts and payments API",
        version="1.0.0",
        security_schemes={
            "sigv4": APIKey(
                name="Authorization",
                in_=APIKeyIn.header,
                description="AWS Signature Version 4 (API Gateway IAM authorization)",
                openapi_extensions={"x-amazon-apigateway-authtype": "awsSigv4"},
            )
        },
        security=[{"sigv4": []}],
    )
    app.enable_swagger(path="/v1/swagger", title="Tijori payouts and payments API", version="1.0.0")


def _answer(description: str, model: type[Any]) -> OpenAPIResponse:
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"model": model}}}


_REFUSED_BY_GATEWAY = _answer(
    "no valid SigV4 signature (answered by API Gateway's IAM authorizer)", GatewayRefusal
)
_INVALID = _answer("invalid: one `detail` entry per field and reason", Problem)
_UNAVAILABLE = _answer("a dependency failed; nothing was promised, retry with the same order_id", Problem)


def _problem(status: HTTPStatus, message: str, **extra: Any) -> Response[dict[str, Any]]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"statusCode": status.value, "message": message, **extra},
    )


@app.exception_handler(PayoutConflictError)
def _conflict(error: PayoutConflictError) -> Response[dict[str, Any]]:
    return _problem(HTTPStatus.CONFLICT, str(error), order_id=error.order_id, conflicting_fields=error.fields)


@app.exception_handler(PayeeNotValidatedError)
def _payee_not_validated(error: PayeeNotValidatedError) -> Response[dict[str, Any]]:
    metrics.add_metric(name="PayoutsRefusedByValidation", unit=MetricUnit.Count, value=1)
    return _problem(
        HTTPStatus.CONFLICT,
        str(error),
        order_id=error.order_id,
        payee_validation_id=error.validation_id,
        reason=error.reason,
        detail=[
            {
                "field": "payee_validation_id",
                "loc": ["body", "payee_validation_id"],
                "msg": str(error),
                "type": error.reason,
            }
        ],
    )


@app.exception_handler(PaymentConflictError)
def _payment_conflict(error: PaymentConflictError) -> Response[dict[str, Any]]:
    return _problem(HTTPStatus.CONFLICT, str(error), order_id=error.order_id, conflicting_fields=error.fields)


@app.exception_handler(RefundConflictError)
def _refund_conflict(error: RefundConflictError) -> Response[dict[str, Any]]:
    return _problem(
        HTTPStatus.CONFLICT, str(error), refund_id=error.refund_id, conflicting_fields=error.fields
    )


@app.exception_handler(ValidationConflictError)
def _validation_conflict(error: ValidationConflictError) -> Response[dict[str, Any]]:
    return _problem(
        HTTPStatus.CONFLICT, str(error), validation_id=error.validation_id, conflicting_fields=error.fields
    )


@app.exception_handler(RefundNotAllowedError)
def _refund_not_allowed(error: RefundNotAllowedError) -> Response[dict[str, Any]]:
    where = {"field": error.field, "loc": ["body", error.field]}
    detail = [{**where, "msg": str(error), "type": "refund_refused"}]
    return _problem(HTTPStatus(error.status), str(error), detail=detail)


@app.exception_handler(UnknownPaymentForRefundError)
def _refund_of_unknown_payment(error: UnknownPaymentForRefundError) -> Response[dict[str, Any]]:
    return _problem(HTTPStatus.NOT_FOUND, f"no payment with order_id {str(error)!r}")


# Paytm's refusal of initiateTransaction -> the merchant's answer: their request (4xx), or our side
# / Paytm's (502), always naming Paytm's code. 2023: the order id exists at Paytm with another body.
_REFUSAL_STATUS = {
    Outcome.INVALID_REQUEST: HTTPStatus.UNPROCESSABLE_ENTITY,
    Outcome.FINAL_FAILURE: HTTPStatus.UNPROCESSABLE_ENTITY,
    Outcome.CONFIGURATION_ERROR: HTTPStatus.BAD_GATEWAY,
}


@app.exception_handler(PaytmRefusedError)
def _paytm_refused(error: PaytmRefusedError) -> Response[dict[str, Any]]:
    status = HTTPStatus.CONFLICT if error.code == "2023" else _REFUSAL_STATUS[error.outcome]
    metrics.add_metric(name="PaymentInitiateRefused", unit=MetricUnit.Count, value=1)
    return _problem(
        status,
        f"Paytm refused to create the order: {error.code} {error.message}",
        order_id=error.payment.order_id,
        paytm_code=error.code,
        paytm_message=error.message,
    )


@app.exception_handler(PaytmNoAnswerError)
def _paytm_no_answer(error: PaytmNoAnswerError) -> Response[dict[str, Any]]:
    logger.warning("initiateTransaction without a usable answer", extra={"reason": error.reason})
    return _problem(
        HTTPStatus.BAD_GATEWAY,
        "Paytm gave no usable answer; retry with the same body (Paytm answers a repeat with the same order)",
        order_id=error.payment.order_id,
        paytm_code=error.code,
        paytm_message=error.reason,
    )


@app.exception_handler(MerchantCredentialsError)
def _product_not_configured(error: MerchantCredentialsError) -> Response[dict[str, Any]]:
    # Ours, not the merchant's request: the secret lacks the product (a payouts-only stack asked
    # for a payment) or is invalid. Nothing was stored or sent.
    logger.error("merchant secret cannot serve this request", extra={"problem": str(error)})
    return _problem(HTTPStatus.SERVICE_UNAVAILABLE, f"this stack is not configured for it: {error}")


@app.exception_handler(AutoDebitNotConfiguredError)
def _auto_debit_not_configured(error: AutoDebitNotConfiguredError) -> Response[dict[str, Any]]:
    logger.error("auto-debit is not configured on this stack", extra={"problem": str(error)})
    return _problem(HTTPStatus.SERVICE_UNAVAILABLE, f"this stack is not configured for it: {error}")


@app.exception_handler(UnknownLinkError)
def _unknown_link(error: UnknownLinkError) -> Response[dict[str, Any]]:
    return _problem(HTTPStatus.NOT_FOUND, str(error), link_id=error.link_id)


@app.exception_handler(LinkConflictError)
def _link_conflict(error: LinkConflictError) -> Response[dict[str, Any]]:
    return _problem(HTTPStatus.CONFLICT, str(error), link_id=error.link_id, conflicting_fields=error.fields)


@app.exception_handler(LinkNotUsableError)
def _link_not_usable(error: LinkNotUsableError) -> Response[dict[str, Any]]:
    where = {"field": "link_id", "loc": ["path", "link_id"]}
    detail = [{**where, "msg": str(error), "type": "wallet_link_not_usable"}]
    return _problem(HTTPStatus.CONFLICT, str(error), detail=detail, link=error.link.public_view())


@app.exception_handler(RateLimitedError)
def _rate_limited(error: RateLimitedError) -> Response[dict[str, Any]]:
    metrics.add_metric(name="WalletLinkRequestsRateLimited", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=HTTPStatus.TOO_MANY_REQUESTS,
        content_type=content_types.APPLICATION_JSON,
        headers={"Retry-After": str(error.retry_after_seconds)},
        body={
            "statusCode": HTTPStatus.TOO_MANY_REQUESTS.value,
            "message": str(error),
            "retry_after_seconds": error.retry_after_seconds,
        },
    )


@app.exception_handler(PaytmRefusedLinkError)
def _link_refused_by_paytm(error: PaytmRefusedLinkError) -> Response[dict[str, Any]]:
    where = {"field": error.field, "loc": ["body", error.field]}
    message = f"Paytm refused the {error.field}: {error.code} {error.paytm_message}"
    if error.link.status.value == "FAILED":
        message += f"; wallet link {error.link.link_id!r} is FAILED, a new link is needed"
    detail = [{**where, "msg": message, "type": f"paytm_{error.code}"}]
    return _problem(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        message,
        detail=detail,
        paytm_code=error.code,
        paytm_message=error.paytm_message,
        link=error.link.public_view(),
    )


@app.exception_handler(PaytmUnavailableError)
def _paytm_unavailable(error: PaytmUnavailableError) -> Response[dict[str, Any]]:
    logger.warning("auto-debit call without a usable answer", extra={"reason": str(error)})
    return _problem(HTTPStatus.SERVICE_UNAVAILABLE, f"{error}: nothing changed, retry the same request")


@app.exception_handler(AutoDebitConfigurationError)
def _auto_debit_misconfigured(error: AutoDebitConfigurationError) -> Response[dict[str, Any]]:
    metrics.add_metric(name="PaytmConfigurationErrors", unit=MetricUnit.Count, value=1)
    logger.error("Paytm refused Tijori's auto-debit credentials", extra={"paytm_code": error.code})
    return _problem(HTTPStatus.BAD_GATEWAY, str(error), paytm_code=error.code)


@app.exception_handler(RequestBodyRefusedError)
def _body_refused(error: RequestBodyRefusedError) -> Response[dict[str, Any]]:
    return Response(
        status_code=error.status, content_type=content_types.APPLICATION_JSON, body=error.problem()
    )


_RAIL_TAGS = frozenset({"wallet", "prepaid"})


def _problem_detail(problem: Any) -> dict[str, Any]:
    """One refused field: its dotted path inside the body and the reason. A payout's problems are
    located under the rail's tag first (models.AnyPayoutRequest): dropped, so `payee.phone` reads
    as in the body whatever the rail."""
    loc = list(problem["loc"])
    if problem.get("type") == RAIL_ERROR_TYPE:
        loc = [*loc[:1], "rail"]
    elif len(loc) > 1 and loc[0] == "body" and loc[1] in _RAIL_TAGS:
        loc = [loc[0], *loc[2:]]
    return {
        "field": ".".join(str(part) for part in loc[1:]) or str(loc[0]),
        "loc": loc,
        "msg": problem.get("msg", "invalid"),
        "type": problem.get("type", "value_error"),
    }


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
    # One entry per problem, naming the field (dotted path inside the body) and the reason.
    detail = [_problem_detail(problem) for problem in error.errors()]
    return _problem(HTTPStatus.UNPROCESSABLE_ENTITY, "request is invalid", detail=detail)


@app.exception_handler([ClientError, BotoCoreError])
def _dependency_unavailable(error: Exception) -> Response[dict[str, Any]]:
    # Nothing was promised to the merchant: answering 503 makes them retry with the same order_id,
    # which intake treats as a replay.
    logger.exception("AWS dependency failed")
    return _problem(HTTPStatus.SERVICE_UNAVAILABLE, "temporarily unavailable, retry with the same order_id")


# No @tracer.capture_method on routes: its wrapper would hide the annotations that Event Handler
# reads to validate the body (they resolve in the wrapper's module, not this one).
@app.post(
    "/v1/payouts",
    responses={
        202: _answer("accepted (or the stored payout of a replay with the same body)", PayoutView),
        400: _answer(
            "the body is not JSON as accepted: not UTF-8, duplicate keys, NaN, nested too deep", Problem
        ),
        403: _REFUSED_BY_GATEWAY,
        409: _answer(
            "the order_id exists with another body, or the payee validation it names is not VALID for"
            " this phone (nothing stored or sent)",
            PayoutConflictProblem,
        ),
        413: _answer(
            f"the body is over {MAX_JSON_BODY_BYTES} bytes (over 10 MB, API Gateway answers)", Problem
        ),
        415: _answer("the content-type is not application/json (UTF-8)", Problem),
        422: _INVALID,
        503: _UNAVAILABLE,
    },
)
def create_payout(payout: Annotated[AnyPayoutRequest, Body()]) -> Response[dict[str, Any]]:
    logger.set_correlation_id(payout.order_id)
    result = submit_payout(
        payout,
        repository=_repository(),
        dispatcher=_dispatcher(),
        now=utc_now(),
        prepaid_defaults=_prepaid_defaults(),
        validations=_validations(),
    )
    if result.created:
        metrics.add_metric(name="PayoutsAccepted", unit=MetricUnit.Count, value=1)
    logger.info("payout submitted", extra={"replay": not result.created, "status": result.payout.status})
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=result.payout.public_view(),
    )


@app.post(
    "/v1/payments",
    responses={
        201: _answer("the payment, CREATED, with `checkout` (or the stored one of a replay)", PaymentView),
        202: _answer(
            "a charge on a linked wallet (`method`), ACCEPTED: PayoutFunction sends it (or the stored one"
            " of a replay)",
            PaymentView,
        ),
        400: _answer("the body is not JSON as accepted", Problem),
        403: _REFUSED_BY_GATEWAY,
        409: _answer(
            "the order_id exists with another body (ours, or Paytm's 2023), or the charge's wallet link is"
            " unknown or not LINKED (nothing stored or sent)",
            ConflictProblem,
        ),
        413: _answer(f"the body is over {MAX_JSON_BODY_BYTES} bytes", Problem),
        415: _answer("the content-type is not application/json (UTF-8)", Problem),
        422: _answer("invalid (per field), or refused by Paytm (its code)", PaytmRefusalProblem),
        502: _answer("Paytm: a configuration error, or no usable answer (retry)", PaytmRefusalProblem),
        503: _UNAVAILABLE,
    },
)
def create_payment(payment: Annotated[AnyPaymentRequest, Body()]) -> Response[dict[str, Any]]:
    logger.set_correlation_id(payment.order_id)
    if isinstance(payment, ChargeRequest):
        return _create_charge(payment)
    result, mid = event_loop.run_until_complete(_create_payment(payment, _callback_url()))
    if result.created:
        metrics.add_metric(name="PaymentsCreated", unit=MetricUnit.Count, value=1)
    logger.info("payment created", extra={"replay": not result.created, "status": result.payment.status})
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=content_types.APPLICATION_JSON,
        body=result.payment.public_view(mid),
    )


def _create_charge(charge: ChargeRequest) -> Response[dict[str, Any]]:
    from tijori.payments.charges import accept_charge

    async def usable_link(link_id: str) -> Any:
        try:
            return await _linker().usable(link_id)
        except UnknownLinkError:
            detail = [
                {
                    "field": "method.link_id",
                    "loc": ["body", "method", "link_id"],
                    "msg": f"no wallet link {link_id!r}: link the wallet first (POST /v1/wallet-links)",
                    "type": "unknown_wallet_link",
                }
            ]
            raise ChargeRefusedError(HTTPStatus.CONFLICT, detail) from None

    async def accept() -> tuple[Any, bool]:
        return await accept_charge(
            charge, payments=_payments(), usable_link=usable_link, dispatcher=_dispatcher(), now=utc_now()
        )

    stored, created = event_loop.run_until_complete(accept())
    if created:
        metrics.add_metric(name="ChargesAccepted", unit=MetricUnit.Count, value=1)
    logger.info("charge submitted", extra={"replay": not created, "status": stored.status})
    mid = load_merchant_credentials(settings.merchant_secret_name).mid
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=stored.public_view(mid),
    )


class ChargeRefusedError(Exception):
    def __init__(self, status: HTTPStatus, detail: list[dict[str, Any]]) -> None:
        super().__init__(detail[0]["msg"])
        self.status = status
        self.detail = detail


@app.exception_handler(ChargeRefusedError)
def _charge_refused(error: ChargeRefusedError) -> Response[dict[str, Any]]:
    return _problem(error.status, str(error), detail=error.detail)


@app.get(
    "/v1/payments/<order_id>",
    responses={
        200: _answer("the payment", PaymentView),
        403: _REFUSED_BY_GATEWAY,
        404: _answer("no payment with this order_id", Problem),
        422: _INVALID,
        503: _UNAVAILABLE,
    },
)
def get_payment(order_id: Annotated[str, Path(pattern=PAYMENT_ORDER_ID_PATTERN)]) -> Response[dict[str, Any]]:
    payment = _payments().get(order_id)
    if payment is None:
        return _problem(HTTPStatus.NOT_FOUND, f"no payment with order_id {order_id!r}")
    mid = load_merchant_credentials(settings.merchant_secret_name).mid
    return Response(
        status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=payment.public_view(mid)
    )


@app.post(
    "/v1/payments/<order_id>/refunds",
    responses={
        202: _answer("accepted (or the stored refund of a replay with the same body)", RefundView),
        400: _answer("the body is not JSON as accepted", Problem),
        403: _REFUSED_BY_GATEWAY,
        404: _answer("no payment with this order_id", Problem),
        409: _answer(
            "the refund_id exists with another body or under another payment, or the payment is not PAID",
            ConflictProblem,
        ),
        413: _answer(f"the body is over {MAX_JSON_BODY_BYTES} bytes", Problem),
        415: _answer("the content-type is not application/json (UTF-8)", Problem),
        422: _answer("invalid, or the amount is over what can still be refunded", Problem),
        503: _UNAVAILABLE,
    },
)
def create_refund(
    order_id: Annotated[str, Path(pattern=PAYMENT_ORDER_ID_PATTERN)], refund: Annotated[RefundRequest, Body()]
) -> Response[dict[str, Any]]:
    logger.set_correlation_id(refund.refund_id)
    result = submit_refund(
        order_id, refund, payments=_payments(), refunds=_refunds(), dispatcher=_dispatcher(), now=utc_now()
    )
    if result.created:
        metrics.add_metric(name="RefundsAccepted", unit=MetricUnit.Count, value=1)
    logger.info("refund submitted", extra={"replay": not result.created, "status": result.refund.status})
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=result.refund.public_view(),
    )


@app.get(
    "/v1/payments/<order_id>/refunds/<refund_id>",
    responses={
        200: _answer("the refund", RefundView),
        403: _REFUSED_BY_GATEWAY,
        404: _answer("no such refund of this payment", Problem),
        422: _INVALID,
        503: _UNAVAILABLE,
    },
)
def get_refund(
    order_id: Annotated[str, Path(pattern=PAYMENT_ORDER_ID_PATTERN)],
    refund_id: Annotated[str, Path(pattern=REFUND_ID_PATTERN)],
) -> Response[dict[str, Any]]:
    refund = _refunds().get(refund_id)
    if refund is None or refund.order_id != order_id:
        return _problem(HTTPStatus.NOT_FOUND, f"no refund {refund_id!r} of payment {order_id!r}")
    view = refund.public_view()
    return Response(status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=view)


@app.post(
    "/v1/payee-validations",
    responses={
        202: _answer(
            "accepted, ACCEPTED (or the stored validation of a replay with the same body)", ValidationView
        ),
        400: _answer("the body is not JSON as accepted", Problem),
        403: _REFUSED_BY_GATEWAY,
        409: _answer("the validation_id exists with another body", ValidationConflictProblem),
        413: _answer(f"the body is over {MAX_JSON_BODY_BYTES} bytes", Problem),
        415: _answer("the content-type is not application/json (UTF-8)", Problem),
        422: _INVALID,
        503: _UNAVAILABLE,
    },
)
def create_payee_validation(
    validation: Annotated[PayeeValidationRequest, Body()],
) -> Response[dict[str, Any]]:
    logger.set_correlation_id(validation.validation_id)
    result = submit_validation(
        validation,
        repository=_validations(),
        dispatcher=_dispatcher(),
        now=utc_now(),
        callback_url=_callback_url("/v1/callbacks/payouts"),
    )
    if result.created:
        metrics.add_metric(name="ValidationsAccepted", unit=MetricUnit.Count, value=1)
    status = result.validation.status
    logger.info("payee validation submitted", extra={"replay": not result.created, "status": status})
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=result.validation.public_view(),
    )


@app.get(
    "/v1/payee-validations/<validation_id>",
    responses={
        200: _answer("the payee validation", ValidationView),
        403: _REFUSED_BY_GATEWAY,
        404: _answer("no payee validation with this validation_id", Problem),
        422: _INVALID,
        503: _UNAVAILABLE,
    },
)
def get_payee_validation(
    validation_id: Annotated[str, Path(pattern=VALIDATION_ID_PATTERN)],
) -> Response[dict[str, Any]]:
    validation = _validations().get(validation_id)
    if validation is None:
        return _problem(HTTPStatus.NOT_FOUND, f"no payee validation with validation_id {validation_id!r}")
    return Response(
        status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=validation.public_view()
    )


# ---- auto-debit: wallet links (seed 002) ----------------------------------------------------
_LINK_PATH = Annotated[str, Path(pattern=LINK_ID_PATTERN)]
_LINK_REFUSED = _answer(
    "the link is not in a status that allows this (nothing sent to Paytm); `link` shows it", WalletLinkProblem
)
_RATE_LIMITED = _answer(
    "too many new links or OTP attempts for this phone: retry after `Retry-After` s", RateLimitProblem
)
_PAYTM_NO_ANSWER = _answer("Paytm gave no usable answer: nothing changed, retry the same request", Problem)
_PAYTM_MISCONFIGURED = _answer(
    "Paytm refused Tijori's auto-debit credentials (ours to fix)", WalletLinkProblem
)


def _link_answer(status: HTTPStatus, view: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=view)


@app.post(
    "/v1/wallet-links",
    responses={
        200: _answer("the stored link of a replay with the same body (nothing sent again)", WalletLinkView),
        201: _answer("Paytm sent the customer an OTP: the link, OTP_SENT", WalletLinkView),
        400: _answer("the body is not JSON as accepted", Problem),
        403: _REFUSED_BY_GATEWAY,
        409: _answer("the link_id exists with another body", ConflictProblem),
        413: _answer(f"the body is over {MAX_JSON_BODY_BYTES} bytes", Problem),
        415: _answer("the content-type is not application/json (UTF-8)", Problem),
        422: _answer(
            "invalid (per field), or Paytm refused the phone or email (its code)", WalletLinkProblem
        ),
        429: _RATE_LIMITED,
        502: _PAYTM_MISCONFIGURED,
        503: _PAYTM_NO_ANSWER,
    },
)
def create_wallet_link(link: Annotated[WalletLinkRequest, Body()]) -> Response[dict[str, Any]]:
    logger.set_correlation_id(link.link_id)

    async def create() -> Any:
        return await _linker().create(link, timeout=INITIATE_TIMEOUT_SECONDS)

    result = event_loop.run_until_complete(create())
    logger.info("wallet link asked", extra={"replay": not result.created, "status": result.link.status})
    return _link_answer(HTTPStatus.CREATED if result.created else HTTPStatus.OK, result.link.public_view())


@app.post(
    "/v1/wallet-links/<link_id>/otp",
    responses={
        200: _answer("the OTP was right: the link, LINKED", WalletLinkView),
        400: _answer("the body is not JSON as accepted", Problem),
        403: _REFUSED_BY_GATEWAY,
        404: _answer("no wallet link with this link_id", Problem),
        409: _LINK_REFUSED,
        413: _answer(f"the body is over {MAX_JSON_BODY_BYTES} bytes", Problem),
        415: _answer("the content-type is not application/json (UTF-8)", Problem),
        422: _answer("invalid, or a wrong OTP (Paytm's code; 5 wrong fail the link)", WalletLinkProblem),
        429: _RATE_LIMITED,
        502: _PAYTM_MISCONFIGURED,
        503: _PAYTM_NO_ANSWER,
    },
)
def verify_wallet_link_otp(
    link_id: _LINK_PATH, otp: Annotated[OtpSubmission, Body()]
) -> Response[dict[str, Any]]:
    logger.set_correlation_id(link_id)

    async def verify() -> Any:
        return await _linker().submit_otp(link_id, otp.otp, timeout=INITIATE_TIMEOUT_SECONDS)

    link = event_loop.run_until_complete(verify())
    logger.info("wallet link OTP verified", extra={"status": link.status})
    return _link_answer(HTTPStatus.OK, link.public_view())


@app.get(
    "/v1/wallet-links/<link_id>",
    responses={
        200: _answer(
            "the link (`verify=true`: after asking Paytm whether its token still works)", WalletLinkView
        ),
        403: _REFUSED_BY_GATEWAY,
        404: _answer("no wallet link with this link_id", Problem),
        422: _INVALID,
        502: _PAYTM_MISCONFIGURED,
        503: _PAYTM_NO_ANSWER,
    },
)
def get_wallet_link(
    link_id: _LINK_PATH,
    verify: Annotated[
        bool, Query(description="ask Paytm's Validate Token API; EXPIRED if Paytm forgot it")
    ] = False,
) -> Response[dict[str, Any]]:
    async def read() -> Any:
        return await _linker().get(link_id, verify=verify, timeout=INITIATE_TIMEOUT_SECONDS)

    return _link_answer(HTTPStatus.OK, event_loop.run_until_complete(read()).public_view())


@app.delete(
    "/v1/wallet-links/<link_id>",
    responses={
        200: _answer(
            "the link, REVOKED (its token deleted); a second DELETE answers the same", WalletLinkView
        ),
        403: _REFUSED_BY_GATEWAY,
        404: _answer("no wallet link with this link_id", Problem),
        422: _INVALID,
        502: _PAYTM_MISCONFIGURED,
        503: _PAYTM_NO_ANSWER,
    },
)
def revoke_wallet_link(link_id: _LINK_PATH) -> Response[dict[str, Any]]:
    logger.set_correlation_id(link_id)

    async def revoke() -> Any:
        return await _linker().revoke(link_id, timeout=INITIATE_TIMEOUT_SECONDS)

    link = event_loop.run_until_complete(revoke())
    logger.info("wallet link revoked", extra={"status": link.status})
    return _link_answer(HTTPStatus.OK, link.public_view())


@app.get(
    "/v1/wallet-links/<link_id>/balance",
    responses={
        200: _answer("whether the wallet covers the amount, and what to add when it does not", BalanceView),
        403: _REFUSED_BY_GATEWAY,
        404: _answer("no wallet link with this link_id", Problem),
        409: _LINK_REFUSED,
        422: _INVALID,
        502: _PAYTM_MISCONFIGURED,
        503: _PAYTM_NO_ANSWER,
    },
)
def get_wallet_link_balance(
    link_id: _LINK_PATH,
    amount: Annotated[str, Query(pattern=AMOUNT_PATTERN, description='the amount to cover, e.g. "250.00"')],
) -> Response[dict[str, Any]]:
    async def consult() -> Any:
        return await _linker().balance(
            link_id, Decimal(amount).quantize(Decimal("0.01")), timeout=INITIATE_TIMEOUT_SECONDS
        )

    return _link_answer(HTTPStatus.OK, event_loop.run_until_complete(consult()).view())


@app.post(
    "/v1/wallet-links/<link_id>/add-money",
    responses={
        201: _answer(
            "the add-money order (CREATED) and a one-time URL for the customer's browser", AddMoneyView
        ),
        400: _answer("the body is not JSON as accepted", Problem),
        403: _REFUSED_BY_GATEWAY,
        404: _answer("no wallet link with this link_id", Problem),
        409: _answer("the link is not LINKED, or the order_id exists with another body", WalletLinkProblem),
        413: _answer(f"the body is over {MAX_JSON_BODY_BYTES} bytes", Problem),
        415: _answer("the content-type is not application/json (UTF-8)", Problem),
        422: _INVALID,
        503: _UNAVAILABLE,
    },
)
def create_add_money(
    link_id: _LINK_PATH, request: Annotated[AddMoneyRequest, Body()]
) -> Response[dict[str, Any]]:
    logger.set_correlation_id(request.order_id)

    async def issue() -> Any:
        return await _add_money_desk(_linker()).issue(link_id, request)

    issued = event_loop.run_until_complete(issue())
    mid = load_merchant_credentials(settings.merchant_secret_name).mid
    body = {
        "payment": issued.payment.public_view(mid),
        "form_url": issued.form_url,
        "form_expires_at": issued.form_expires_at.isoformat() if issued.form_expires_at else None,
    }
    return Response(status_code=HTTPStatus.CREATED, content_type=content_types.APPLICATION_JSON, body=body)


@app.get("/v1/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    _describe_api()
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=_with_batch_request_body(app.get_openapi_json_schema()),
    )


_CSV_EXAMPLE = "order_id,amount,phone\nCB-1001,10.50,9876543210\nCB-1002,25.00,9876543211\n"
# The document's pattern of a CSV body: the simplest header, then at least one row of anything
# but quotes. It says what the body must be for a 202 (a CSV with rows), not what each row must
# be: a bad row is a rejected row of the 202, not a refusal of the body.
_CSV_SIMPLEST = r'^order_id,amount,phone\r?\n[^"]*[^"\s][^"]*$'


def _with_batch_request_body(document_text: str) -> str:
    """POST /v1/payout-batches takes two media types, which Event Handler cannot say from a
    parameter: its request body is written into the document here. Each JSON row is validated
    on its own (a row that is not a payout request is a rejected row of a 202, not a 422), so the
    array's items are described, not constrained."""
    document = json.loads(document_text)
    operation = document.get("paths", {}).get("/v1/payout-batches", {}).get("post")
    if operation is not None:
        payout_schema = document["paths"]["/v1/payouts"]["post"]["requestBody"]["content"][
            content_types.APPLICATION_JSON
        ]["schema"]
        operation["requestBody"] = {
            "required": True,
            "content": {
                content_types.APPLICATION_JSON: {
                    "schema": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_BATCH_ROWS,
                        "description": "POST /v1/payouts bodies, one per payout",
                        "items": {"description": "a POST /v1/payouts body", "x-row-schema": payout_schema},
                    },
                    "example": [
                        {"order_id": "CB-1001", "amount": "10.50", "payee": {"phone": "9876543210"}},
                        {"order_id": "CB-1002", "amount": "25.00", "payee": {"email": "a@example.com"}},
                    ],
                },
                CSV_MEDIA_TYPE: {
                    "schema": {
                        "type": "string",
                        "description": "a header row naming the columns (see the operation's"
                        " description), then one payout per line; the pattern shows the simplest"
                        " header (any of the columns may be named, in any order), and a quote is a"
                        " CSV quote",
                        "pattern": _CSV_SIMPLEST,
                    },
                    "example": _CSV_EXAMPLE,
                },
            },
        }
    return json.dumps(document)


@app.get(
    "/v1/payouts/<order_id>",
    responses={
        200: _answer("the payout", PayoutView),
        403: _REFUSED_BY_GATEWAY,
        404: _answer("no payout with this order_id", Problem),
        422: _INVALID,
        503: _UNAVAILABLE,
    },
)
def get_payout(order_id: Annotated[str, Path(pattern=ORDER_ID_PATTERN)]) -> Response[dict[str, Any]]:
    payout = _repository().get(order_id)
    if payout is None:
        return _problem(HTTPStatus.NOT_FOUND, f"no payout with order_id {order_id!r}")
    return Response(
        status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=payout.public_view()
    )


BATCH_ROUTE_KEY = "POST /v1/payout-batches"


@app.post(
    "/v1/payout-batches",
    description=(
        "Many payouts in one request: `text/csv` (a header row naming columns among `order_id`,"
        " `amount`, `phone`, `email`, `sso_id`, `mode`, `narration`, `rail`, `payee_validation_id`,"
        " `pending_days_limit`, `urn`, `customer_id`, `customer_mobile`, `subwallet_id`,"
        " `account_number`; one payout per line) or `application/json` (an array of"
        " `POST /v1/payouts` bodies). Every row is validated and taken in as `POST /v1/payouts` does"
        " it, on its own: the answer lists the accepted order ids and each rejected row with its line"
        " (CSV line, the header is line 1; JSON: position from 1), field and reason. The `batch_id`"
        " makes a resubmission safe: a row already taken in under it is not taken in again."
        f" At most {MAX_BATCH_ROWS} rows and {MAX_BATCH_BODY_BYTES} bytes."
    ),
    responses={
        202: _answer("every row accepted or rejected, on its own", BatchAccepted),
        400: _answer("the body is not JSON as accepted, or not CSV", Problem),
        403: _REFUSED_BY_GATEWAY,
        413: _answer(f"over {MAX_BATCH_BODY_BYTES} bytes (over 10 MB, API Gateway answers)", Problem),
        415: _answer("the content-type is not text/csv or application/json (UTF-8)", Problem),
        422: _answer(
            f"invalid batch_id, or a body that is no batch: over {MAX_BATCH_ROWS} rows, not an array,"
            " no rows, an unknown or repeated CSV column, malformed CSV",
            Problem,
        ),
        503: _answer("a dependency failed; resubmit the same batch: nothing is taken in twice", Problem),
    },
)
def create_payout_batch(
    batch_id: Annotated[str, Query(pattern=ORDER_ID_PATTERN, description="the client's id of this batch")],
) -> Response[dict[str, Any]]:
    logger.set_correlation_id(batch_id)
    event = app.current_event
    body = event.body or ""
    if event.headers.get("content-type", "").split(";")[0].strip().lower() == CSV_MEDIA_TYPE:
        read = read_csv_batch(body)
    else:
        read = read_json_batch(parse_json_strictly(body))
    result = submit_batch(
        batch_id,
        read,
        repository=_thread_repository,
        validations=_ThreadValidations(),
        dispatcher=_dispatcher(),
        pool=_batch_pool(),
        now=utc_now(),
        prepaid_defaults=_prepaid_defaults(),
    )
    metrics.add_metric(name="PayoutsAccepted", unit=MetricUnit.Count, value=result.created)
    metrics.add_metric(name="BatchRowsRejected", unit=MetricUnit.Count, value=len(result.rejected))
    if result.not_queued:
        logger.warning("batch payouts not queued: the sweep queues them", extra={"count": result.not_queued})
    logger.info(
        "payout batch submitted",
        extra={"accepted": len(result.accepted), "new": result.created, "rejected": len(result.rejected)},
    )
    return Response(
        status_code=HTTPStatus.ACCEPTED, content_type=content_types.APPLICATION_JSON, body=result.view()
    )


@app.get(
    "/v1/payout-batches/<batch_id>",
    responses={
        200: _answer("the batch's payouts by status", BatchProgressView),
        403: _REFUSED_BY_GATEWAY,
        404: _answer("no payout was taken in under this batch_id", Problem),
        422: _INVALID,
        503: _UNAVAILABLE,
    },
)
def get_payout_batch(
    batch_id: Annotated[str, Path(pattern=ORDER_ID_PATTERN)],
    detail: Annotated[
        bool, Query(description="also list each payout (order id, status, Paytm's id)")
    ] = False,
) -> Response[dict[str, Any]]:
    members = _repository().members_of_batch(batch_id)
    if not members:
        return _problem(HTTPStatus.NOT_FOUND, f"no payout batch with batch_id {batch_id!r}")
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=batch_progress(batch_id, members, with_rows=detail),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("routeKey") == SWAGGER_ROUTE_KEY:
        _describe_api()  # the Swagger page's route exists from its first request on
    if event.get("requestContext", {}).get("http", {}).get("method") == "POST":
        # The body's prelude: size, media type and UTF-8, read once; the resolver then parses the
        # text with parse_json_strictly and validates it against the route's model.
        try:
            if event.get("routeKey") == BATCH_ROUTE_KEY:
                _, text = text_body(
                    event, max_bytes=MAX_BATCH_BODY_BYTES, media_types=(CSV_MEDIA_TYPE, JSON_MEDIA_TYPE)
                )
            else:
                text = json_body_text(event)
            event = {**event, "body": text, "isBase64Encoded": False}
        except RequestBodyRefusedError as refused:
            return {
                "statusCode": refused.status.value,
                "headers": {"Content-Type": content_types.APPLICATION_JSON},
                "body": json.dumps(refused.problem()),
                "isBase64Encoded": False,
            }
    return app.resolve(event, context)
