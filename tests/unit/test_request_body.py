"""The raw-body prelude of JSON requests: size, media type, UTF-8, then strict JSON."""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Any

import pytest

from tests.payout_bodies import largest_valid_payout_body
from tijori.payouts.models import (
    PayoutRequest,
)
from tijori.request_body import (
    MAX_JSON_BODY_BYTES,
    MAX_JSON_DEPTH,
    RequestBodyRefusedError,
    json_body_text,
    parse_json_strictly,
)


def _event(body: bytes, content_type: str | None = "application/json") -> dict[str, Any]:
    headers = {} if content_type is None else {"content-type": content_type}
    return {"headers": headers, "body": base64.b64encode(body).decode(), "isBase64Encoded": True}


@pytest.mark.parametrize(
    ("event", "status", "problem_type"),
    [
        (_event(b"{}", "text/plain"), HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (_event(b"{}", None), HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (_event(b"{}", "multipart/form-data"), HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (
            _event(b"{}", "application/json; charset=utf-16"),
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (_event(b"\xff"), HTTPStatus.BAD_REQUEST, "body_not_utf8"),
        (_event(b"\xed\xa0\x80"), HTTPStatus.BAD_REQUEST, "body_not_utf8"),  # an encoded surrogate
        (
            {"headers": {"content-type": "application/json"}, "body": '"\ud800"'},
            HTTPStatus.BAD_REQUEST,
            "body_not_utf8",
        ),
        (
            {"headers": {}, "body": "not base64!", "isBase64Encoded": True},
            HTTPStatus.BAD_REQUEST,
            "body_base64_invalid",
        ),
        (_event(b" " * (MAX_JSON_BODY_BYTES + 1)), HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large"),
    ],
)
def test_body_that_cannot_be_json_text_is_refused_with_its_reason(
    event: dict[str, Any], status: HTTPStatus, problem_type: str
) -> None:
    with pytest.raises(RequestBodyRefusedError) as caught:
        json_body_text(event)
    assert caught.value.status == status
    assert [entry["type"] for entry in caught.value.detail] == [problem_type]


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (_event(b'{"a": "\xe2\x82\xb9"}'), '{"a": "₹"}'),
        (_event(b"{}", "Application/JSON; charset=UTF-8"), "{}"),
        ({"headers": {"Content-Type": "application/json"}, "body": "{}"}, "{}"),
        (_event(b" " * MAX_JSON_BODY_BYTES), " " * MAX_JSON_BODY_BYTES),
    ],
)
def test_json_body_text_is_the_decoded_body(event: dict[str, Any], text: str) -> None:
    assert json_body_text(event) == text


@pytest.mark.parametrize(
    ("text", "problem_type", "field"),
    [
        ('{"amount": "1.00", "amount": "9.00"}', "json_duplicate_key", "amount"),
        ('{"payee": {"phone": "9876543210", "phone": "9876543211"}}', "json_duplicate_key", "phone"),
        ("[" * 100_000, "json_too_deep", "body"),
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "json_too_deep", "body"),
        ('{"a": NaN}', "json_invalid", "body"),
        ('{"a": -Infinity}', "json_invalid", "body"),
        ('{"a": ' + "9" * 5000 + "}", "json_invalid", "body"),
        ("{not json", "json_invalid", "body"),
        ("", "json_invalid", "body"),
    ],
)
def test_json_that_python_would_accept_loosely_is_400_naming_the_problem(
    text: str, problem_type: str, field: str
) -> None:
    with pytest.raises(RequestBodyRefusedError) as caught:
        parse_json_strictly(text)
    assert caught.value.status == HTTPStatus.BAD_REQUEST
    [entry] = caught.value.detail
    assert (entry["type"], entry["field"]) == (problem_type, field)


@pytest.mark.parametrize(
    "text",
    [
        "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH,
        '{"brackets in strings do not nest": "' + "[{" * 100 + '", "escaped quote \\" [": 1}',
        '{"a": {"b": 1}, "c": {"b": 2}}',  # the same key in two objects is not a duplicate
    ],
)
def test_json_within_the_limits_parses(text: str) -> None:
    assert parse_json_strictly(text) == json.loads(text)


def test_largest_valid_payout_request_fits_the_body_limit_even_fully_escaped() -> None:
    body = largest_valid_payout_body()  # its wide characters: 12 bytes each once escaped
    PayoutRequest.model_validate(body)
    encoded = json.dumps(body, indent=2).encode()
    assert len(encoded) < 96 * 1024 < MAX_JSON_BODY_BYTES
