"""Paytm checksum ("signature"), byte-compatible with Paytm's official library.

Format (the one `paytmchecksum` 1.7.0 produces):

    signature = base64(AES-CBC(key, IV="@@@@&&&&####$$$$",
                               PKCS#7(sha256_hex(message + "|" + salt) + salt)))

where `salt` is 4 alphanumeric characters and `message` is either the exact request body or, for
a params mapping, the values joined by "|" in key order. The plaintext is always 68 ASCII bytes,
so a signature is always 80 bytes of ciphertext, 108 characters of base64.

Unlike the official library, verification never raises and never mutates its input: anything
malformed is simply "not a valid signature" (fail closed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
from collections.abc import Mapping
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "MAX_SIGNED_MESSAGE_BYTES",
    "SIGNATURE_FIELD",
    "InvalidMerchantKeyError",
    "canonical_params_string",
    "generate_signature",
    "verify_signature",
]

SIGNATURE_FIELD = "CHECKSUMHASH"
"""The params entry that carries the signature in form posts; never part of what is signed."""

MAX_SIGNED_MESSAGE_BYTES = 1_048_576
"""Verification refuses messages larger than this (callbacks are small; a huge body is hostile)."""

_IV = b"@@@@&&&&####$$$$"
_SALT_ALPHABET = (string.ascii_uppercase + string.digits + string.ascii_lowercase).encode()
_SALT_LENGTH = 4
# Largest multiple of 62 below 256: bytes at or above it are rejected so every salt character is
# equally likely (no modulo bias).
_SALT_BYTE_LIMIT = 256 - 256 % len(_SALT_ALPHABET)
_HASH_HEX_LENGTH = 64
_PLAINTEXT_LENGTH = _HASH_HEX_LENGTH + _SALT_LENGTH  # 68
_PADDING = bytes([16 - _PLAINTEXT_LENGTH % 16]) * (16 - _PLAINTEXT_LENGTH % 16)  # 12 x 0x0c
_CIPHERTEXT_LENGTH = _PLAINTEXT_LENGTH + len(_PADDING)  # 80
_SIGNATURE_LENGTH = 4 * ((_CIPHERTEXT_LENGTH + 2) // 3)  # 108
_AES_KEY_LENGTHS = (16, 24, 32)

Params = Mapping[str, str | None]


class InvalidMerchantKeyError(ValueError):
    """The merchant key is not 16, 24 or 32 bytes (AES-128/192/256)."""


@lru_cache(maxsize=32)
def _cipher_for(key: str | bytes) -> Cipher[modes.CBC]:
    key_bytes = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(key_bytes) not in _AES_KEY_LENGTHS:
        raise InvalidMerchantKeyError(
            f"merchant key must be 16, 24 or 32 bytes (AES-128/192/256), got {len(key_bytes)}"
        )
    return Cipher(algorithms.AES(key_bytes), modes.CBC(_IV))


def canonical_params_string(params: Params) -> str:
    """The string Paytm signs for a params mapping: values in key (code point) order, joined by "|".

    `None` and the text "null" in any case sign as the empty string. `CHECKSUMHASH` is included if
    present: callers that verify leave it out (see `verify_signature`).
    """
    parts: list[str] = []
    for name in sorted(params):
        value = params[name]
        if value is None:
            parts.append("")
        elif isinstance(value, str):
            parts.append("" if value.lower() == "null" else value)
        else:
            raise TypeError(f"param {name!r} must be a string or None, got {type(value).__name__}")
    return "|".join(parts)


def _message_bytes(message: str | bytes | Params, *, drop_signature_field: bool) -> bytes:
    if isinstance(message, str):
        return message.encode("utf-8")
    if isinstance(message, bytes | bytearray | memoryview):
        return bytes(message)
    if isinstance(message, Mapping):
        if drop_signature_field and SIGNATURE_FIELD in message:
            message = {k: v for k, v in message.items() if k != SIGNATURE_FIELD}
        return canonical_params_string(message).encode("utf-8")
    raise TypeError(f"body must be a string, bytes or a params mapping, got {type(message).__name__}")


def _new_salt() -> bytes:
    salt = bytearray()
    while len(salt) < _SALT_LENGTH:
        for byte in secrets.token_bytes(2 * _SALT_LENGTH):
            if byte < _SALT_BYTE_LIMIT:
                salt.append(_SALT_ALPHABET[byte % len(_SALT_ALPHABET)])
                if len(salt) == _SALT_LENGTH:
                    break
    return bytes(salt)


def _signed_plaintext(message: bytes, salt: bytes) -> bytes:
    digest = hashlib.sha256(message + b"|" + salt).hexdigest().encode("ascii")
    return digest + salt + _PADDING


def generate_signature(body: str | bytes | Params, key: str | bytes, *, salt: str | None = None) -> str:
    """Sign a request body (exact string) or a params mapping as Paytm's library does.

    `salt` is for reproducing known vectors only; normally a fresh one comes from `secrets`.
    Raises `InvalidMerchantKeyError` for a key of the wrong length and `TypeError` for a body
    that is neither text nor a mapping of strings.
    """
    cipher = _cipher_for(key)
    if salt is None:
        salt_bytes = _new_salt()
    else:
        salt_bytes = salt.encode("ascii", errors="strict")
        if len(salt_bytes) != _SALT_LENGTH or not salt_bytes.isalnum():
            raise ValueError("salt must be 4 ASCII letters or digits")
    plaintext = _signed_plaintext(_message_bytes(body, drop_signature_field=False), salt_bytes)
    encryptor = cipher.encryptor()
    return base64.b64encode(encryptor.update(plaintext) + encryptor.finalize()).decode("ascii")


def verify_signature(body: object, key: object, signature: object) -> bool:
    """True only if `signature` is Paytm's signature of `body` under `key`.

    Never raises and never mutates `body`: a wrong key, bad base64, a truncated or empty signature,
    bad padding, non-string values or an oversized body all answer False. For a params mapping the
    `CHECKSUMHASH` entry is left out of what is checked. The final comparison is constant-time.
    """
    try:
        if not isinstance(signature, str) or not isinstance(key, str | bytes):
            return False
        if len(signature.strip()) != _SIGNATURE_LENGTH:
            return False
        message = _message_bytes(body, drop_signature_field=True)  # type: ignore[arg-type]
        if len(message) > MAX_SIGNED_MESSAGE_BYTES:
            return False
        ciphertext = base64.b64decode(signature.strip(), validate=True)
        decryptor = _cipher_for(key).decryptor()
        decrypted = decryptor.update(ciphertext) + decryptor.finalize()
        salt = decrypted[_HASH_HEX_LENGTH:_PLAINTEXT_LENGTH]
        return hmac.compare_digest(decrypted, _signed_plaintext(message, salt))
    except (ValueError, TypeError, binascii.Error):
        return False
