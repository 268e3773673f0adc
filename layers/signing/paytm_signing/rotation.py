"""Key rotation without downtime: accept the current key, then the previous one; sign with current.

Paytm switches a merchant's key at a moment Tijori does not control, and every function holds the
merchant secret for up to 300 s (the credentials cache). While both keys are in flight, callbacks,
signed answers and prepaid tokens may come under either, so each product's section of the merchant
secret may carry the old key beside the new one (`pg.previous_merchant_key`,
`wallet.previous_aes_key`, `prepaid.previous_aes_key`, ...). Everything Tijori
sends is signed or encrypted with the current key only. (Decrypting a prepaid token under either
key is the envelope's `decrypt_token_current_or_previous`.)
"""

from __future__ import annotations

from dataclasses import dataclass

from paytm_signing.checksum import verify_signature

__all__ = ["RotatingKey", "verify_signature_current_or_previous"]


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
