"""The raw body of a merchant's JSON request, checked before any model sees it.

Read once, in this order: size (413), media type (415), UTF-8 (400), then JSON with duplicate
keys, non-standard constants and nesting beyond DynamoDB's 32 levels refused (400). Each refusal
names the problem in the same shape as a validation error's `detail` entries, so a merchant reads
every 4xx alike. Pure functions over an API Gateway HTTP API (payload 2.0) event: no AWS here.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

# API Gateway refuses bodies over 10 MB itself; Tijori's own limit is far below it because every
# valid payout request fits in a few KB (the largest, every field at its limit and every character
# written as a JSON \u escape of a surrogate pair, is under 96 KB; a unit test proves it).
MAX_JSON_BODY_BYTES = 128 * 1024
# DynamoDB stores at most 32 levels of nested maps and lists; a payout request needs 3.
MAX_JSON_DEPTH = 32
JSON_MEDIA_TYPE = "application/json"

# A JSON string (escapes included) or a bracket outside strings: enough to measure nesting without
# recursing, in one linear pass.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class RequestBodyRefusedError(Exception):
    """A body refused before validation; `detail` entries look like the 422's."""

    def __init__(
        self, status: HTTPStatus, message: str, *, problem_type: str, msg: str, key: str = ""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        loc = ["body", key] if key else ["body"]
        self.detail = [{"field": key or "body", "loc": loc, "msg": msg, "type": problem_type}]

    def problem(self) -> dict[str, Any]:
        return {"statusCode": self.status.value, "message": self.message, "detail": self.detail}


def _malformed(msg: str, problem_type: str, key: str = "") -> RequestBodyRefusedError:
    return RequestBodyRefusedError(
        HTTPStatus.BAD_REQUEST, "request body is malformed", problem_type=problem_type, msg=msg, key=key
    )


def _media_type(headers: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    content_type = next((value for name, value in headers.items() if name.lower() == "content-type"), "")
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    parsed = {}
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"').lower()
    return media_type.lower(), parsed


def json_body_text(event: Mapping[str, Any], *, max_bytes: int = MAX_JSON_BODY_BYTES) -> str:
    """The body of `event` as text, or RequestBodyRefusedError saying why it cannot be JSON."""
    _, text = text_body(event, max_bytes=max_bytes, media_types=(JSON_MEDIA_TYPE,))
    return text


def text_body(event: Mapping[str, Any], *, max_bytes: int, media_types: tuple[str, ...]) -> tuple[str, str]:
    """The body of `event` as (media type, text) when its media type is one of `media_types`
    (UTF-8), or RequestBodyRefusedError saying why not."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise _malformed("the body is marked base64 but is not base64", "body_base64_invalid") from error
    else:
        # surrogatepass: a body string carrying lone surrogates is measured here and refused as
        # not UTF-8 below, rather than failing to encode.
        raw = str(body).encode("utf-8", "surrogatepass")
    if len(raw) > max_bytes:
        raise RequestBodyRefusedError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "request body is too large",
            problem_type="body_too_large",
            msg=f"the body is {len(raw)} bytes; at most {max_bytes} are accepted",
        )
    media_type, parameters = _media_type(event.get("headers") or {})
    if media_type not in media_types or parameters.get("charset", "utf-8") != "utf-8":
        accepted = " or ".join(media_types)
        raise RequestBodyRefusedError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported media type",
            problem_type="unsupported_media_type",
            msg=f"content-type must be {accepted} (UTF-8), not {media_type or 'missing'!r}",
        )
    try:
        return media_type, raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _malformed(
            f"the body is not UTF-8 (invalid byte at offset {error.start})", "body_not_utf8"
        ) from error


def _json_depth(text: str) -> int:
    depth = deepest = 0
    for token in _STRING_OR_BRACKET.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    break
        elif bracket in "]}":
            depth -= 1
    return deepest


def _object_refusing_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, value in pairs:
        if key in parsed:
            raise _malformed(
                f"the key {key!r} appears more than once in one object", "json_duplicate_key", key
            )
        parsed[key] = value
    return parsed


def _refuse_constant(name: str) -> Any:
    raise _malformed(f"{name} is not JSON", "json_invalid")


def parse_json_strictly(text: str) -> Any:
    """JSON as RFC 8259 says and DynamoDB can store it; RequestBodyRefusedError otherwise.

    Python's json module would let the last of two equal keys win, accept NaN and Infinity, and
    overflow the stack on deep nesting; each is a 400 here.
    """
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise _malformed(f"the body nests deeper than {MAX_JSON_DEPTH} levels", "json_too_deep")
    try:
        return json.loads(
            text, object_pairs_hook=_object_refusing_duplicate_keys, parse_constant=_refuse_constant
        )
    except json.JSONDecodeError as error:
        raise _malformed(
            f"{error.msg} at line {error.lineno} column {error.colno}", "json_invalid"
        ) from error
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise _malformed(str(error), "json_invalid") from error
