"""Payout models: what a merchant submits, and what Tijori stores and shows back."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.masking import mask_email, mask_phone
from tijori.payouts.prepaid_fields import IMPL_ID_PATTERN, IMPL_TYPE_PATTERN, MAX_SENDER_LENGTH, FundFlowType

ORDER_ID_PATTERN = r"^[A-Za-z0-9\-_@]{1,50}$"
# At least 1 (no leading zero, so the pattern alone says ">= 1.00"), at most 2 decimals.
AMOUNT_PATTERN = r"^[1-9][0-9]{0,9}(\.[0-9]{1,2})?$"
_DECIMAL_TEXT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
MIN_PAYOUT_AMOUNT = Decimal("1.00")
MAX_PENDING_DAYS = 5
# An Indian mobile number under the national numbering plan: 10 digits, the first 6-9.
INDIAN_MOBILE_PATTERN = r"^[6-9][0-9]{9}$"

MAX_NARRATION_LENGTH = 100
MAX_EMAIL_LENGTH = 254
MAX_SSO_ID_LENGTH = 64
MAX_METADATA_ENTRIES = 20
MAX_METADATA_KEY_LENGTH = 64
MAX_METADATA_VALUE_LENGTH = 256

# Characters a merchant's text may not carry: C0 and C1 controls and DEL (NUL, ANSI escapes, line
# breaks that forge log lines), and the Unicode bidirectional marks, embeddings, overrides and
# isolates that make text read differently on screen than it is stored. Written as a regex class
# (JSON Schema / ECMA and Rust syntax alike) so the OpenAPI document states the same rule.
_INVISIBLE_CHARACTER_CLASS = r"\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
PLAIN_TEXT_PATTERN = rf"^[^{_INVISIBLE_CHARACTER_CLASS}]*$"
NON_EMPTY_PLAIN_TEXT_PATTERN = rf"^[^{_INVISIBLE_CHARACTER_CLASS}]+$"
EMAIL_PATTERN = (
    rf"^[^@\s{_INVISIBLE_CHARACTER_CLASS}]+@[^@\s{_INVISIBLE_CHARACTER_CLASS}]+"
    rf"\.[^@\s{_INVISIBLE_CHARACTER_CLASS}]+$"
)
_BIDIRECTIONAL_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _is_invisible_character(character: str) -> bool:
    return unicodedata.category(character) == "Cc" or character in _BIDIRECTIONAL_CONTROLS


def refuse_invisible_characters(value: Any) -> Any:
    """Runs before the string rules, so the merchant reads which character was refused and where."""
    if isinstance(value, str):
        for position, character in enumerate(value):
            if _is_invisible_character(character):
                raise ValueError(
                    f"must not contain control or bidirectional characters"
                    f" (U+{ord(character):04X} at position {position})"
                )
    return value


OrderId = Annotated[str, StringConstraints(pattern=ORDER_ID_PATTERN)]
IndianMobileNumber = Annotated[str, StringConstraints(pattern=INDIAN_MOBILE_PATTERN)]
Email = Annotated[
    str,
    StringConstraints(max_length=MAX_EMAIL_LENGTH, pattern=EMAIL_PATTERN),
    BeforeValidator(refuse_invisible_characters),
]
SsoId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_SSO_ID_LENGTH, pattern=r"^[A-Za-z0-9]+$")
]
Narration = Annotated[
    str,
    StringConstraints(max_length=MAX_NARRATION_LENGTH, pattern=PLAIN_TEXT_PATTERN),
    BeforeValidator(refuse_invisible_characters),
]
# DynamoDB refuses an empty map key (and a payout that cannot be stored breaks the sweep later).
MetadataKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_METADATA_KEY_LENGTH, pattern=NON_EMPTY_PLAIN_TEXT_PATTERN),
    BeforeValidator(refuse_invisible_characters),
]
MetadataValue = Annotated[
    str,
    StringConstraints(max_length=MAX_METADATA_VALUE_LENGTH, pattern=PLAIN_TEXT_PATTERN),
    BeforeValidator(refuse_invisible_characters),
]


def refuse_booleans_and_text(value: Any) -> Any:
    # A JSON integer, and only that: `true` or "3" is not a number of days. 2.0 is (JSON Schema
    # and JSON itself do not tell it from 2); 2.5 is then refused by the int rule.
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer, not a boolean or a string")
    return value


PendingDays = Annotated[int, Field(ge=0, le=MAX_PENDING_DAYS), BeforeValidator(refuse_booleans_and_text)]
# The amount as it is accepted: a decimal string, never a JSON number.
AmountText = Annotated[
    Decimal,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": AMOUNT_PATTERN,
            "description": 'INR as a decimal string, at least "1.00", at most 2 decimals',
            "examples": ["10.50"],
        }
    ),
]


def parse_amount_text(value: Any) -> Decimal:
    """A payout amount as accepted: a decimal string of at least 1.00 with at most 2 decimals."""
    if not isinstance(value, str) or not re.fullmatch(_DECIMAL_TEXT_PATTERN, value):
        raise ValueError('must be a decimal string with at most 2 decimal places, e.g. "10.50"')
    amount = Decimal(value)
    if amount < MIN_PAYOUT_AMOUNT:
        raise ValueError("must be at least 1.00")
    if not re.fullmatch(AMOUNT_PATTERN, value):
        raise ValueError('must not start with a zero, e.g. "10.50"')
    return amount.quantize(Decimal("0.01"))


def _payee_json_schema(schema: dict[str, Any]) -> None:
    # "Exactly one of" in the document too: exactly one of the three is given and not null.
    schema["oneOf"] = [
        {"required": [name], "properties": {name: {"type": "string"}}}
        for name in ("phone", "email", "sso_id")
    ]


def _metadata_json_schema(schema: dict[str, Any]) -> None:
    # pydantic writes a key pattern as patternProperties (which does not restrict keys); say it
    # as propertyNames, which does.
    schema.pop("patternProperties", None)
    schema["propertyNames"] = {
        "minLength": 1,
        "maxLength": MAX_METADATA_KEY_LENGTH,
        "pattern": NON_EMPTY_PLAIN_TEXT_PATTERN,
    }
    schema["additionalProperties"] = {
        "type": "string",
        "maxLength": MAX_METADATA_VALUE_LENGTH,
        "pattern": PLAIN_TEXT_PATTERN,
    }


class PayoutRail(StrEnum):
    """Where the money goes: a Paytm wallet (seed 000, the default) or a prepaid wallet (seed 003)."""

    WALLET = "wallet"
    PREPAID = "prepaid"


class PayoutMode(StrEnum):
    """The three ways of seed 000's "Merchant Sales Wallet To User Wallet"."""

    VERIFIED_USER = "verified_user"  # case 1: VERIFY first, credit only if it answers true
    EXISTING_USER = "existing_user"  # case 2: appliedToNewUsers N
    ANY_USER = "any_user"  # case 3: appliedToNewUsers Y


# The fields each model fingerprinted when the fingerprint was introduced. A field added later
# joins the fingerprint only when its value differs from its default, so the retry of a client
# that does not know the field still matches the payout it stored (money rule 1).
PAYEE_FINGERPRINT_V1_FIELDS = frozenset({"phone", "email", "sso_id"})
FINGERPRINT_V1_FIELDS = frozenset(
    {"order_id", "amount", "currency", "payee", "mode", "pending_days_limit", "narration", "metadata"}
)


def _fingerprinted_fields(model: BaseModel, v1_fields: frozenset[str]) -> dict[str, Any]:
    """`model` as JSON, keeping a field outside `v1_fields` only when it is not at its default."""
    dumped = model.model_dump(mode="json")
    kept: dict[str, Any] = {}
    for name, field in type(model).model_fields.items():
        if name not in v1_fields and getattr(model, name) == field.get_default(call_default_factory=True):
            continue
        kept[name] = dumped[name]
    return kept


class Payee(BaseModel):
    """Exactly one way of naming the customer's wallet."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_payee_json_schema)

    phone: IndianMobileNumber | None = Field(
        default=None, description="Indian mobile number: 10 digits, the first 6-9"
    )
    email: Email | None = None
    sso_id: SsoId | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Payee:
        given = [name for name in ("phone", "email", "sso_id") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("payee must have exactly one of phone, email, sso_id")
        return self

    def masked(self) -> dict[str, str]:
        if self.phone is not None:
            return {"phone": mask_phone(self.phone)}
        if self.email is not None:
            return {"email": mask_email(self.email)}
        return {"sso_id": str(self.sso_id)}

    def fingerprint_fields(self) -> dict[str, Any]:
        return _fingerprinted_fields(self, PAYEE_FINGERPRINT_V1_FIELDS)


class PayoutRequest(BaseModel):
    """`POST /v1/payouts` body. Unknown fields are rejected, amounts are exact decimal strings."""

    # Only the merchant API takes requests, and builds this model at its cold start (initiate's
    # app.py); the other functions share this module for Payout and never build it.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    rail: Literal["wallet"] = Field(
        default="wallet", description="`wallet` (seed 000, the default) or `prepaid` (seed 003)"
    )
    order_id: OrderId = Field(description="Becomes Paytm's merchantOrderId; 1-50 of A-Z a-z 0-9 - _ @")
    amount: AmountText
    currency: Literal["INR"] = "INR"
    payee: Payee
    payee_validation_id: OrderId | None = Field(
        default=None,
        description="a payee validation (POST /v1/payee-validations) that must be VALID for this phone",
    )
    mode: PayoutMode = PayoutMode.EXISTING_USER
    pending_days_limit: PendingDays | None = None
    narration: Narration | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default_factory=dict, max_length=MAX_METADATA_ENTRIES, json_schema_extra=_metadata_json_schema
    )

    _amount_is_decimal_text = field_validator("amount", mode="before")(parse_amount_text)

    def fingerprint(self) -> str:
        """Same request (after defaults) -> same fingerprint; used to tell a replay from a conflict.

        Stable as the model grows: see FINGERPRINT_V1_FIELDS.
        """
        fields = _fingerprinted_fields(self, FINGERPRINT_V1_FIELDS)
        fields["payee"] = self.payee.fingerprint_fields()
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ---- prepaid wallet loads (seed 003, creditAccount) ------------------------------------------
# Identifiers keep the type and length of the seed's samples: `urn` 70000000008 is a JSON number
# on the wire (digits here, sent as a number), `customerId` "10011887211" / "130172" text,
# `customerMobile` 919888888888 (91 and the 10-digit number), `subWalletId` "MOB5378a27c_1",
# `accountNumber` "604010000445".
URN_PATTERN = r"^[1-9][0-9]{0,17}$"
CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9]{1,20}$"
CUSTOMER_MOBILE_PATTERN = r"^(91)?[6-9][0-9]{9}$"
SUBWALLET_ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
ACCOUNT_NUMBER_PATTERN = r"^[0-9]{6,20}$"
_PREPAID_IDENTIFIERS = ("urn", "customer_id", "customer_mobile")
_PREPAID_ACCOUNTS = ("subwallet_id", "account_number")
FEE_PATTERN = r"^[0-9]{1,7}(\.[0-9]{1,2})?$"
SOURCE_ACCOUNT_PATTERN = r"^[A-Za-z0-9]{1,30}$"
CLIENT_TXN_ID_LENGTH = 22
"""`clientTxnId` as Tijori makes it: "TJ" and 20 characters (the seed's samples are 15 to 25
alphanumeric characters; the simulator, like the provider we assume, takes up to 50)."""


def _prepaid_payee_json_schema(schema: dict[str, Any]) -> None:
    # Exactly one of each group given and not null (a null counts as left out, as the model reads it).
    schema["allOf"] = [
        {"oneOf": [{"required": [name], "properties": {name: {"type": "string"}}} for name in group]}
        for group in (_PREPAID_IDENTIFIERS, _PREPAID_ACCOUNTS)
    ]


def _mask_tail(value: str, keep: int = 4) -> str:
    return "*" * max(len(value) - keep, 0) + value[-keep:]


class PrepaidPayee(BaseModel):
    """A prepaid wallet: exactly one of urn, customer_id, customer_mobile, and exactly one of
    subwallet_id, account_number (seed 003: 1304 "more than one customer identifier", 1369
    "subwallet or accountNo should be present")."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_prepaid_payee_json_schema)

    urn: Annotated[str, StringConstraints(pattern=URN_PATTERN)] | None = Field(
        default=None, description="the card's unique reference number: digits, sent as a JSON number"
    )
    customer_id: Annotated[str, StringConstraints(pattern=CUSTOMER_ID_PATTERN)] | None = None
    customer_mobile: Annotated[str, StringConstraints(pattern=CUSTOMER_MOBILE_PATTERN)] | None = Field(
        default=None, description="10 digits (the first 6-9), 91 in front or not; sent as 91 + 10 digits"
    )
    subwallet_id: Annotated[str, StringConstraints(pattern=SUBWALLET_ID_PATTERN)] | None = None
    account_number: Annotated[str, StringConstraints(pattern=ACCOUNT_NUMBER_PATTERN)] | None = None

    @model_validator(mode="after")
    def _one_wallet(self) -> PrepaidPayee:
        given = [name for name in _PREPAID_IDENTIFIERS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a prepaid payee has exactly one of urn, customer_id, customer_mobile")
        accounts = [name for name in _PREPAID_ACCOUNTS if getattr(self, name) is not None]
        if len(accounts) != 1:
            raise ValueError("a prepaid payee has exactly one of subwallet_id, account_number")
        return self

    @property
    def mobile_on_the_wire(self) -> str | None:
        return None if self.customer_mobile is None else "91" + self.customer_mobile[-10:]

    def masked(self) -> dict[str, str]:
        shown: dict[str, str] = {}
        if self.urn is not None:
            shown["urn"] = _mask_tail(self.urn)
        if self.customer_id is not None:
            shown["customer_id"] = _mask_tail(self.customer_id)
        if self.customer_mobile is not None:
            shown["customer_mobile"] = mask_phone(self.customer_mobile[-10:])
        if self.subwallet_id is not None:
            shown["subwallet_id"] = self.subwallet_id
        if self.account_number is not None:
            shown["account_number"] = _mask_tail(self.account_number)
        return shown

    def fingerprint_fields(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class PrepaidLoadOptions(BaseModel):
    """The request's `prepaid` object: seed 003 fields a merchant may set per load. Each one left
    out comes from the stack's settings (README, "Prepaid wallet loads"); `fee` is INR."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_type: Annotated[int, Field(ge=0, le=1), BeforeValidator(refuse_booleans_and_text)] | None = Field(
        default=None, description="0: from a wallet, 1: from an account (seed: Wallet-0/account-1)"
    )
    sender: (
        Annotated[
            str,
            StringConstraints(
                min_length=1, max_length=MAX_SENDER_LENGTH, pattern=NON_EMPTY_PLAIN_TEXT_PATTERN
            ),
            BeforeValidator(refuse_invisible_characters),
        ]
        | None
    ) = None
    source_account: Annotated[str, StringConstraints(pattern=SOURCE_ACCOUNT_PATTERN)] | None = None
    fund_flow_type: FundFlowType | None = None
    impl_id: Annotated[str, StringConstraints(pattern=IMPL_ID_PATTERN)] | None = None
    impl_type: Annotated[str, StringConstraints(pattern=IMPL_TYPE_PATTERN)] | None = None
    fee: (
        Annotated[
            Decimal,
            WithJsonSchema({"type": "string", "pattern": FEE_PATTERN, "description": 'INR, e.g. "0.00"'}),
        ]
        | None
    ) = None

    @field_validator("fee", mode="before")
    @classmethod
    def _fee_is_decimal_text(cls, value: Any) -> Decimal | None:
        if value is None:
            return None
        if not isinstance(value, str) or not re.fullmatch(FEE_PATTERN, value):
            raise ValueError('must be a decimal string with at most 2 decimal places, e.g. "0.00"')
        return Decimal(value).quantize(Decimal("0.01"))


class PrepaidLoadTerms(BaseModel):
    """What a prepaid load sends besides payee and amount, fixed at intake (request, else the
    stack's settings) and stored with the payout, so every attempt sends the same."""

    model_config = ConfigDict(frozen=True)

    client_txn_id: str
    source_type: int
    sender: str
    source_account: str | None = None
    fund_flow_type: str
    impl_id: str
    impl_type: str
    fee: Decimal


def client_txn_id_for(order_id: str) -> str:
    """seed 003's `clientTxnId` for an order: "TJ" and the first 20 characters of the order id's
    SHA-256 in base 32 (alphanumeric, upper case): the same on every attempt, within the length the
    provider's samples show, whatever characters the order id has."""
    digest = hashlib.sha256(order_id.encode("utf-8")).digest()
    return "TJ" + base64.b32encode(digest).decode("ascii")[: CLIENT_TXN_ID_LENGTH - 2]


class PrepaidPayoutRequest(BaseModel):
    """`POST /v1/payouts` with `"rail": "prepaid"`: a load into a prepaid wallet (seed 003)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    rail: Literal["prepaid"] = Field(description="`prepaid`: seed 003 creditAccount")
    order_id: OrderId = Field(description="Tijori's order id; the load's clientTxnId is derived from it")
    amount: AmountText
    currency: Literal["INR"] = "INR"
    payee: PrepaidPayee
    narration: Narration | None = None
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default_factory=dict, max_length=MAX_METADATA_ENTRIES, json_schema_extra=_metadata_json_schema
    )
    prepaid: PrepaidLoadOptions = Field(default_factory=PrepaidLoadOptions)

    _amount_is_decimal_text = field_validator("amount", mode="before")(parse_amount_text)

    def fingerprint(self) -> str:
        fields = self.model_dump(mode="json", exclude_none=True)
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def terms(self, defaults: PrepaidLoadOptions) -> PrepaidLoadTerms:
        """The load's fields: the request's, else the stack's `defaults` (which must set each)."""
        chosen = {**defaults.model_dump(exclude_none=True), **self.prepaid.model_dump(exclude_none=True)}
        return PrepaidLoadTerms(client_txn_id=client_txn_id_for(self.order_id), **chosen)


class Transition(BaseModel):
    model_config = ConfigDict(frozen=True)

    from_status: PayoutStatus | None
    to_status: PayoutStatus
    at: datetime
    reason: str


class Payout(BaseModel):
    """A payout as stored. `payee` holds the real identifier; only `public_view` leaves Tijori."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    amount: Decimal
    currency: str
    payee: Payee | PrepaidPayee
    mode: PayoutMode
    pending_days_limit: int | None
    narration: str | None
    metadata: dict[str, str]
    request_fingerprint: str
    status: PayoutStatus
    paytm_txn_id: str | None = None
    last_status_code: str | None = None
    last_status_message: str | None = None
    attempts: int = 0
    status_checks: int = 0
    lease_until: float | None = None  # wall-clock epoch seconds while an attempt holds the payout
    # When the first salesToUserCredit that may have reached Paytm left (a send that Paytm refused
    # as a configuration error does not count): Paytm's pending window runs from there.
    first_sent_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    history: tuple[Transition, ...] = ()
    rail: PayoutRail = PayoutRail.WALLET
    prepaid: PrepaidLoadTerms | None = None  # the prepaid rail's load terms, fixed at intake
    payee_validation_id: str | None = None
    # The payout batch (POST /v1/payout-batches) that brought it, if any: stored beside the
    # request, never part of its fingerprint.
    batch_id: str | None = None

    @classmethod
    def accept(
        cls,
        request: PayoutRequest | PrepaidPayoutRequest,
        now: datetime,
        *,
        prepaid_defaults: PrepaidLoadOptions | None = None,
        batch_id: str | None = None,
    ) -> Payout:
        """The new payout of a request. A prepaid one takes its load terms from the request, else
        from `prepaid_defaults` (the stack's settings)."""
        common: dict[str, Any] = {
            "batch_id": batch_id,
            "order_id": request.order_id,
            "amount": request.amount,
            "currency": request.currency,
            "payee": request.payee,
            "narration": request.narration,
            "metadata": dict(request.metadata),
            "request_fingerprint": request.fingerprint(),
            "status": PayoutStatus.ACCEPTED,
            "created_at": now,
            "updated_at": now,
            "history": (
                Transition(from_status=None, to_status=PayoutStatus.ACCEPTED, at=now, reason="accepted"),
            ),
        }
        if isinstance(request, PrepaidPayoutRequest):
            if prepaid_defaults is None:
                raise ValueError("a prepaid payout needs the stack's prepaid load settings")
            return cls(
                **common,
                rail=PayoutRail.PREPAID,
                mode=PayoutMode.EXISTING_USER,  # not a prepaid notion: never sent, not shown
                pending_days_limit=None,
                prepaid=request.terms(prepaid_defaults),
            )
        return cls(
            **common,
            mode=request.mode,
            pending_days_limit=request.pending_days_limit,
            payee_validation_id=request.payee_validation_id,
        )

    @property
    def wallet_payee(self) -> Payee:
        """The payee of a wallet-rail payout (seed 000); a prepaid payout has none."""
        if not isinstance(self.payee, Payee):
            raise TypeError(f"payout {self.order_id} is a {self.rail.value} payout: no wallet payee")
        return self.payee

    @property
    def prepaid_payee(self) -> PrepaidPayee:
        if not isinstance(self.payee, PrepaidPayee):
            raise TypeError(f"payout {self.order_id} is a {self.rail.value} payout: no prepaid payee")
        return self.payee

    @property
    def was_pending(self) -> bool:
        """Paytm held this payout as pending at some point (a failure after that is a rollback)."""
        return any(t.to_status is PayoutStatus.PENDING for t in self.history)

    def public_view(self) -> dict[str, Any]:
        """The merchant-facing resource: payee masked, money as a string."""
        prepaid = self.rail is PayoutRail.PREPAID
        view: dict[str, Any] = {
            "order_id": self.order_id,
            "rail": self.rail.value,
            "status": self.status.value,
            "amount": f"{self.amount:.2f}",
            "currency": self.currency,
            "payee": self.payee.masked(),
            "mode": None if prepaid else self.mode.value,
            "pending_days_limit": self.pending_days_limit,
            "narration": self.narration,
            "metadata": self.metadata,
            "paytm_txn_id": self.paytm_txn_id,
            "last_status_code": self.last_status_code,
            "last_status_message": self.last_status_message,
            "attempts": self.attempts,
            "status_checks": self.status_checks,
            "first_sent_at": self.first_sent_at.isoformat() if self.first_sent_at else None,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "history": [
                {
                    "from": t.from_status.value if t.from_status else None,
                    "to": t.to_status.value,
                    "at": t.at.isoformat(),
                    "reason": t.reason,
                }
                for t in self.history
            ],
        }
        if self.payee_validation_id is not None:
            view["payee_validation_id"] = self.payee_validation_id
        if self.batch_id is not None:
            view["batch_id"] = self.batch_id
        if self.prepaid is not None:
            terms = self.prepaid
            view["prepaid"] = {
                "client_txn_id": terms.client_txn_id,
                "source_type": terms.source_type,
                "sender": terms.sender,
                "fund_flow_type": terms.fund_flow_type,
                "impl_id": terms.impl_id,
                "impl_type": terms.impl_type,
                "fee": f"{terms.fee:.2f}",
            }
        return view


def _rail_of(value: Any) -> str | None:
    rail = value.get("rail", "wallet") if isinstance(value, dict) else getattr(value, "rail", "wallet")
    return rail if rail in ("wallet", "prepaid") else None


RAIL_ERROR_TYPE = "rail_invalid"

AnyPayoutRequest = Annotated[
    Annotated[PayoutRequest, Tag("wallet")] | Annotated[PrepaidPayoutRequest, Tag("prepaid")],
    Discriminator(
        _rail_of,
        custom_error_type=RAIL_ERROR_TYPE,
        custom_error_message="rail must be `wallet` (the default) or `prepaid`",
    ),
]
"""`POST /v1/payouts`: the request of its `rail` (absent: `wallet`). A problem's location names the
rail first (`wallet`, `prepaid`); the API drops it, so fields read as in the body."""
