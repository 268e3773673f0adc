"""Typed function configuration, read from the environment once, at cold start.

Each function declares the settings it needs as a model; `load_settings` maps every field to the
upper-case environment variable of the same name and fails with one message naming each missing
or invalid variable, rather than with a KeyError deep inside a request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SettingsT = TypeVar("SettingsT", bound=BaseModel)


class ConfigurationError(RuntimeError):
    """The function's environment is missing or has an invalid variable."""


class _Settings(BaseModel):
    # Each function reads one of these models, once, at cold start (load_settings): a model's
    # validator is built then, so no function builds the others'.
    model_config = ConfigDict(frozen=True, defer_build=True)


class IntakeSettings(_Settings):
    payouts_table_name: str = Field(min_length=1)
    payout_queue_url: str = Field(min_length=1)
    # Payments call initiateTransaction from the merchant's request, and refunds are taken here.
    payments_table_name: str = Field(min_length=1)
    refunds_table_name: str = Field(min_length=1)
    merchant_secret_name: str = Field(min_length=1)
    paytm_pg_base_url: str = Field(min_length=1)
    # Where Paytm posts PG callbacks: this stack's own `/v1/callbacks/pg`. Empty: the API's own
    # address, as the request that creates the payment reached it.
    public_base_url: str = ""


class _SettlementSettings(_Settings):
    """What every function that settles payouts with Paytm needs."""

    payouts_table_name: str = Field(min_length=1)
    merchant_secret_name: str = Field(min_length=1)
    paytm_wallet_base_url: str = Field(min_length=1)
    payments_table_name: str = Field(min_length=1)
    refunds_table_name: str = Field(min_length=1)
    paytm_pg_base_url: str = Field(min_length=1)


class PayoutWorkerSettings(_SettlementSettings):
    payout_queue_url: str = Field(min_length=1)
    status_check_delay_seconds: float = Field(default=5.0, ge=0, le=10)


class StatusPollerSettings(_SettlementSettings):
    payout_queue_url: str = Field(min_length=1)
    # Due-index items read per page; a scheduled run reads page after page while its time lasts.
    sweep_page_size: int = Field(default=50, ge=1, le=1000)


class CallbackSettings(_Settings):
    merchant_secret_name: str = Field(min_length=1)
    callbacks_table_name: str = Field(min_length=1)
    payouts_table_name: str = Field(min_length=1)
    payments_table_name: str = Field(min_length=1)
    payout_queue_url: str = Field(min_length=1)
    callback_max_body_bytes: int = Field(default=16_384, ge=1_024, le=262_144)


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
