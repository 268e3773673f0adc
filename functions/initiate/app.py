"""InitiateFunction: the merchant API for payouts (HTTP API, IAM-authorised routes)."""

from __future__ import annotations

import functools
import json
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from tijori.adapters.aws_clients import aws_client, dynamodb_table
from tijori.adapters.payout_queue import SqsPayoutDispatcher
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.clock import utc_now
from tijori.observability import logger, metrics, tracer
from tijori.payouts.intake import PayoutConflictError, submit_payout
from tijori.payouts.models import ORDER_ID_PATTERN, PayoutRequest
from tijori.payouts.responses import GatewayRefusal, PayoutConflictProblem, PayoutView, Problem
from tijori.request_body import (
    MAX_JSON_BODY_BYTES,
    RequestBodyRefusedError,
    json_body_text,
    parse_json_strictly,
)
from tijori.settings import IntakeSettings, load_settings

settings = load_settings(IntakeSettings)
# Every POST validates its body against PayoutRequest: built here, at cold start (the model defers
# its build so that the functions that never take a request do not build it).
PayoutRequest.model_rebuild(force=True)
tracer.patch(["botocore"])  # X-Ray traces the AWS calls; this function makes no others


@functools.cache
def _repository() -> DynamoDbPayoutRepository:
    return DynamoDbPayoutRepository(dynamodb_table(settings.payouts_table_name))


@functools.cache
def _dispatcher() -> SqsPayoutDispatcher:
    return SqsPayoutDispatcher(aws_client("sqs"), settings.payout_queue_url)


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
        title="Tijori payouts API",
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
    app.enable_swagger(path="/v1/swagger", title="Tijori payouts API", version="1.0.0")


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


@app.exception_handler(RequestBodyRefusedError)
def _body_refused(error: RequestBodyRefusedError) -> Response[dict[str, Any]]:
    return Response(
        status_code=error.status, content_type=content_types.APPLICATION_JSON, body=error.problem()
    )


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
    # One entry per problem, naming the field (dotted path inside the body) and the reason.
    detail = [
        {
            "field": ".".join(str(part) for part in problem["loc"][1:]) or str(problem["loc"][0]),
            "loc": list(problem["loc"]),
            "msg": problem.get("msg", "invalid"),
            "type": problem.get("type", "value_error"),
        }
        for problem in error.errors()
    ]
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
        409: _answer("the order_id exists with another body", PayoutConflictProblem),
        413: _answer(
            f"the body is over {MAX_JSON_BODY_BYTES} bytes (over 10 MB, API Gateway answers)", Problem
        ),
        415: _answer("the content-type is not application/json (UTF-8)", Problem),
        422: _INVALID,
        503: _UNAVAILABLE,
    },
)
def create_payout(payout: Annotated[PayoutRequest, Body()]) -> Response[dict[str, Any]]:
    logger.set_correlation_id(payout.order_id)
    result = submit_payout(payout, repository=_repository(), dispatcher=_dispatcher(), now=utc_now())
    if result.created:
        metrics.add_metric(name="PayoutsAccepted", unit=MetricUnit.Count, value=1)
    logger.info("payout submitted", extra={"replay": not result.created, "status": result.payout.status})
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=result.payout.public_view(),
    )


@app.get("/v1/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    _describe_api()
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=app.get_openapi_json_schema(),
    )


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
            event = {**event, "body": json_body_text(event), "isBase64Encoded": False}
        except RequestBodyRefusedError as refused:
            return {
                "statusCode": refused.status.value,
                "headers": {"Content-Type": content_types.APPLICATION_JSON},
                "body": json.dumps(refused.problem()),
                "isBase64Encoded": False,
            }
    return app.resolve(event, context)
