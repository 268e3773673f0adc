"""CallbackFunction: Paytm's callbacks, on open routes, verified in code over the raw body.

A forged or unsigned callback answers 401, an oversized one 413, a malformed one 400, and none of
them changes anything. A verified callback is acknowledged; re-checking its status server to
server and applying it come with the wallet-validation and PG issues.
"""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from paytm_signing import MerchantCredentials, load_merchant_credentials
from tijori.callbacks import CallbackRejectedError, VerifiedCallback, verify_json_callback, verify_pg_callback
from tijori.observability import logger, metrics, tracer
from tijori.settings import CallbackSettings, load_settings

settings = load_settings(CallbackSettings)
app = APIGatewayHttpResolver()


def _credentials() -> MerchantCredentials:
    return load_merchant_credentials(settings.merchant_secret_name)


def _raw_body() -> bytes:
    """The body exactly as Paytm sent it: the checksum is over these bytes, not a re-encoding."""
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


@app.exception_handler(CallbackRejectedError)
def _rejected(error: CallbackRejectedError) -> Response[dict[str, Any]]:
    metrics.add_metric(name="CallbacksRejected", unit=MetricUnit.Count, value=1)
    logger.warning("callback rejected", extra={"reason": error.reason, "status": int(error.status)})
    return Response(
        status_code=int(error.status),
        content_type=content_types.APPLICATION_JSON,
        body={"statusCode": int(error.status), "message": error.reason},
    )


def _acknowledge(callback: VerifiedCallback) -> Response[dict[str, Any]]:
    logger.append_keys(order_id=callback.order_id)
    metrics.add_metric(name="CallbacksVerified", unit=MetricUnit.Count, value=1)
    logger.info("callback verified", extra={"kind": callback.kind})
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body={"received": True, "kind": callback.kind, "order_id": callback.order_id},
    )


@app.post("/v1/callbacks/pg")
def pg_callback() -> Response[dict[str, Any]]:
    key = _credentials().merchant_key.get_secret_value()
    callback = verify_pg_callback(_raw_body(), merchant_key=key, max_bytes=settings.callback_max_body_bytes)
    return _acknowledge(callback)


@app.post("/v1/callbacks/payouts")
def payouts_callback() -> Response[dict[str, Any]]:
    key = _credentials().merchant_key.get_secret_value()
    callback = verify_json_callback(
        _raw_body(),
        app.current_event.headers.get("x-checksum"),
        merchant_key=key,
        max_bytes=settings.callback_max_body_bytes,
        kind="payouts",
    )
    return _acknowledge(callback)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
