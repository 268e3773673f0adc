"""The AES-192-CBC `token` envelope of Paytm's prepaid-wallet `creditAccount` API (seed 003).

The seed fixes the cipher (AES-192-CBC, so a 24-byte key) and that request and response bodies
travel as `{"token": "<base64>"}`, but not the IV or any integrity check. Tijori's default
convention, `TokenFormat()`:

    token = base64( iv[16] || AES-192-CBC(key, iv, PKCS#7(json)) || HMAC-SHA256(mac_key, iv || ct)[32] )

* a fresh random IV per token, carried in front of the ciphertext (a fixed IV would make equal
  payload prefixes visible as equal ciphertext prefixes);
* encrypt-then-MAC with a key derived from the AES key by HKDF-SHA256, because bare CBC is
  malleable: flipping IV bits silently rewrites the first block (an amount, say). A token that is
  tampered with, truncated or made with another key is rejected before decryption.

For a provider that fixes the IV and sends bare CBC, use
`TokenFormat(fixed_iv=b"...16 bytes...", authenticated=False)`; tampering can then only be caught
by the padding and JSON checks, which is best effort.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from hashlib import sha256
from typing import Any

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from paytm_signing.key_lengths import PREPAID_KEY_LENGTH
from paytm_signing.rotation import RotatingKey

__all__ = [
    "DEFAULT_TOKEN_FORMAT",
    "PREPAID_KEY_LENGTH",
    "InvalidTokenError",
    "TokenFormat",
    "decrypt_token",
    "decrypt_token_current_or_previous",
    "encrypt_token",
]

_BLOCK = 16
_TAG_LENGTH = 32
_MAC_KEY_INFO = b"tijori/paytm-prepaid-token/hmac-sha256"


class InvalidTokenError(ValueError):
    """A token that cannot be trusted or read: the message says which check failed."""


@dataclass(frozen=True)
class TokenFormat:
    """How a token is laid out; see the module docstring for the default."""

    fixed_iv: bytes | None = None
    authenticated: bool = True

    def __post_init__(self) -> None:
        if self.fixed_iv is not None and len(self.fixed_iv) != _BLOCK:
            raise ValueError(f"fixed_iv must be {_BLOCK} bytes, got {len(self.fixed_iv)}")

    @classmethod
    def from_settings(cls, fixed_iv_hex: str | None, authenticated: bool) -> TokenFormat:
        """Build from configuration text (the IV as 32 hex digits, or empty for a random IV)."""
        fixed_iv = bytes.fromhex(fixed_iv_hex) if fixed_iv_hex else None
        return cls(fixed_iv=fixed_iv, authenticated=authenticated)


DEFAULT_TOKEN_FORMAT = TokenFormat()


def _key_bytes(key: str | bytes) -> bytes:
    key_bytes = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(key_bytes) != PREPAID_KEY_LENGTH:
        raise ValueError(
            f"prepaid AES key must be {PREPAID_KEY_LENGTH} bytes (AES-192), got {len(key_bytes)}"
        )
    return key_bytes


@lru_cache(maxsize=16)
def _mac_key(key_bytes: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_MAC_KEY_INFO).derive(key_bytes)


def _tag(key_bytes: bytes, signed: bytes) -> bytes:
    return hmac.new(_mac_key(key_bytes), signed, sha256).digest()


def encrypt_token(
    payload: Mapping[str, Any], key: str | bytes, *, token_format: TokenFormat = DEFAULT_TOKEN_FORMAT
) -> str:
    """Encrypt a JSON object into a token. Raises ValueError for a key that is not 24 bytes."""
    key_bytes = _key_bytes(key)
    plaintext = json.dumps(dict(payload), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    iv = token_format.fixed_iv if token_format.fixed_iv is not None else os.urandom(_BLOCK)
    encryptor = Cipher(algorithms.AES(key_bytes), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    framed = ciphertext if token_format.fixed_iv is not None else iv + ciphertext
    if token_format.authenticated:
        framed += _tag(key_bytes, framed)
    return base64.b64encode(framed).decode("ascii")


def decrypt_token(
    token: object, key: str | bytes, *, token_format: TokenFormat = DEFAULT_TOKEN_FORMAT
) -> dict[str, Any]:
    """Decrypt a token into its JSON object, or raise InvalidTokenError saying what is wrong."""
    key_bytes = _key_bytes(key)
    if not isinstance(token, str) or not token:
        raise InvalidTokenError("token must be a non-empty base64 string")
    try:
        framed = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidTokenError("token is not valid base64") from exc

    iv_length = 0 if token_format.fixed_iv is not None else _BLOCK
    tag_length = _TAG_LENGTH if token_format.authenticated else 0
    if len(framed) < iv_length + _BLOCK + tag_length:
        raise InvalidTokenError(f"token is too short ({len(framed)} bytes)")
    if token_format.authenticated:
        signed, tag = framed[:-tag_length], framed[-tag_length:]
        if not hmac.compare_digest(tag, _tag(key_bytes, signed)):
            raise InvalidTokenError("token failed authentication (tampered, or another key)")
        framed = signed
    iv = token_format.fixed_iv if token_format.fixed_iv is not None else framed[:_BLOCK]
    ciphertext = framed[iv_length:]
    if len(ciphertext) % _BLOCK:
        raise InvalidTokenError("token ciphertext is not a whole number of AES blocks")

    decryptor = Cipher(algorithms.AES(key_bytes), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    try:
        unpadder = padding.PKCS7(128).unpadder()
        plaintext = unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise InvalidTokenError("token padding is invalid (tampered, or another key)") from exc
    try:
        payload = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidTokenError("token does not decrypt to JSON (tampered, or another key)") from exc
    if not isinstance(payload, dict):
        raise InvalidTokenError("token does not decrypt to a JSON object")
    return payload


def decrypt_token_current_or_previous(
    token: object, key: RotatingKey, *, token_format: TokenFormat = DEFAULT_TOKEN_FORMAT
) -> dict[str, Any]:
    """`decrypt_token` with the current key, then with the previous one if there is one.

    If neither works, the current key's `InvalidTokenError` is raised (the previous key is on its
    way out). With an unauthenticated `TokenFormat` a wrong key is only caught by the padding and
    JSON checks, so that format gains the same best-effort protection and no more.
    """
    try:
        return decrypt_token(token, key.current, token_format=token_format)
    except InvalidTokenError as current_error:
        if key.previous is None:
            raise
        try:
            return decrypt_token(token, key.previous, token_format=token_format)
        except InvalidTokenError:
            raise current_error from None
