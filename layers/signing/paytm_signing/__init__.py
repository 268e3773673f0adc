"""SigningLayer: Paytm checksums, the prepaid-wallet token envelope, merchant credentials.

The token envelope (and the HKDF, HMAC and padding it needs) is loaded on first use of one of its
names: the functions sign, verify and load credentials, and never build or read a prepaid token.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from paytm_signing.checksum import (
    MAX_SIGNED_MESSAGE_BYTES,
    SIGNATURE_FIELD,
    InvalidMerchantKeyError,
    canonical_params_string,
    generate_signature,
    verify_signature,
)
from paytm_signing.credentials import (
    PREPAID_ENVELOPES,
    PRODUCTS,
    AutoDebitCredentials,
    MerchantCredentials,
    MerchantCredentialsError,
    PayoutsCredentials,
    PgCredentials,
    PrepaidCredentials,
    WalletCredentials,
    load_merchant_credentials,
)
from paytm_signing.rotation import RotatingKey, verify_signature_current_or_previous

if TYPE_CHECKING:
    from paytm_signing.envelope import (
        DEFAULT_TOKEN_FORMAT,
        InvalidTokenError,
        TokenFormat,
        decrypt_token,
        decrypt_token_current_or_previous,
        encrypt_token,
    )

_ENVELOPE_NAMES = frozenset(
    {
        "DEFAULT_TOKEN_FORMAT",
        "InvalidTokenError",
        "TokenFormat",
        "decrypt_token",
        "decrypt_token_current_or_previous",
        "encrypt_token",
    }
)


def __getattr__(name: str) -> Any:
    if name in _ENVELOPE_NAMES:
        return getattr(importlib.import_module("paytm_signing.envelope"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_TOKEN_FORMAT",
    "MAX_SIGNED_MESSAGE_BYTES",
    "PREPAID_ENVELOPES",
    "PRODUCTS",
    "SIGNATURE_FIELD",
    "AutoDebitCredentials",
    "InvalidMerchantKeyError",
    "InvalidTokenError",
    "MerchantCredentials",
    "MerchantCredentialsError",
    "PayoutsCredentials",
    "PgCredentials",
    "PrepaidCredentials",
    "RotatingKey",
    "TokenFormat",
    "WalletCredentials",
    "canonical_params_string",
    "decrypt_token",
    "decrypt_token_current_or_previous",
    "encrypt_token",
    "generate_signature",
    "load_merchant_credentials",
    "verify_signature",
    "verify_signature_current_or_previous",
]
