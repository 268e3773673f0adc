"""The prepaid-wallet token envelope (seed 003): round trips, and rejects what it cannot trust."""

from __future__ import annotations

import base64

import pytest

from paytm_signing import InvalidTokenError, TokenFormat, decrypt_token, encrypt_token

KEY = "TijoriPrepaidTestKey#24!"
PAYLOAD = {
    "messageCode": "1080",
    "clientTxnId": "GOUd789hhhjfscs",
    "requestDateTime": "20220302153029",
    "urn": 70000000008,
    "transactionAmount": 1000,
    "sender": "AMAZON ₹ भुगतान",
}
FIXED = TokenFormat(fixed_iv=b"0123456789abcdef", authenticated=False)


@pytest.mark.parametrize("token_format", [TokenFormat(), FIXED, TokenFormat(authenticated=False)])
def test_round_trip_returns_the_payload(token_format: TokenFormat) -> None:
    token = encrypt_token(PAYLOAD, KEY, token_format=token_format)
    assert decrypt_token(token, KEY, token_format=token_format) == PAYLOAD


def test_default_format_uses_a_fresh_iv_per_token() -> None:
    assert encrypt_token(PAYLOAD, KEY) != encrypt_token(PAYLOAD, KEY)


def test_fixed_iv_format_is_deterministic() -> None:
    assert encrypt_token(PAYLOAD, KEY, token_format=FIXED) == encrypt_token(PAYLOAD, KEY, token_format=FIXED)


def _flip(token: str, index: int) -> str:
    raw = bytearray(base64.b64decode(token))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("index", [0, 5, 16, 20, -40, -1], ids=lambda i: f"byte {i}")
def test_tampered_token_is_rejected(index: int) -> None:
    token = encrypt_token(PAYLOAD, KEY)
    with pytest.raises(InvalidTokenError, match="authentication"):
        decrypt_token(_flip(token, index), KEY)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param("", "non-empty", id="empty"),
        pytest.param(None, "non-empty", id="None"),
        pytest.param("***not base64***", "base64", id="not base64"),
        pytest.param(base64.b64encode(b"short").decode(), "too short", id="short"),
    ],
)
def test_unreadable_token_is_rejected_with_reason(token: object, reason: str) -> None:
    with pytest.raises(InvalidTokenError, match=reason):
        decrypt_token(token, KEY)


def test_token_made_with_another_key_is_rejected() -> None:
    token = encrypt_token(PAYLOAD, "AnotherPrepaidKey#24byte")
    with pytest.raises(InvalidTokenError, match="authentication"):
        decrypt_token(token, KEY)


def test_unauthenticated_format_still_rejects_broken_padding_or_json() -> None:
    token = encrypt_token(PAYLOAD, KEY, token_format=FIXED)
    with pytest.raises(InvalidTokenError, match=r"padding|JSON"):
        decrypt_token(_flip(token, -1), KEY, token_format=FIXED)


def test_unauthenticated_format_rejects_ragged_ciphertext() -> None:
    raw = base64.b64decode(encrypt_token(PAYLOAD, KEY, token_format=FIXED))
    with pytest.raises(InvalidTokenError, match="whole number"):
        decrypt_token(base64.b64encode(raw[:-3]).decode(), KEY, token_format=FIXED)


@pytest.mark.parametrize("key", ["k" * 16, "k" * 32, ""])
def test_key_must_be_24_bytes(key: str) -> None:
    with pytest.raises(ValueError, match="24 bytes"):
        encrypt_token(PAYLOAD, key)


def test_format_from_settings_parses_a_hex_iv() -> None:
    token_format = TokenFormat.from_settings("30313233343536373839616263646566", authenticated=False)
    assert token_format == FIXED
    assert TokenFormat.from_settings(None, authenticated=True) == TokenFormat()


def test_fixed_iv_of_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        TokenFormat(fixed_iv=b"short")
