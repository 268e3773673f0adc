"""SigningLayer: Paytm checksums, the prepaid-wallet token envelope, merchant credentials."""

from paytm_signing.checksum import (
    MAX_SIGNED_MESSAGE_BYTES,
    SIGNATURE_FIELD,
    InvalidMerchantKeyError,
    canonical_params_string,
    generate_signature,
    verify_signature,
)
from paytm_signing.credentials import (
    MerchantCredentials,
    MerchantCredentialsError,
    load_merchant_credentials,
)
from paytm_signing.envelope import (
    DEFAULT_TOKEN_FORMAT,
    InvalidTokenError,
    TokenFormat,
    decrypt_token,
    encrypt_token,
)
from paytm_signing.rotation import (
    RotatingKey,
    decrypt_token_current_or_previous,
    verify_signature_current_or_previous,
)

__all__ = [
    "DEFAULT_TOKEN_FORMAT",
    "MAX_SIGNED_MESSAGE_BYTES",
    "SIGNATURE_FIELD",
    "InvalidMerchantKeyError",
    "InvalidTokenError",
    "MerchantCredentials",
    "MerchantCredentialsError",
    "RotatingKey",
    "TokenFormat",
    "canonical_params_string",
    "decrypt_token",
    "decrypt_token_current_or_previous",
    "encrypt_token",
    "generate_signature",
    "load_merchant_credentials",
    "verify_signature",
    "verify_signature_current_or_previous",
]
