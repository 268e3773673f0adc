"""verify_signature answers False, never raises, for anything malformed."""

from __future__ import annotations

import base64

import pytest

from paytm_signing import (
    MAX_SIGNED_MESSAGE_BYTES,
    InvalidMerchantKeyError,
    generate_signature,
    verify_signature,
)

KEY = "p618HE2Oz3$WjT1L"
BODY = '{"request":{"merchantOrderId":"ORD-1","amount":"10.00"}}'
GOOD = generate_signature(BODY, KEY)


@pytest.mark.parametrize(
    ("body", "key", "signature"),
    [
        pytest.param(BODY, "&RgqGq&NjVHf0A7g", GOOD, id="wrong key of the same length"),
        pytest.param(BODY, "short", GOOD, id="key of invalid length"),
        pytest.param(BODY, None, GOOD, id="key is None"),
        pytest.param(BODY, KEY, "", id="empty signature"),
        pytest.param(BODY, KEY, None, id="signature is None"),
        pytest.param(BODY, KEY, 12345, id="signature is a number"),
        pytest.param(BODY, KEY, GOOD[:-4], id="truncated signature"),
        pytest.param(BODY, KEY, GOOD + "AAAA", id="signature with extra block"),
        pytest.param(BODY, KEY, "!" * 108, id="non-base64 of the right length"),
        pytest.param(BODY, KEY, base64.b64encode(b"\x00" * 80).decode(), id="garbage ciphertext"),
        pytest.param(BODY + " ", KEY, GOOD, id="body changed by one space"),
        pytest.param({"A": 1}, KEY, GOOD, id="params with a non-string value"),
        pytest.param(["not", "a", "body"], KEY, GOOD, id="body of the wrong type"),
        pytest.param("\ud800", KEY, GOOD, id="body that is not encodable as UTF-8"),
        pytest.param("x" * (MAX_SIGNED_MESSAGE_BYTES + 1), KEY, GOOD, id="oversized body"),
    ],
)
def test_verify_rejects_without_raising(body: object, key: object, signature: object) -> None:
    assert verify_signature(body, key, signature) is False


def test_oversized_body_is_rejected_even_with_its_own_valid_signature() -> None:
    body = "x" * (MAX_SIGNED_MESSAGE_BYTES + 1)
    assert verify_signature(body, KEY, generate_signature(body, KEY)) is False


def test_bytes_body_verifies_like_its_text() -> None:
    assert verify_signature(BODY.encode("utf-8"), KEY, GOOD) is True


def test_two_signatures_of_one_body_differ_by_salt_and_both_verify() -> None:
    first, second = generate_signature(BODY, KEY), generate_signature(BODY, KEY)
    assert first != second
    assert verify_signature(BODY, KEY, first)
    assert verify_signature(BODY, KEY, second)


@pytest.mark.parametrize("key", ["", "k" * 15, "k" * 17, "k" * 33])
def test_generate_rejects_key_of_invalid_length_with_clear_error(key: str) -> None:
    with pytest.raises(InvalidMerchantKeyError, match="16, 24 or 32 bytes"):
        generate_signature(BODY, key)


def test_generate_rejects_non_string_param_values() -> None:
    with pytest.raises(TypeError, match="param 'AMOUNT'"):
        generate_signature({"AMOUNT": 10}, KEY)  # type: ignore[dict-item]


@pytest.mark.parametrize("salt", ["abc", "abcde", "ab-d", "ab d"])
def test_generate_rejects_malformed_salt(salt: str) -> None:
    with pytest.raises(ValueError, match="salt"):
        generate_signature(BODY, KEY, salt=salt)


def test_salt_comes_from_secrets_not_random(monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    random.seed(7)
    first = generate_signature(BODY, KEY)
    random.seed(7)
    assert generate_signature(BODY, KEY) != first
