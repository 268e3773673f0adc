"""Typed function configuration, read from the environment once, at cold start.

Each function declares the settings it needs as a model; `load_settings` maps every field to the
upper-case environment variable of the same name and fails with one message naming each missing
or invalid variable, rather than with a KeyError deep inside a request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from tijori.payouts.prepaid_fields import IMPL_ID_PATTERN, IMPL_TYPE_PATTERN, MAX_SENDER_LENGTH, FundFlowType

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class ConfigurationError(RuntimeError):
    """The function's environment is missing or has an invalid variable."""


class _Settings(BaseModel):
    # Each function reads one of these models, once, at cold start (load_settings): a model's
    # validator is built then, so no function builds the others'.
    model_config = ConfigDict(frozen=True, defer_build=True)


_HTTP_URL = re.compile(r"https?://[^/\s]+(/\S*)?")


def _http_url(value: str) -> str:
    if not _HTTP_URL.fullmatch(value):
        raise ValueError("must be an http:// or https:// URL: a host, then a path if any")
    return value


_BaseUrl = Annotated[str, AfterValidator(_http_url)]


def _optional_http_url(value: str) -> str:
    return value if value == "" else _http_url(value)


# Paytm serves its API families from different hosts, so each family has its own base URL (one
# template parameter each, README "Configuration and secrets"); a function's settings include the
# families it calls. The local runtime points them all at the simulator.


class PaytmWalletUrl(_Settings):
    """Seed 000, wallet payouts (salesToUserCredit, checkStatus): https://trust.paytm.in."""

    paytm_wallet_base_url: _BaseUrl = Field(description="Paytm's wallet APIs (seed 000)")


class PaytmPayoutsUrl(_Settings):
    """Seed 001, Paytm Payouts (wallet validation): https://dashboard.paytm.com."""

    paytm_payouts_base_url: _BaseUrl = Field(description="Paytm Payouts (seed 001)")


class PaytmPgUrl(_Settings):
    """Seeds 004 and 002, the PG: initiateTransaction, transaction status, refunds, auto-debit's
    consult and directPay: https://secure.paytmpayments.com."""

    paytm_pg_base_url: _BaseUrl = Field(description="Paytm's PG (seeds 002 status/refund, 004)")


class PaytmAccountsUrl(_Settings):
    """Seed 002, account linking (OAuth: signin/otp, user/details): https://accounts.paytm.com."""

    paytm_accounts_base_url: _BaseUrl = Field(description="Paytm's accounts host (seed 002 OAuth)")


class PaytmPrepaidUrl(_Settings):
    """Seed 003, prepaid-wallet loads (creditAccount): the seed names no host; Paytm gives it."""

    paytm_prepaid_base_url: _BaseUrl = Field(description="Paytm's prepaid-wallet API (seed 003)")


class PrepaidLoadDefaults(_Settings):
    """Seed 003 load fields a prepaid payout does not set itself (README, "Prepaid wallet loads").
    The impl defaults are the seed's sample; the provider issues each program its own."""

    prepaid_source_type: int = Field(default=0, ge=0, le=1, description="0 wallet, 1 account")
    prepaid_sender: str = Field(default="TIJORI", min_length=1, max_length=MAX_SENDER_LENGTH)
    prepaid_fund_flow_type: FundFlowType = "I"
    prepaid_impl_id: str = Field(default="I|70130", pattern=IMPL_ID_PATTERN)
    prepaid_impl_type: str = Field(default="P2M_A2W_I", pattern=IMPL_TYPE_PATTERN)
    prepaid_fee: Decimal = Field(default=Decimal("0.00"), ge=0, max_digits=9, decimal_places=2)


class MerchantEventsBus(_Settings):
    """The stack's EventBridge bus, where every final transition is announced (template.yaml:
    TijoriEventBus). Empty: no bus, nothing announced (a function outside the stack)."""

    event_bus_name: str = ""


class IntakeSettings(PaytmPgUrl, PrepaidLoadDefaults, MerchantEventsBus):
    payouts_table_name: str = Field(min_length=1)
    # Payee validations are stored here and queued for PayoutFunction (seed 001).
    validations_table_name: str = Field(min_length=1)
    payout_queue_url: str = Field(min_length=1)
    # Payments call initiateTransaction from the merchant's request, and refunds are taken here.
    payments_table_name: str = Field(min_length=1)
    refunds_table_name: str = Field(min_length=1)
    merchant_secret_name: str = Field(min_length=1)
    # Where Paytm posts PG callbacks: this stack's own `/v1/callbacks/pg`. Empty: the API's own
    # address, as the request that creates the payment reached it.
    public_base_url: str = ""
    # Auto-debit (seed 002): wallet links, their tokens sealed under the stack's KMS key, and the
    # accounts host that links them. Empty in a stack without auto-debit: its routes then answer
    # 503 naming the missing setting.
    paytm_accounts_base_url: Annotated[str, AfterValidator(_optional_http_url)] = ""
    wallet_links_table_name: str = ""
    wallet_token_key_id: str = ""
    # Per phone and window: new links, and OTP attempts (issue 13, rule 5).
    wallet_links_per_phone: int = Field(default=5, ge=1, le=100)
    wallet_link_otp_attempts_per_phone: int = Field(default=10, ge=1, le=100)
    wallet_link_limit_window_seconds: int = Field(default=3600, ge=60, le=86400)


class _SettlementSettings(PaytmWalletUrl, PaytmPayoutsUrl, PaytmPgUrl, MerchantEventsBus):
    """What every function that settles payouts, payee validations and payments with Paytm needs."""

    payouts_table_name: str = Field(min_length=1)
    merchant_secret_name: str = Field(min_length=1)
    payments_table_name: str = Field(min_length=1)
    refunds_table_name: str = Field(min_length=1)
    validations_table_name: str = Field(min_length=1)


class PayoutWorkerSettings(_SettlementSettings):
    payout_queue_url: str = Field(min_length=1)
    # Seed 003 (prepaid loads): the host (the seed names none; empty until the provider gives one,
    # and a prepaid payout then fails to the DLQ saying so) and the token envelope both sides use.
    paytm_prepaid_base_url: Annotated[str, AfterValidator(_optional_http_url)] = ""
    prepaid_token_format: Literal["provider", "authenticated"] = "provider"  # noqa: S105 - a format name
    status_check_delay_seconds: float = Field(default=5.0, ge=0, le=10)
    # Charges on linked wallets (seed 002): the links and the key their tokens are sealed under.
    wallet_links_table_name: str = ""
    wallet_token_key_id: str = ""


class StatusPollerSettings(_SettlementSettings):
    payout_queue_url: str = Field(min_length=1)
    # Due-index items read per page; a scheduled run reads page after page while its time lasts.
    sweep_page_size: int = Field(default=50, ge=1, le=1000)
    # Reconciliation (README "How an operator reconciles"): its table, how many status calls at
    # once, at most how many a second (Paytm's rate limits are per merchant), items per page.
    reconciliation_table_name: str = Field(min_length=1)
    reconciliation_concurrency: int = Field(default=8, ge=1, le=64)
    reconciliation_calls_per_second: float = Field(default=10.0, gt=0, le=100)
    reconciliation_page_size: int = Field(default=100, ge=1, le=1000)
    # Auto-debit wallet links: the sweep publishes a final link's event a writer could not.
    wallet_links_table_name: str = ""


class CallbackSettings(_Settings):
    merchant_secret_name: str = Field(min_length=1)
    callbacks_table_name: str = Field(min_length=1)
    payouts_table_name: str = Field(min_length=1)
    payments_table_name: str = Field(min_length=1)
    # A Payouts callback names a payee validation first (then a payout).
    validations_table_name: str = Field(min_length=1)
    payout_queue_url: str = Field(min_length=1)
    callback_max_body_bytes: int = Field(default=16_384, ge=1_024, le=262_144)
    # The one-time add-money URL (seed 002): the link's sealed token, opened to fill the form.
    wallet_links_table_name: str = ""
    wallet_token_key_id: str = ""


def load_settings(model: type[SettingsT], environ: Mapping[str, str] | None = None) -> SettingsT:
    source = os.environ if environ is None else environ
    values = {name: source[name.upper()] for name in model.model_fields if name.upper() in source}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{str(error['loc'][0]).upper()}: {error['msg']}" for error in exc.errors(include_input=False)
        )
        raise ConfigurationError(f"{model.__name__} from the environment is invalid: {problems}") from None
