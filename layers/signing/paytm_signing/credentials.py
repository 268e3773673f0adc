"""Merchant credentials: one Secrets Manager secret holding JSON, validated at load time.

A missing field or a key of the wrong length is reported as `MerchantCredentialsError` naming the
field, at cold start, instead of surfacing later as a cryptic AES error mid-payout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from paytm_signing.key_lengths import PREPAID_KEY_LENGTH
from paytm_signing.rotation import RotatingKey

__all__ = [
    "DEFAULT_CREDENTIALS_MAX_AGE_SECONDS",
    "MerchantCredentials",
    "MerchantCredentialsError",
    "load_merchant_credentials",
]

DEFAULT_CREDENTIALS_MAX_AGE_SECONDS = 300
_CHECKSUM_KEY_LENGTHS = (16, 24, 32)


class MerchantCredentialsError(ValueError):
    """The merchant secret is missing, unreadable or invalid; the message names the field."""


def _non_empty(description: str) -> Any:
    return Field(min_length=1, max_length=200, description=description)


class MerchantCredentials(BaseModel):
    """Everything Tijori needs to talk to Paytm as one merchant. Secrets never appear in repr."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    mid: str = _non_empty("Paytm merchant id (the `mid` / `x-mid` header)")
    merchant_key: SecretStr = Field(description="checksum key: 16, 24 or 32 bytes")
    merchant_guid: str = _non_empty("wallet merchant GUID (seed 000 `merchantGuid`)")
    sales_wallet_guid: str = _non_empty("sales sub-wallet GUID payouts are debited from")
    payouts_subwallet_guid: str = _non_empty("Paytm Payouts sub-wallet GUID (seed 001)")
    website_name: str = _non_empty("PG websiteName, e.g. WEBSTAGING")
    client_id: str = _non_empty("auto-debit / OAuth client id")
    client_secret: SecretStr = Field(description="auto-debit / OAuth client secret")
    prepaid_aes_key: SecretStr = Field(description="prepaid-wallet token key: 24 bytes (AES-192)")
    # Key rotation (README "Configuration and secrets"): the key being replaced, accepted on what
    # Paytm sends until Paytm has switched; never used to sign or encrypt.
    previous_merchant_key: SecretStr | None = Field(default=None, description="the checksum key before")
    previous_client_secret: SecretStr | None = Field(default=None, description="the client secret before")
    previous_prepaid_aes_key: SecretStr | None = Field(default=None, description="the prepaid key before")

    @field_validator("merchant_key", "previous_merchant_key")
    @classmethod
    def _checksum_key_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        length = len(value.get_secret_value().encode("utf-8"))
        if length not in _CHECKSUM_KEY_LENGTHS:
            raise ValueError(f"must be 16, 24 or 32 bytes (AES-128/192/256), got {length}")
        return value

    @field_validator("prepaid_aes_key", "previous_prepaid_aes_key")
    @classmethod
    def _prepaid_key_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        length = len(value.get_secret_value().encode("utf-8"))
        if length != PREPAID_KEY_LENGTH:
            raise ValueError(f"must be {PREPAID_KEY_LENGTH} bytes (AES-192), got {length}")
        return value

    @field_validator("client_secret", "previous_client_secret")
    @classmethod
    def _secret_present(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            raise ValueError("must not be empty")
        return value

    @property
    def checksum_key(self) -> RotatingKey:
        """The checksum key in rotation: sign with `.current`, verify with
        `verify_signature_current_or_previous`."""
        return RotatingKey(self.merchant_key.get_secret_value(), _revealed(self.previous_merchant_key))

    @property
    def prepaid_key(self) -> RotatingKey:
        """The prepaid token key in rotation: encrypt with `.current`, decrypt with
        `decrypt_token_current_or_previous`."""
        return RotatingKey(self.prepaid_aes_key.get_secret_value(), _revealed(self.previous_prepaid_aes_key))

    @property
    def client_secret_in_rotation(self) -> RotatingKey:
        """The OAuth client secret: send `.current`; `.accepted` for anything Paytm signs with it."""
        return RotatingKey(self.client_secret.get_secret_value(), _revealed(self.previous_client_secret))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "merchant secret") -> MerchantCredentials:
        """Validate a decoded secret, turning pydantic's report into one line per bad field."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
                for error in exc.errors(include_input=False)
            )
            raise MerchantCredentialsError(f"{source} is invalid: {problems}") from None


def _revealed(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()


def load_merchant_credentials(
    secret_name: str,
    *,
    max_age: int = DEFAULT_CREDENTIALS_MAX_AGE_SECONDS,
    force_fetch: bool = False,
) -> MerchantCredentials:
    """Fetch the merchant secret through Powertools Parameters (cached for `max_age` seconds)."""
    # Imported here so that signing alone (the hot path, and the simulator) needs no AWS SDK.
    from aws_lambda_powertools.utilities import parameters

    if not secret_name:
        raise MerchantCredentialsError("no merchant secret configured (MERCHANT_SECRET_NAME is empty)")
    try:
        raw = parameters.get_secret(secret_name, transform="json", max_age=max_age, force_fetch=force_fetch)
    except parameters.TransformParameterError as exc:
        raise MerchantCredentialsError(f"merchant secret {secret_name!r} is not valid JSON") from exc
    except parameters.GetParameterError as exc:
        raise MerchantCredentialsError(f"merchant secret {secret_name!r} could not be read: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise MerchantCredentialsError(f"merchant secret {secret_name!r} must be a JSON object")
    return MerchantCredentials.from_mapping(raw, source=f"merchant secret {secret_name!r}")
