"""POST /v1/payouts body rules, as a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from tests.payout_bodies import largest_valid_payout_body
from tijori.adapters.payout_table import payout_to_item
from tijori.payouts.models import (
    FINGERPRINT_V1_FIELDS,
    Payout,
    PayoutMode,
    PayoutRequest,
)

VALID: dict[str, Any] = {"order_id": "ORD-1_a@b", "amount": "10.50", "payee": {"phone": "9876543210"}}


def test_minimal_request_gets_defaults() -> None:
    request = PayoutRequest.model_validate(VALID)
    assert request.amount == Decimal("10.50")
    assert request.currency == "INR"
    assert request.mode is PayoutMode.EXISTING_USER


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"order_id": ""}, "order_id", "pattern"),
        ({"order_id": "x" * 51}, "order_id", "pattern"),
        ({"order_id": "ORD 1"}, "order_id", "pattern"),
        ({"amount": "0.99"}, "amount", "at least 1.00"),
        ({"amount": "10.505"}, "amount", "2 decimal places"),
        ({"amount": 10.5}, "amount", "decimal string"),
        ({"amount": "-5"}, "amount", "decimal string"),
        ({"amount": "1e3"}, "amount", "decimal string"),
        ({"currency": "USD"}, "currency", "INR"),
        ({"payee": {}}, "payee", "exactly one"),
        ({"payee": {"phone": "9876543210", "email": "a@b.in"}}, "payee", "exactly one"),
        ({"payee": {"phone": "98765"}}, "payee.phone", "pattern"),
        ({"payee": {"phone": "0987654321"}}, "payee.phone", "pattern"),
        ({"payee": {"phone": "5987654321"}}, "payee.phone", "pattern"),
        ({"payee": {"phone": "+919876543210"}}, "payee.phone", "pattern"),
        ({"payee": {"email": "a\x00b@example.in"}}, "payee.email", "U+0000 at position 1"),
        ({"payee": {"email": "\u202eni.elpmaxe@a"}}, "payee.email", "U+202E"),
        ({"payee": {"sso_id": "abc\x7f"}}, "payee.sso_id", "pattern"),
        ({"amount": "01.00"}, "amount", "must not start with a zero"),
        ({"amount": 100}, "amount", "decimal string"),
        ({"amount": True}, "amount", "decimal string"),
        ({"pending_days_limit": True}, "pending_days_limit", "not a boolean or a string"),
        ({"pending_days_limit": False}, "pending_days_limit", "not a boolean or a string"),
        ({"pending_days_limit": "3"}, "pending_days_limit", "not a boolean or a string"),
        ({"pending_days_limit": 2.5}, "pending_days_limit", "fractional part"),
        ({"narration": "x" * 101}, "narration", "at most 100"),
        ({"metadata": {"": "x"}}, "metadata..[key]", "at least 1 character"),
        ({"metadata": {"k": {"nested": "map"}}}, "metadata.k", "valid string"),
        ({"metadata": {"k": ["a", "list"]}}, "metadata.k", "valid string"),
        ({"metadata": {f"k{i}": "v" for i in range(21)}}, "metadata", "at most 20"),
        ({"metadata": {"k" * 65: "v"}}, "metadata." + "k" * 65 + ".[key]", "at most 64"),
        ({"metadata": {"k": "v" * 257}}, "metadata.k", "at most 256"),
        ({"payee": {"email": "not-an-email"}}, "payee.email", "pattern"),
        ({"payee": {"upi": "x@y"}}, "payee.upi", "Extra inputs"),
        ({"mode": "everyone"}, "mode", "verified_user"),
        ({"pending_days_limit": 6}, "pending_days_limit", "less than or equal to 5"),
        ({"pending_days_limit": -1}, "pending_days_limit", "greater than or equal to 0"),
        ({"surprise": 1}, "surprise", "Extra inputs"),
    ],
)
def test_invalid_request_names_field_and_reason(change: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PayoutRequest.model_validate({**VALID, **change})
    errors = {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}
    assert field in errors, errors
    assert reason in errors[field]


def test_fingerprint_ignores_spelling_out_defaults() -> None:
    explicit = PayoutRequest.model_validate({**VALID, "currency": "INR", "mode": "existing_user"})
    assert explicit.fingerprint() == PayoutRequest.model_validate(VALID).fingerprint()


def test_fingerprint_sees_amount_written_differently_as_the_same_amount() -> None:
    assert (
        PayoutRequest.model_validate({**VALID, "amount": "10.5"}).fingerprint()
        == PayoutRequest.model_validate(VALID).fingerprint()
    )


def test_fingerprint_changes_with_the_amount() -> None:
    assert (
        PayoutRequest.model_validate({**VALID, "amount": "10.51"}).fingerprint()
        != PayoutRequest.model_validate(VALID).fingerprint()
    )


@pytest.mark.parametrize("phone", ["6000000000", "7777777777", "8000000000", "9999999999"])
def test_indian_mobile_numbers_starting_6_to_9_are_accepted(phone: str) -> None:
    assert PayoutRequest.model_validate({**VALID, "payee": {"phone": phone}}).payee.phone == phone


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(character, id=f"U+{ord(character):04X}")
        for character in [
            *(chr(code) for code in range(0x00, 0x20)),  # C0, NUL and ESC included
            "\x7f",  # DEL
            *(chr(code) for code in range(0x80, 0xA0)),  # C1
            *(chr(code) for code in range(0x202A, 0x202F)),  # embeddings and overrides
            *(chr(code) for code in range(0x2066, 0x206A)),  # isolates
            "\u200e",
            "\u200f",
            "\u061c",
        ]
    ],
)
@pytest.mark.parametrize("where", ["narration", "metadata key", "metadata value", "payee.email"])
def test_text_fields_refuse_control_and_bidirectional_characters(text: str, where: str) -> None:
    changes: dict[str, dict[str, Any]] = {
        "narration": {"narration": f"paid{text}"},
        "metadata key": {"metadata": {f"key{text}": "v"}},
        "metadata value": {"metadata": {"key": f"v{text}"}},
        "payee.email": {"payee": {"email": f"a{text}@example.in"}},
    }
    with pytest.raises(ValidationError) as caught:
        PayoutRequest.model_validate({**VALID, **changes[where]})
    [error] = caught.value.errors()
    assert f"U+{ord(text):04X}" in error["msg"]
    assert error["loc"][0] == where.split()[0].split(".")[0]


def test_pending_days_limit_written_as_a_whole_number_with_a_fraction_is_that_number() -> None:
    # JSON Schema's "integer" includes 2.0, so the document promises it is accepted.
    assert PayoutRequest.model_validate({**VALID, "pending_days_limit": 2.0}).pending_days_limit == 2


def test_text_fields_keep_ordinary_unicode() -> None:
    request = PayoutRequest.model_validate(
        {**VALID, "narration": "कैशबैक ₹10 — धन्यवाद 🙏", "metadata": {"शहर": "मुंबई", "note": "tab-free"}}
    )
    assert request.narration == "कैशबैक ₹10 — धन्यवाद 🙏"


# Fingerprints computed by the code before FINGERPRINT_V1_FIELDS existed (commit a3b2f21), for the
# bodies below; a stored payout's request_fingerprint is one of these, so they must never change.
STORED_FINGERPRINTS = [
    (
        {"order_id": "ORD-FP-1", "amount": "10.50", "payee": {"phone": "9876543210"}},
        "30c6f83cc414c01a47018a5fba271c2628dc06f2dccff3f04af7caba70d92c58",
    ),
    (
        {
            "order_id": "ORD-FP-2",
            "amount": "125.5",
            "currency": "INR",
            "payee": {"email": "asha@example.in"},
            "mode": "verified_user",
            "pending_days_limit": 3,
            "narration": "Cashback for order 1001",
            "metadata": {"campaign": "diwali", "batch": "7"},
        },
        "97ad1a7aa5318ff787347eea44bda87127411a54e98c14fa03274b2a42fb8bf2",
    ),
    (
        {
            "order_id": "ORD-FP-3",
            "amount": "1",
            "payee": {"sso_id": "1107195733"},
            "mode": "any_user",
            "pending_days_limit": 0,
        },
        "b86d849002504a829be0a2b5037731755238bae949aa983fec284999e7cc7a63",
    ),
]


@pytest.mark.parametrize(("body", "stored"), STORED_FINGERPRINTS)
def test_fingerprint_matches_the_one_stored_by_earlier_code(body: dict[str, Any], stored: str) -> None:
    assert PayoutRequest.model_validate(body).fingerprint() == stored


def test_fields_added_after_v1_have_defaults_and_stay_out_of_the_v1_set() -> None:
    # A new field must not be added to FINGERPRINT_V1_FIELDS: that would change every stored
    # fingerprint. It joins the fingerprint through its default instead (issue 12 added `rail` and
    # `payee_validation_id`; the stored fingerprints above still match).
    fields = PayoutRequest.model_fields
    assert set(fields) >= FINGERPRINT_V1_FIELDS
    assert set(fields) - FINGERPRINT_V1_FIELDS == {"rail", "payee_validation_id"}
    assert all(not fields[name].is_required() for name in set(fields) - FINGERPRINT_V1_FIELDS)


class _PayoutRequestWithRail(PayoutRequest):
    """What a later issue does to the model: a new field, with a default."""

    rail: str = "wallet"  # type: ignore[assignment]  # issue 12 made it Literal["wallet"]


@pytest.mark.parametrize(("body", "stored"), STORED_FINGERPRINTS)
def test_field_added_later_leaves_the_fingerprint_alone_at_its_default(
    body: dict[str, Any], stored: str
) -> None:
    assert _PayoutRequestWithRail.model_validate(body).fingerprint() == stored
    assert _PayoutRequestWithRail.model_validate({**body, "rail": "wallet"}).fingerprint() == stored


@pytest.mark.parametrize(("body", "stored"), STORED_FINGERPRINTS)
def test_field_added_later_joins_the_fingerprint_when_set(body: dict[str, Any], stored: str) -> None:
    assert _PayoutRequestWithRail.model_validate({**body, "rail": "upi"}).fingerprint() != stored


# DynamoDB's limit is 400 KB per item, counting attribute names and values (strings as UTF-8).
DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024


def _dynamodb_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, dict):
        # 3 bytes per map plus 1 per element, then each name and value.
        return 3 + sum(1 + _dynamodb_size(name) + _dynamodb_size(inner) for name, inner in value.items())
    if isinstance(value, list):
        return 3 + sum(1 + _dynamodb_size(inner) for inner in value)
    if value is None or isinstance(value, bool):
        return 1
    return 21  # a number: at most 21 bytes


def test_largest_valid_request_is_stored_in_under_a_tenth_of_dynamodbs_item_limit() -> None:
    # Every text field at its length limit in characters, every character 4 bytes in UTF-8.
    request = PayoutRequest.model_validate(largest_valid_payout_body())
    item = payout_to_item(Payout.accept(request, now=datetime(2026, 1, 1, tzinfo=UTC)))
    size = sum(_dynamodb_size(name) + _dynamodb_size(value) for name, value in item.items())
    # The bound, from the limits: metadata 20 x (64 + 256) x 4 B = 25,600 B; narration 400 B;
    # email 1,004 B; the rest (names, ids, times, one transition) under 400 B: 27,386 B in all.
    assert 27_000 < size < 29_000
    # What grows after intake (transitions, Paytm's id and message) has over 370 KB left.
    assert size < DYNAMODB_ITEM_LIMIT_BYTES // 10
