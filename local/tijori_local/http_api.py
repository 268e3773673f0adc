"""The template's HttpApi routes on 127.0.0.1, calling the real handlers with API Gateway HTTP
API payload 2.0 events and mapping their answers back, as API Gateway does."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tijori_local.deploy import ACCOUNT_ID, FunctionSpec

# Bodies of these types reach the handler as text; anything else base64-encoded, as API Gateway
# does for HTTP APIs.
_TEXT_TYPES = ("application/json", "text/", "application/xml", "application/javascript")
_PATH_PARAMETER = re.compile(r"\{([A-Za-z0-9_]+)\+?\}")
# API Gateway's HTTP API payload limit: a larger request never reaches the function, it is answered
# 413 by API Gateway itself. Functions may set lower limits of their own (POST /v1/payouts does).
API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024

# (function logical id, event) -> handler result
Invoker = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str
    function: str
    open_route: bool  # Auth: Authorizer NONE (Paytm callbacks)

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method and self.method != "ANY":
            return None
        found = re.fullmatch(_route_pattern(self.path), path)
        return None if found is None else found.groupdict()


def _route_pattern(path: str) -> str:
    """`/v1/payouts/{order_id}` -> a regex with a named group per path parameter."""
    parts = []
    for segment in path.split("/"):
        parameter = _PATH_PARAMETER.fullmatch(segment)
        if parameter is None:
            parts.append(re.escape(segment))
        elif segment.endswith("+}"):
            parts.append(f"(?P<{parameter.group(1)}>.+)")
        else:
            parts.append(f"(?P<{parameter.group(1)}>[^/]+)")
    return "/".join(parts)


def http_routes(functions: dict[str, FunctionSpec]) -> list[HttpRoute]:
    routes: list[HttpRoute] = []
    for spec in functions.values():
        for event in spec.events.values():
            if event.get("Type") != "HttpApi":
                continue
            properties = event.get("Properties", {})
            authorizer = properties.get("Auth", {}).get("Authorizer")
            routes.append(
                HttpRoute(
                    method=str(properties.get("Method", "ANY")).upper(),
                    path=str(properties["Path"]),
                    function=spec.logical_id,
                    open_route=authorizer == "NONE",
                )
            )
    # Literal paths before parameterised ones, as API Gateway prefers the most specific route.
    routes.sort(key=lambda route: ("{" in route.path, -len(route.path)))
    return routes


def _is_text(content_type: str) -> bool:
    return any(content_type.startswith(prefix) for prefix in _TEXT_TYPES)


class _BodyTooLargeError(Exception):
    pass


async def _body_within_limit(request: Request, limit: int) -> bytes:
    """The body, read no further than `limit` bytes (a Content-Length over it is refused unread)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _BodyTooLargeError
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


async def _event_for(
    request: Request, route: HttpRoute, path_parameters: dict[str, str], raw: bytes
) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        if name == "cookie":
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    # API Gateway adds these (its callers reach it over https on 443); here the scheme is the
    # local server's own.
    headers.setdefault("x-forwarded-proto", request.url.scheme)
    default_port = 443 if request.url.scheme == "https" else 80
    headers.setdefault("x-forwarded-port", str(request.url.port or default_port))
    query: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": _request_path(request),
        "rawQueryString": request.url.query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "tijorilocal",
            "domainName": request.headers.get("host", "127.0.0.1"),
            "domainPrefix": "tijorilocal",
            "http": {
                "method": request.method,
                "path": _request_path(request),
                "protocol": f"HTTP/{request.scope.get('http_version', '1.1')}",
                "sourceIp": request.client.host if request.client else "127.0.0.1",
                "userAgent": request.headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if request.headers.get("cookie"):
        event["cookies"] = [c.strip() for c in request.headers["cookie"].split(";") if c.strip()]
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if not route.open_route:
        event["requestContext"]["authorizer"] = {
            "iam": {
                "accountId": ACCOUNT_ID,
                "callerId": "local",
                "userArn": f"arn:aws:iam::{ACCOUNT_ID}:user/local",
            }
        }
    if raw:
        if _is_text(content_type):
            try:
                event["body"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    return event


def _response_from(result: Any) -> Response:
    """Map a handler's result back as API Gateway does for payload format 2.0."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # A bare result: 200 with the value as JSON.
        return Response(json.dumps(result), status_code=200, media_type="application/json")
    body = result.get("body") or ""
    content = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    response = Response(content, status_code=int(result["statusCode"]))
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.append(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.append("set-cookie", str(cookie))
    return response


def _request_path(request: Request) -> str:
    """The decoded path as the client sent it: `request.url` re-parses it and drops a trailing line
    break (%0A), which API Gateway keeps in the path parameter."""
    return str(request.scope["path"])


def build_http_api(
    routes: list[HttpRoute],
    invoke: Invoker,
    *,
    api_token: str | None,
    on_request: Callable[[int], None] | None = None,
) -> Starlette:
    """`on_request(body bytes)` is told of each request a route serves (what API Gateway bills)."""

    async def dispatch(request: Request) -> Response:
        for route in routes:
            path_parameters = route.match(request.method, _request_path(request))
            if path_parameters is None:
                continue
            # Stands in for the IAM authorizer: merchant routes need the token.
            needs_token = api_token is not None and not route.open_route
            if needs_token and request.headers.get("authorization") != f"Bearer {api_token}":
                return JSONResponse({"message": "Unauthorized"}, status_code=401)
            try:
                raw = await _body_within_limit(request, API_GATEWAY_MAX_BODY_BYTES)
            except _BodyTooLargeError:
                return JSONResponse({"message": "Request Entity Too Large"}, status_code=413)
            if on_request is not None:
                on_request(len(raw))
            event = await _event_for(request, route, path_parameters, raw)
            started = time.monotonic()
            try:
                result = await run_in_threadpool(invoke, route.function, event)
            except Exception:
                return JSONResponse({"message": "Internal Server Error"}, status_code=500)
            response = _response_from(result)
            response.headers["x-tijori-local-ms"] = str(int((time.monotonic() - started) * 1000))
            return response
        return JSONResponse({"message": "Not Found"}, status_code=404)

    async def unmatched(request: Request, _: Exception) -> Response:
        # Starlette's `{path:path}` does not match a path holding a line break (%0A); API Gateway
        # routes it like any other, so it goes to the same dispatch.
        return await dispatch(request)

    return Starlette(
        routes=[
            Route(
                "/{path:path}", dispatch, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
            )
        ],
        exception_handlers={404: unmatched},
    )
