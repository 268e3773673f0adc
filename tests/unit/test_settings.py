"""Function settings: one Paytm base URL per API family, each checked at cold start and named when
missing or not a URL."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from tijori.settings import (
    CallbackSettings,
    ConfigurationError,
    IntakeSettings,
    PayoutWorkerSettings,
    PaytmAccountsUrl,
    PaytmPayoutsUrl,
    PaytmPgUrl,
    PaytmPrepaidUrl,
    PaytmWalletUrl,
    StatusPollerSettings,
    load_settings,
)

SETTLEMENT_ENVIRONMENT = {
    "PAYOUTS_TABLE_NAME": "tijori-PayoutsTable",
    "PAYOUT_QUEUE_URL": "https://sqs.ap-south-1.amazonaws.com/123456789012/tijori-PayoutQueue",
    "MERCHANT_SECRET_NAME": "tijori-merchant",
    "PAYTM_WALLET_BASE_URL": "https://trust.paytm.in",
    "PAYTM_PG_BASE_URL": "https://secure.paytmpayments.com",
    "PAYMENTS_TABLE_NAME": "tijori-PaymentsTable",
    "REFUNDS_TABLE_NAME": "tijori-RefundsTable",
    "VALIDATIONS_TABLE_NAME": "tijori-PayeeValidationsTable",
    "RECONCILIATION_TABLE_NAME": "tijori-ReconciliationTable",
    "PAYTM_PAYOUTS_BASE_URL": "https://dashboard.paytm.com",
}


@pytest.mark.parametrize(
    ("model", "variable", "url"),
    [
        (PaytmWalletUrl, "PAYTM_WALLET_BASE_URL", "https://trust.paytm.in"),
        (PaytmPayoutsUrl, "PAYTM_PAYOUTS_BASE_URL", "https://dashboard.paytm.com"),
        (PaytmPgUrl, "PAYTM_PG_BASE_URL", "https://secure.paytmpayments.com"),
        (PaytmAccountsUrl, "PAYTM_ACCOUNTS_BASE_URL", "https://accounts.paytm.com"),
        (PaytmPrepaidUrl, "PAYTM_PREPAID_BASE_URL", "https://prepaid.example.in/api"),
    ],
)
def test_each_paytm_family_reads_its_own_base_url_variable(
    model: type[BaseModel], variable: str, url: str
) -> None:
    others = {"PAYTM_OTHER_BASE_URL": "https://elsewhere.paytm.in"}
    settings = load_settings(model, {variable: url, **others})
    assert list(settings.model_dump().values()) == [url]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765",
        "http://127.0.0.1:9/paytm",
        "https://trust.paytm.in/",
        "http://trust-uat.paytm.in",
    ],
)
def test_a_base_url_may_be_http_or_https_with_a_path(url: str) -> None:
    assert load_settings(PaytmPgUrl, {"PAYTM_PG_BASE_URL": url}).paytm_pg_base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "trust.paytm.in",
        "ftp://trust.paytm.in",
        "https://",
        "https:///wallet-web",
        "https://trust paytm.in",
    ],
)
def test_a_base_url_that_is_not_an_http_url_fails_naming_the_variable(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"PAYTM_PG_BASE_URL: .*http:// or https:// URL"):
        load_settings(PaytmPgUrl, {"PAYTM_PG_BASE_URL": url})


@pytest.mark.parametrize(
    ("model", "families"),
    [
        (IntakeSettings, {"PAYTM_PG_BASE_URL", "PAYTM_ACCOUNTS_BASE_URL"}),
        (
            PayoutWorkerSettings,
            {
                "PAYTM_WALLET_BASE_URL",
                "PAYTM_PAYOUTS_BASE_URL",
                "PAYTM_PG_BASE_URL",
                "PAYTM_PREPAID_BASE_URL",
            },
        ),
        (StatusPollerSettings, {"PAYTM_WALLET_BASE_URL", "PAYTM_PAYOUTS_BASE_URL", "PAYTM_PG_BASE_URL"}),
        (CallbackSettings, set()),
    ],
)
def test_each_function_declares_the_paytm_families_it_calls(
    model: type[BaseModel], families: set[str]
) -> None:
    declared = {name.upper() for name in model.model_fields if name.startswith("paytm_")}
    assert declared == families


@pytest.mark.parametrize("missing", ["PAYTM_WALLET_BASE_URL", "PAYTM_PG_BASE_URL"])
def test_a_settling_function_without_one_of_its_base_urls_fails_naming_it(missing: str) -> None:
    environment = {name: value for name, value in SETTLEMENT_ENVIRONMENT.items() if name != missing}
    with pytest.raises(ConfigurationError, match=f"{missing}: Field required"):
        load_settings(PayoutWorkerSettings, environment)


def test_a_settling_function_keeps_each_familys_url_apart() -> None:
    settings = load_settings(PayoutWorkerSettings, SETTLEMENT_ENVIRONMENT)
    assert settings.paytm_wallet_base_url == "https://trust.paytm.in"
    assert settings.paytm_pg_base_url == "https://secure.paytmpayments.com"
