"""Key rotation without downtime: accept the current key, then the previous one; sign with current.

Paytm switches a merchant's key at a moment Tijori does not control, and every function holds the
merchant secret for up to 300 s (the credentials cache). While both keys are in flight, callbacks,
signed answers and prepaid tokens may come under either, so the merchant secret may carry the old
key beside the new one (`previous_merchant_key`, `previous_prepaid_aes_key`). Everything Tijori
sends is signed or encrypted with the current key only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paytm_signing.checksum import verify_signature
from paytm_signing.envelope import DEFAULT_TOKEN_FORMAT, InvalidTokenError, TokenFormat, decrypt_token

__all__ = ["RotatingKey", "decrypt_token_current_or_previous", "verify_signature_current_or_previous"]


@dataclass(frozen=True)
class RotatingKey:
    """One key in rotation: the one in use and, while Paytm switches over, the one before it."""

    current: str
    previous: str | None = None

    def __repr__(self) -> str:  # keys never appear in logs or tracebacks
        return f"RotatingKey(current=***, previous={'***' if self.previous is not None else None})"

    @property
    def accepted(self) -> tuple[str, ...]:
        """The keys accepted on what Paytm sends, current first."""
        return (self.current,) if self.previous is None else (self.current, self.previous)


def verify_signature_current_or_previous(body: object, key: RotatingKey, signature: object) -> bool:
    """`verify_signature` with the current key, then with the previous one if there is one.

    Never raises, like `verify_signature`; each try is constant-time in itself."""
    return any(verify_signature(body, candidate, signature) for candidate in key.accepted)


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
