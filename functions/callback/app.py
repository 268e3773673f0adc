"""CallbackFunction: Paytm's callbacks, on open routes, verified in code over the raw body.

A forged or unsigned callback answers 401, an oversized one 413, a malformed one (or one with a
repeated field) 400; none of them is stored or changes anything. A verified callback is stored
before it is answered, and then asks for a status check of what it names (once per news: repeats
are stored as duplicates and trigger nothing). It never changes a payout or a payment itself: only
the status API's answer does. A PG callback names a payment (or, failing that, a payout); the
customer's browser that posted it is sent on to the payment's `return_url` with only the order id.
A Payouts callback names a payee validation (or, failing that, a payout): a validation's status
check is the status query, made by PayoutFunction.

It also serves the stack's other open route, the one-time add-money URL (seed 002 auto-debit) a
customer's browser opens: once, `Cache-Control: no-store`, the auto-submitting form for Paytm's
processTransaction, whose `SSO_TOKEN` is the customer's token opened from its KMS seal here.
"""

from __future__ import annotations

import base64
import functools
import html
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paytm_signing import MerchantCredentials, load_merchant_credentials
from tijori.adapters.aws_clients import aws_client, dynamodb_table
from tijori.adapters.callback_table import DynamoDbCallbackStore
from tijori.adapters.payout_queue import SqsPayoutDispatcher
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.callbacks import (
    CallbackKind,
    CallbackOutcome,
    CallbackRejectedError,
    VerifiedCallback,
    receive_callback,
    verify_json_callback,
    verify_pg_callback,
)
from tijori.clock import utc_now
from tijori.observability import logger, metrics, tracer
from tijori.payouts.models import Payout
from tijori.settings import CallbackSettings, ConfigurationError, load_settings

if TYPE_CHECKING:
    from pydantic import SecretStr

    from tijori.adapters.payment_table import DynamoDbPaymentRepository
    from tijori.adapters.validation_table import DynamoDbValidationRepository
    from tijori.payments.models import Payment
    from tijori.validations.models import PayeeValidation
    from tijori.wallet_links.add_money import AddMoneyForms
    from tijori.wallet_links.models import AddMoneyTicket

settings = load_settings(CallbackSettings)
tracer.patch(["botocore"])  # X-Ray traces the AWS calls; this function makes no others


@functools.cache
def _callback_store() -> DynamoDbCallbackStore:
    return DynamoDbCallbackStore(dynamodb_table(settings.callbacks_table_name))


@functools.cache
def _payouts() -> DynamoDbPayoutRepository:
    return DynamoDbPayoutRepository(dynamodb_table(settings.payouts_table_name))


@functools.cache
def _payments() -> DynamoDbPaymentRepository:
    # Loaded with the first PG callback: a payouts callback's cold start never pays for it.
    from tijori.adapters.payment_table import DynamoDbPaymentRepository

    return DynamoDbPaymentRepository(dynamodb_table(settings.payments_table_name))


class PgOrders:
    """What a PG callback names: a payment, or else a payout (whose check is harmless: it only asks
    Paytm); and the status check it asks for, by kind."""

    def __init__(self) -> None:
        self.payment: Payment | None = None

    def get(self, order_id: str) -> Payment | Payout | None:
        self.payment = _payments().get(order_id)
        return self.payment if self.payment is not None else _payouts().get(order_id)

    def request_check(self, order_id: str) -> None:
        if self.payment is not None:
            _status_checks().request_item_check("payment", order_id)
        else:
            _status_checks().request_check(order_id)


@functools.cache
def _validations() -> DynamoDbValidationRepository:
    # Loaded with the first Payouts callback: a PG callback's cold start never pays for it.
    from tijori.adapters.validation_table import DynamoDbValidationRepository

    return DynamoDbValidationRepository(dynamodb_table(settings.validations_table_name))


class PayoutsOrders:
    """What a Payouts callback names: a payee validation, or else a payout; and the status check
    it asks for, by kind (the callback itself never changes either)."""

    def __init__(self) -> None:
        self.validation: PayeeValidation | None = None

    def get(self, order_id: str) -> PayeeValidation | Payout | None:
        self.validation = _validations().get(order_id)
        return self.validation if self.validation is not None else _payouts().get(order_id)

    def request_check(self, order_id: str) -> None:
        if self.validation is not None:
            _status_checks().request_item_check("validation", order_id)
        else:
            _status_checks().request_check(order_id)


@functools.cache
def _status_checks() -> SqsPayoutDispatcher:
    return SqsPayoutDispatcher(aws_client("sqs"), settings.payout_queue_url)


app = APIGatewayHttpResolver()

_OUTCOME_METRICS = {
    CallbackOutcome.CHECK_REQUESTED: "CallbackStatusChecksRequested",
    CallbackOutcome.UNKNOWN_ORDER: "CallbacksForUnknownOrders",
    CallbackOutcome.DUPLICATE: "CallbacksDuplicate",
}


def _credentials() -> MerchantCredentials:
    return load_merchant_credentials(settings.merchant_secret_name)


def _raw_body() -> bytes:
    """The body exactly as Paytm sent it: the checksum is over these bytes, not a re-encoding."""
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


@app.exception_handler(CallbackRejectedError)
def _rejected(error: CallbackRejectedError) -> Response[dict[str, Any]]:
    # Never the body (a forger chooses it) and never stored: a flood of forgeries writes nothing.
    metrics.add_metric(name="CallbacksRejected", unit=MetricUnit.Count, value=1)
    logger.warning(
        "callback rejected",
        extra={"reason": error.reason, "status": int(error.status), "path": app.current_event.path},
    )
    return Response(
        status_code=int(error.status),
        content_type=content_types.APPLICATION_JSON,
        body={"statusCode": int(error.status), "message": error.reason},
    )


def _receive(
    callback: VerifiedCallback, raw_body: bytes, orders: PgOrders | PayoutsOrders | None = None
) -> Response[dict[str, Any]]:
    logger.append_keys(order_id=callback.order_id)
    metrics.add_metric(name="CallbacksVerified", unit=MetricUnit.Count, value=1)
    receipt = receive_callback(
        callback,
        raw_body=raw_body,
        headers=dict(app.current_event.headers),
        received_at=utc_now(),
        store=_callback_store(),
        payouts=orders or _payouts(),
        status_checks=orders or _status_checks(),
    )
    metrics.add_metric(name=_OUTCOME_METRICS[receipt.outcome], unit=MetricUnit.Count, value=1)
    unknown_fields = callback.unknown_fields
    if unknown_fields:
        metrics.add_metric(name="CallbacksWithUnknownFields", unit=MetricUnit.Count, value=1)
    # Field names only: values (and checksums) stay in the table, never in the logs.
    logger.info(
        "callback stored",
        extra={
            "kind": callback.kind.value,
            "callback_id": receipt.callback_id,
            "outcome": receipt.outcome.value,
            "duplicate_of": receipt.duplicate_of,
            "unknown_fields": unknown_fields,
        },
    )
    payment = orders.payment if isinstance(orders, PgOrders) else None
    if payment is not None and payment.return_url and callback.order_id is not None:
        # The customer's browser posted this: send it on with the order id only; the merchant
        # reads the status with GET (never from the callback).
        return Response(
            status_code=HTTPStatus.SEE_OTHER,
            content_type=content_types.APPLICATION_JSON,
            body={"received": True, "kind": callback.kind.value, "order_id": callback.order_id},
            headers={"Location": return_location(payment.return_url, callback.order_id)},
        )
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body={"received": True, "kind": callback.kind.value, "order_id": callback.order_id},
    )


def return_location(return_url: str, order_id: str) -> str:
    """`return_url` with `order_id` added to its query (and nothing else of the callback)."""
    parts = urlsplit(return_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "order_id"]
    query.append(("order_id", order_id))
    return urlunsplit(parts._replace(query=urlencode(query)))


_TICKET_PATTERN = re.compile(r"[A-Za-z0-9_\-]{20,100}")


@app.get("/v1/add-money/<ticket>")
def add_money_form(ticket: str) -> Response[str]:
    from tijori.wallet_links.add_money import AddMoneyFormGoneError, add_money_page

    gone_headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    try:
        if not _TICKET_PATTERN.fullmatch(ticket):
            raise AddMoneyFormGoneError("this is not an add-money link")
        page, headers = add_money_page(_add_money_forms().serve(ticket))
    except AddMoneyFormGoneError as gone:
        metrics.add_metric(name="AddMoneyFormsGone", unit=MetricUnit.Count, value=1)
        body = f"<!DOCTYPE html><html><body><p>{html.escape(str(gone))}</p></body></html>\n"
        return Response(HTTPStatus.GONE, "text/html; charset=utf-8", body, gone_headers)
    metrics.add_metric(name="AddMoneyFormsServed", unit=MetricUnit.Count, value=1)
    return Response(HTTPStatus.OK, "text/html; charset=utf-8", page, headers)


@functools.cache
def _add_money_forms() -> AddMoneyForms:
    from tijori.adapters.token_vault import KmsTokenVault
    from tijori.adapters.wallet_link_table import DynamoDbWalletLinkRepository
    from tijori.paytm.autodebit_mapping import add_money_form as signed_form
    from tijori.paytm.autodebit_mapping import autodebit_merchant
    from tijori.wallet_links.add_money import AddMoneyForms
    from tijori.wallet_links.ports import AddMoneyForm

    if not settings.wallet_links_table_name or not settings.wallet_token_key_id:
        raise ConfigurationError("add-money forms need WALLET_LINKS_TABLE_NAME and WALLET_TOKEN_KEY_ID")

    def build(ticket: AddMoneyTicket, token: SecretStr, cust_id: str) -> AddMoneyForm:
        merchant = autodebit_merchant(_credentials())
        form = signed_form(
            merchant,
            ticket.paytm_pg_base_url,
            order_id=ticket.order_id,
            amount=ticket.amount,
            token=token,
            cust_id=cust_id,
            callback_url=ticket.callback_url,
        )
        return AddMoneyForm(action=form.action, fields=dict(form.fields))

    return AddMoneyForms(
        links=DynamoDbWalletLinkRepository(dynamodb_table(settings.wallet_links_table_name)),
        payments=_payments(),
        vault=KmsTokenVault(aws_client("kms"), settings.wallet_token_key_id),
        build_form=build,
        clock=utc_now,
    )


@app.post("/v1/callbacks/pg")
def pg_callback() -> Response[dict[str, Any]]:
    raw_body = _raw_body()
    callback = verify_pg_callback(
        raw_body, key=_credentials().pg.checksum_key, max_bytes=settings.callback_max_body_bytes
    )
    return _receive(callback, raw_body, PgOrders())


@app.post("/v1/callbacks/payouts")
def payouts_callback() -> Response[dict[str, Any]]:
    raw_body = _raw_body()
    callback = verify_json_callback(
        raw_body,
        app.current_event.headers.get("x-checksum"),
        key=_credentials().payouts.checksum_key,
        max_bytes=settings.callback_max_body_bytes,
        kind=CallbackKind.PAYOUTS,
    )
    return _receive(callback, raw_body, PayoutsOrders())


@logger.inject_lambda_context(clear_state=True)
# Not the response in the trace: the one-time add-money page carries the customer's token (seed 002
# puts it in the form), and X-Ray keeps what Tracer records as metadata.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
