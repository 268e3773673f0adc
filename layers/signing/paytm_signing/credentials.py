"""Merchant credentials: one Secrets Manager secret holding JSON, validated at load time.

Paytm issues each product its own keys: the wallet team's "AesKey" signs the wallet APIs (seed
000), Paytm Payouts has its own checksum key (seed 001), the PG "Merchant Key" signs PG and
auto-debit payment calls (seeds 002 and 004), auto-debit's OAuth uses a client id and secret (seed
002) and prepaid loads an AES-192 key (seed 003). So the secret holds one section per product:

    {"mid": "...",
     "wallet": {"aes_key", "merchant_guid", "sales_wallet_guid"},
     "payouts": {"merchant_key", "subwallet_guid"},
     "pg": {"merchant_key", "website_name"},
     "auto_debit": {"client_id", "client_secret", "scope"?, "response_type"?,
                    "industry_type"?, "channel"?},
     "prepaid": {"aes_key", "iv", "headers"}}

Every section is optional: a stack holds only the products it uses, and code that needs a product
asks for it (`credentials.pg`), which raises `MerchantCredentialsError` naming the missing section.
The flat format of before (every product's fields at the top level, one `merchant_key` for every
checksum) is still read: it maps every product to that one key, as it always did.

A missing field or a key of the wrong length is reported as `MerchantCredentialsError` naming the
field (`pg.merchant_key: ...`, or `merchant_key: ...` in the flat format), at cold start, instead of
surfacing later as a cryptic AES error mid-payout.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from paytm_signing.key_lengths import PREPAID_KEY_LENGTH
from paytm_signing.rotation import RotatingKey

__all__ = [
    "DEFAULT_CREDENTIALS_MAX_AGE_SECONDS",
    "PREPAID_ENVELOPES",
    "PRODUCTS",
    "AutoDebitCredentials",
    "MerchantCredentials",
    "MerchantCredentialsError",
    "PayoutsCredentials",
    "PgCredentials",
    "PrepaidCredentials",
    "WalletCredentials",
    "load_merchant_credentials",
]

DEFAULT_CREDENTIALS_MAX_AGE_SECONDS = 300
_T = TypeVar("_T")
_ModelT = TypeVar("_ModelT", bound=BaseModel)
_CHECKSUM_KEY_LENGTHS = (16, 24, 32)

PRODUCTS = ("wallet", "payouts", "pg", "auto_debit", "prepaid")
"""The product sections of the merchant secret, in the order the README lists them."""


class MerchantCredentialsError(ValueError):
    """The merchant secret is missing, unreadable or invalid; the message names the field."""


def _non_empty(description: str) -> Any:
    return Field(min_length=1, max_length=200, description=description)


def _checksum_key_length(value: SecretStr | None) -> SecretStr | None:
    """A Paytm checksum key is an AES key (paytm_signing.checksum): 16, 24 or 32 bytes."""
    if value is None:
        return None
    length = len(value.get_secret_value().encode("utf-8"))
    if length not in _CHECKSUM_KEY_LENGTHS:
        raise ValueError(f"must be 16, 24 or 32 bytes (AES-128/192/256), got {length}")
    return value


def _prepaid_key_length(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    length = len(value.get_secret_value().encode("utf-8"))
    if length != PREPAID_KEY_LENGTH:
        raise ValueError(f"must be {PREPAID_KEY_LENGTH} bytes (AES-192), got {length}")
    return value


def _secret_present(value: SecretStr | None) -> SecretStr | None:
    if value is not None and not value.get_secret_value():
        raise ValueError("must not be empty")
    return value


def _revealed(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()


class _Section(BaseModel):
    # Unknown names are ignored, at every level: a secret may gain a field before the code that
    # reads it is deployed, and the functions still running must keep working meanwhile.
    model_config = ConfigDict(frozen=True, extra="ignore")


class WalletCredentials(_Section):
    """Seed 000, the wallet APIs (salesToUserCredit, checkStatus): signed with the wallet team's
    "AesKey", not the PG merchant key."""

    aes_key: SecretStr = Field(description="the wallet team's AesKey, the checksum key: 16, 24 or 32 bytes")
    previous_aes_key: SecretStr | None = Field(default=None, description="the AesKey before (rotation)")
    merchant_guid: str = _non_empty("wallet merchant GUID (seed 000 `merchantGuid`)")
    sales_wallet_guid: str = _non_empty("sales sub-wallet GUID payouts are debited from")

    _key_lengths = field_validator("aes_key", "previous_aes_key")(_checksum_key_length)

    @property
    def checksum_key(self) -> RotatingKey:
        """Sign with `.current`; verify with `verify_signature_current_or_previous`."""
        return RotatingKey(self.aes_key.get_secret_value(), _revealed(self.previous_aes_key))


class PayoutsCredentials(_Section):
    """Seed 001, Paytm Payouts (wallet validation and its callbacks): its own checksum key."""

    merchant_key: SecretStr = Field(description="Paytm Payouts checksum key: 16, 24 or 32 bytes")
    previous_merchant_key: SecretStr | None = Field(default=None, description="the key before (rotation)")
    subwallet_guid: str = _non_empty("Paytm Payouts sub-wallet GUID (seed 001 `subwalletGuid`)")

    _key_lengths = field_validator("merchant_key", "previous_merchant_key")(_checksum_key_length)

    @property
    def checksum_key(self) -> RotatingKey:
        """Sign with `.current`; verify callbacks with `verify_signature_current_or_previous`."""
        return RotatingKey(self.merchant_key.get_secret_value(), _revealed(self.previous_merchant_key))


class PgCredentials(_Section):
    """Seeds 004 and 002: PG payments (initiateTransaction), transaction status, refunds, PG
    callbacks, and auto-debit's payment calls (consult, directPay, add money): the PG "Merchant Key"."""

    merchant_key: SecretStr = Field(description="PG merchant key: 16, 24 or 32 bytes")
    previous_merchant_key: SecretStr | None = Field(default=None, description="the key before (rotation)")
    website_name: str = _non_empty("PG websiteName, e.g. WEBSTAGING")

    _key_lengths = field_validator("merchant_key", "previous_merchant_key")(_checksum_key_length)

    @property
    def checksum_key(self) -> RotatingKey:
        """Sign with `.current`; verify callbacks with `verify_signature_current_or_previous`."""
        return RotatingKey(self.merchant_key.get_secret_value(), _revealed(self.previous_merchant_key))


class AutoDebitCredentials(_Section):
    """Seed 002, account linking (the accounts host's OAuth): client id and secret. Auto-debit's
    payment calls are signed with the PG key (`pg` section)."""

    client_id: str = _non_empty("auto-debit / OAuth client id")
    client_secret: SecretStr = Field(description="auto-debit / OAuth client secret")
    previous_client_secret: SecretStr | None = Field(default=None, description="the secret before (rotation)")
    # Seed 002 says Send OTP's `scope` and `responseType` "will be shared by Paytm", and Paytm
    # provides the industry type; the defaults are the seed's samples, so secrets written before
    # these fields existed keep loading.
    scope: str = Field(default="wallet", min_length=1, max_length=200, description="Send OTP `scope`")
    response_type: str = Field(
        default="token", min_length=1, max_length=200, description="Send OTP `responseType`"
    )
    industry_type: str = Field(
        default="Retail",
        min_length=1,
        max_length=200,
        description="directPay `IndustryType`, add money `INDUSTRY_TYPE_ID` (provided by Paytm)",
    )
    channel: Literal["WEB", "WAP"] = Field(
        default="WEB", description="check balance `channelId`, directPay `Channel`, add money `CHANNEL_ID`"
    )

    _present = field_validator("client_secret", "previous_client_secret")(_secret_present)

    @property
    def client_secret_in_rotation(self) -> RotatingKey:
        """Send `.current`; `.accepted` for anything Paytm signs with it."""
        return RotatingKey(self.client_secret.get_secret_value(), _revealed(self.previous_client_secret))


PREPAID_ENVELOPES = ("provider", "authenticated")
"""How a stack wraps seed 003's `token` (the stack's `PrepaidTokenFormat` setting): `provider`,
the provider's own bare AES-192-CBC with the IV it issues (`prepaid.iv`), the default; or
`authenticated`, Tijori's random IV + HMAC (paytm_signing.envelope), which both sides must agree on."""

_HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$"


def _iv_hex(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    text = value.get_secret_value()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError("must be 32 hex digits (the 16-byte IV the provider issues)") from None
    if len(raw) != 16:
        raise ValueError(f"must be 32 hex digits (16 bytes), got {len(raw)} bytes")
    return value


def _header_set(value: dict[str, SecretStr]) -> dict[str, SecretStr]:
    for name, header_value in value.items():
        if not re.fullmatch(_HEADER_NAME, name):
            raise ValueError(f"header name {name!r} is not an HTTP token of 1-64 characters")
        text = header_value.get_secret_value()
        if not text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text) or len(text) > 1024:
            raise ValueError(f"header {name}: the value must be 1-1024 printable characters")
    return value


class PrepaidCredentials(_Section):
    """Seed 003, prepaid-wallet loads: the AES-192 key of the `token` envelope, the IV the
    provider issues with it (its bare CBC uses a fixed IV), and the request headers the seed's
    `<WalletHeader />` stands for (names and values as the provider issues them)."""

    aes_key: SecretStr = Field(description="prepaid-wallet token key: 24 bytes (AES-192)")
    previous_aes_key: SecretStr | None = Field(default=None, description="the key before (rotation)")
    iv: SecretStr | None = Field(
        default=None, description="the provider's IV for the bare-CBC envelope: 32 hex digits"
    )
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, max_length=20, description="sent on every creditAccount call"
    )

    _key_lengths = field_validator("aes_key", "previous_aes_key")(_prepaid_key_length)
    _iv = field_validator("iv")(_iv_hex)
    _headers = field_validator("headers")(_header_set)

    @property
    def token_key(self) -> RotatingKey:
        """Encrypt with `.current`; decrypt with `decrypt_token_current_or_previous`."""
        return RotatingKey(self.aes_key.get_secret_value(), _revealed(self.previous_aes_key))

    @property
    def iv_bytes(self) -> bytes | None:
        return None if self.iv is None else bytes.fromhex(self.iv.get_secret_value())

    def header_values(self) -> dict[str, str]:
        """The header set, revealed: for the HTTP call only (never a log line)."""
        return {name: value.get_secret_value() for name, value in self.headers.items()}

    def token_format_for(self, envelope: str) -> tuple[bytes | None, bool]:
        """(fixed IV, authenticated) of the envelope named by the stack's setting; the `provider`
        envelope needs `prepaid.iv` (MerchantCredentialsError naming it otherwise)."""
        if envelope == "authenticated":
            return None, True
        if envelope != "provider":
            raise MerchantCredentialsError(
                f"prepaid envelope {envelope!r} is not one of {', '.join(PREPAID_ENVELOPES)}"
            )
        if self.iv is None:
            raise MerchantCredentialsError(
                "the provider's prepaid envelope (bare AES-192-CBC) needs prepaid.iv: the 16-byte IV "
                "the provider issues, as 32 hex digits"
            )
        return self.iv_bytes, False


_NO_PRODUCT = (
    f"it holds no product section: give at least one of {', '.join(PRODUCTS)} "
    '(README, "Configuration and secrets")'
)

_WHO_NEEDS = {
    "wallet": (
        "wallet payouts (seed 000) need wallet.aes_key, wallet.merchant_guid and wallet.sales_wallet_guid"
    ),
    "payouts": (
        "Paytm Payouts (seed 001) and its callbacks need payouts.merchant_key and payouts.subwallet_guid"
    ),
    "pg": "PG payments, refunds and PG callbacks (seeds 002, 004) need pg.merchant_key and pg.website_name",
    "auto_debit": (
        "auto-debit account linking (seed 002) needs auto_debit.client_id and auto_debit.client_secret"
    ),
    "prepaid": "prepaid-wallet loads (seed 003) need prepaid.aes_key",
}


class MerchantCredentials(_Section):
    """Everything Tijori needs to talk to Paytm as one merchant, one section per product.

    Ask for a product through its property (`credentials.wallet`, `.payouts`, `.pg`,
    `.auto_debit`, `.prepaid`): a section the secret does not hold raises `MerchantCredentialsError`
    naming it. Build from a decoded secret with `from_mapping` (either format). Secrets never
    appear in repr."""

    mid: str = _non_empty("Paytm merchant id (the `mid` / `x-mid` header, `MID`)")
    # Stored under `<product>_section`, read through the property of the product's name.
    wallet_section: WalletCredentials | None = Field(default=None, alias="wallet")
    payouts_section: PayoutsCredentials | None = Field(default=None, alias="payouts")
    pg_section: PgCredentials | None = Field(default=None, alias="pg")
    auto_debit_section: AutoDebitCredentials | None = Field(default=None, alias="auto_debit")
    prepaid_section: PrepaidCredentials | None = Field(default=None, alias="prepaid")

    @model_validator(mode="after")
    def _holds_a_product(self) -> MerchantCredentials:
        if not self.products:
            raise ValueError(_NO_PRODUCT)
        return self

    @property
    def products(self) -> tuple[str, ...]:
        """The product sections this secret holds, e.g. ("wallet",)."""
        return tuple(name for name in PRODUCTS if getattr(self, f"{name}_section") is not None)

    @property
    def wallet(self) -> WalletCredentials:
        return _required(self.wallet_section, "wallet")

    @property
    def payouts(self) -> PayoutsCredentials:
        return _required(self.payouts_section, "payouts")

    @property
    def pg(self) -> PgCredentials:
        return _required(self.pg_section, "pg")

    @property
    def auto_debit(self) -> AutoDebitCredentials:
        return _required(self.auto_debit_section, "auto_debit")

    @property
    def prepaid(self) -> PrepaidCredentials:
        return _required(self.prepaid_section, "prepaid")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "merchant secret") -> MerchantCredentials:
        """Validate a decoded secret in either format, turning pydantic's report into one line per
        bad field."""
        sections = sorted(name for name in PRODUCTS if name in data)
        flat = sorted(
            name for name in _FlatMerchantCredentials.model_fields if name != "mid" and name in data
        )
        if sections and flat:
            raise MerchantCredentialsError(
                f"{source} is invalid: it mixes product sections ({', '.join(sections)}) with fields of "
                f"the flat format ({', '.join(flat)}): move each into its product's section"
            )
        if flat:
            by_product = _validated(_FlatMerchantCredentials, data, source).by_product()
            return cls.model_validate(by_product)
        if not sections:
            raise MerchantCredentialsError(f"{source} is invalid: {_NO_PRODUCT}")
        return _validated(cls, data, source)


def _required(section: _T | None, name: str) -> _T:
    if section is None:
        raise MerchantCredentialsError(f"the merchant secret has no {name} section: {_WHO_NEEDS[name]}")
    return section


def _validated(model: type[_ModelT], data: Mapping[str, Any], source: str) -> _ModelT:
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
            for error in exc.errors(include_input=False)
        )
        raise MerchantCredentialsError(f"{source} is invalid: {problems}") from None


class _FlatMerchantCredentials(_Section):
    """The format of before: every product's fields at the top level, all required, one checksum
    key (`merchant_key`) for the wallet, Payouts and PG alike. Read so that secrets already in
    place keep working; validated as it always was, naming the flat field."""

    mid: str = _non_empty("Paytm merchant id")
    merchant_key: SecretStr = Field(description="checksum key of every product: 16, 24 or 32 bytes")
    merchant_guid: str = _non_empty("wallet merchant GUID (seed 000 `merchantGuid`)")
    sales_wallet_guid: str = _non_empty("sales sub-wallet GUID payouts are debited from")
    payouts_subwallet_guid: str = _non_empty("Paytm Payouts sub-wallet GUID (seed 001)")
    website_name: str = _non_empty("PG websiteName, e.g. WEBSTAGING")
    client_id: str = _non_empty("auto-debit / OAuth client id")
    client_secret: SecretStr = Field(description="auto-debit / OAuth client secret")
    prepaid_aes_key: SecretStr = Field(description="prepaid-wallet token key: 24 bytes (AES-192)")
    previous_merchant_key: SecretStr | None = None
    previous_client_secret: SecretStr | None = None
    previous_prepaid_aes_key: SecretStr | None = None

    _key_lengths = field_validator("merchant_key", "previous_merchant_key")(_checksum_key_length)
    _prepaid_lengths = field_validator("prepaid_aes_key", "previous_prepaid_aes_key")(_prepaid_key_length)
    _present = field_validator("client_secret", "previous_client_secret")(_secret_present)

    def by_product(self) -> dict[str, Any]:
        """The same credentials, one section per product, every checksum under the one key."""
        key, previous = self.merchant_key, self.previous_merchant_key
        return {
            "mid": self.mid,
            "wallet": {
                "aes_key": key,
                "previous_aes_key": previous,
                "merchant_guid": self.merchant_guid,
                "sales_wallet_guid": self.sales_wallet_guid,
            },
            "payouts": {
                "merchant_key": key,
                "previous_merchant_key": previous,
                "subwallet_guid": self.payouts_subwallet_guid,
            },
            "pg": {"merchant_key": key, "previous_merchant_key": previous, "website_name": self.website_name},
            "auto_debit": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "previous_client_secret": self.previous_client_secret,
            },
            "prepaid": {"aes_key": self.prepaid_aes_key, "previous_aes_key": self.previous_prepaid_aes_key},
        }


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
