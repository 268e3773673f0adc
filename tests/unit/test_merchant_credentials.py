"""Merchant credentials: one section per product, each optional and asked for by the code that
needs it; the flat format of before still read; validated once, errors name the field; loaded
through Parameters."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from paytm_signing import PRODUCTS, MerchantCredentials, MerchantCredentialsError, load_merchant_credentials

WALLET_ONLY: dict[str, Any] = {
    "mid": "TIJORITEST000000001",
    "wallet": {
        "aes_key": "WalletOnlyKey#16",
        "merchant_guid": "6c119d23-9ae0-42ea-bb8c-b180ca4d3efb",
        "sales_wallet_guid": "3856aa1a-4a26-11e9-af8f-fa163e429e83",
    },
}


def _changed(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `data` with the dotted `path` set to `value` (None: removed)."""
    changed = copy.deepcopy(data)
    *parents, name = path.split(".")
    target = changed
    for parent in parents:
        target = target[parent]
    if value is None:
        del target[name]
    else:
        target[name] = value
    return changed


def _every_secret_value(data: dict[str, Any]) -> list[str]:
    return [
        value
        for section in data.values()
        if isinstance(section, dict)
        for name, value in section.items()
        if "key" in name or "secret" in name
    ]


# ---- one section per product ----------------------------------------------------------------


def test_the_test_merchant_has_a_different_key_for_every_product(
    merchant_credentials: dict[str, Any],
) -> None:
    # The premise of the whole suite: a call signed with another product's key cannot pass.
    keys = [
        merchant_credentials["wallet"]["aes_key"],
        merchant_credentials["payouts"]["merchant_key"],
        merchant_credentials["pg"]["merchant_key"],
        merchant_credentials["prepaid"]["aes_key"],
    ]
    assert len(set(keys)) == len(keys)
    assert set(merchant_credentials) == {"mid", *PRODUCTS}


def test_per_product_credentials_keep_each_products_keys_apart_and_hide_them(
    merchant_credentials: dict[str, Any],
) -> None:
    credentials = MerchantCredentials.from_mapping(merchant_credentials)
    assert credentials.products == PRODUCTS
    assert credentials.mid == merchant_credentials["mid"]
    assert credentials.wallet.checksum_key.current == merchant_credentials["wallet"]["aes_key"]
    assert credentials.wallet.merchant_guid == merchant_credentials["wallet"]["merchant_guid"]
    assert credentials.wallet.sales_wallet_guid == merchant_credentials["wallet"]["sales_wallet_guid"]
    assert credentials.payouts.checksum_key.current == merchant_credentials["payouts"]["merchant_key"]
    assert credentials.payouts.subwallet_guid == merchant_credentials["payouts"]["subwallet_guid"]
    assert credentials.pg.checksum_key.current == merchant_credentials["pg"]["merchant_key"]
    assert credentials.pg.website_name == merchant_credentials["pg"]["website_name"]
    assert credentials.auto_debit.client_id == merchant_credentials["auto_debit"]["client_id"]
    assert (
        credentials.auto_debit.client_secret_in_rotation.current
        == merchant_credentials["auto_debit"]["client_secret"]
    )
    assert credentials.prepaid.token_key.current == merchant_credentials["prepaid"]["aes_key"]
    shown = repr(credentials) + str(credentials)
    for secret in _every_secret_value(merchant_credentials):
        assert secret not in shown


def test_a_wallet_only_secret_loads_and_serves_the_wallet() -> None:
    credentials = MerchantCredentials.from_mapping(WALLET_ONLY)
    assert credentials.products == ("wallet",)
    assert credentials.wallet.checksum_key.current == "WalletOnlyKey#16"


@pytest.mark.parametrize(
    ("product", "names"),
    [
        ("payouts", "payouts.merchant_key and payouts.subwallet_guid"),
        ("pg", "pg.merchant_key and pg.website_name"),
        ("auto_debit", "auto_debit.client_id and auto_debit.client_secret"),
        ("prepaid", "prepaid.aes_key"),
    ],
)
def test_asking_a_wallet_only_secret_for_another_product_names_the_missing_section(
    product: str, names: str
) -> None:
    credentials = MerchantCredentials.from_mapping(WALLET_ONLY)
    with pytest.raises(MerchantCredentialsError, match=f"has no {product} section: .*need") as caught:
        getattr(credentials, product)
    assert names in str(caught.value)


@pytest.mark.parametrize(
    "products",
    [("wallet",), ("payouts",), ("pg",), ("pg", "auto_debit"), ("prepaid",), ("wallet", "payouts")],
)
def test_a_secret_needs_only_the_sections_of_the_products_it_uses(
    merchant_credentials: dict[str, Any], products: tuple[str, ...]
) -> None:
    data = {"mid": merchant_credentials["mid"], **{name: merchant_credentials[name] for name in products}}
    assert MerchantCredentials.from_mapping(data).products == products


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        pytest.param("mid", None, "mid: Field required", id="missing mid"),
        pytest.param(
            "pg.merchant_key",
            "tooshort",
            "pg.merchant_key: .*must be 16, 24 or 32 bytes.*got 8",
            id="short pg key",
        ),
        pytest.param(
            "wallet.aes_key", "k" * 20, "wallet.aes_key: .*16, 24 or 32 bytes.*got 20", id="wallet key of 20"
        ),
        pytest.param(
            "payouts.merchant_key", "k" * 33, "payouts.merchant_key: .*got 33", id="payouts key of 33"
        ),
        pytest.param("prepaid.aes_key", "k" * 16, "prepaid.aes_key: .*24 bytes.*got 16", id="prepaid 16"),
        pytest.param("wallet.sales_wallet_guid", "", "wallet.sales_wallet_guid", id="empty guid"),
        pytest.param("wallet.merchant_guid", None, "wallet.merchant_guid: Field required", id="no guid"),
        pytest.param(
            "payouts.subwallet_guid", None, "payouts.subwallet_guid: Field required", id="no sub-wallet"
        ),
        pytest.param("pg.website_name", None, "pg.website_name: Field required", id="no website name"),
        pytest.param("auto_debit.client_secret", "", "auto_debit.client_secret: .*empty", id="empty secret"),
        pytest.param("auto_debit.client_id", None, "auto_debit.client_id: Field required", id="no client id"),
        pytest.param("pg", "a string", "pg: ", id="section not an object"),
        pytest.param(
            "auto_debit.channel", "APP", "auto_debit.channel: Input should be 'WEB' or 'WAP'", id="channel"
        ),
        pytest.param("auto_debit.scope", "", "auto_debit.scope: .*at least 1", id="empty scope"),
        pytest.param("auto_debit.industry_type", "", "auto_debit.industry_type: .*at least 1", id="industry"),
    ],
)
def test_invalid_per_product_credentials_name_the_field(
    merchant_credentials: dict[str, Any], path: str, value: Any, message: str
) -> None:
    with pytest.raises(MerchantCredentialsError, match=message):
        MerchantCredentials.from_mapping(_changed(merchant_credentials, path, value))


@pytest.mark.parametrize(
    "data",
    [{}, {"mid": "TIJORITEST000000001"}, {"mid": "TIJORITEST000000001", "pg": None}],
    ids=["empty", "mid only", "null section"],
)
def test_a_secret_without_any_product_section_is_refused_naming_the_sections(data: dict[str, Any]) -> None:
    with pytest.raises(MerchantCredentialsError, match="no product section") as caught:
        MerchantCredentials.from_mapping(data)
    assert "wallet, payouts, pg, auto_debit, prepaid" in str(caught.value)


def test_a_secret_mixing_sections_and_flat_fields_is_refused_naming_both() -> None:
    data = dict(WALLET_ONLY, merchant_key="FlatMerchantK#16")
    with pytest.raises(MerchantCredentialsError, match=r"mixes product sections \(wallet\)") as caught:
        MerchantCredentials.from_mapping(data)
    assert "(merchant_key)" in str(caught.value)
    assert "FlatMerchantK#16" not in str(caught.value)


def test_error_never_echoes_secret_values(merchant_credentials: dict[str, Any]) -> None:
    data = _changed(merchant_credentials, "pg.merchant_key", "secret-but-wrong-length")
    with pytest.raises(MerchantCredentialsError) as caught:
        MerchantCredentials.from_mapping(data)
    assert "secret-but-wrong-length" not in str(caught.value)


def test_an_auto_debit_section_of_before_loads_with_the_seeds_sample_values(
    merchant_credentials: dict[str, Any],
) -> None:
    auto_debit = MerchantCredentials.from_mapping(merchant_credentials).auto_debit

    assert "scope" not in merchant_credentials["auto_debit"]
    assert (auto_debit.scope, auto_debit.response_type, auto_debit.industry_type, auto_debit.channel) == (
        "wallet",
        "token",
        "Retail",
        "WEB",
    )


def test_the_auto_debit_section_holds_what_paytm_shares_for_otp_and_payments(
    merchant_credentials: dict[str, Any],
) -> None:
    data = copy.deepcopy(merchant_credentials)
    data["auto_debit"] |= {
        "scope": "paytm",
        "response_type": "code",
        "industry_type": "Retail109",
        "channel": "WAP",
    }

    auto_debit = MerchantCredentials.from_mapping(data).auto_debit

    assert (auto_debit.scope, auto_debit.response_type, auto_debit.industry_type, auto_debit.channel) == (
        "paytm",
        "code",
        "Retail109",
        "WAP",
    )


def test_a_flat_secret_gets_the_auto_debit_defaults(flat_merchant_credentials: dict[str, str]) -> None:
    auto_debit = MerchantCredentials.from_mapping(flat_merchant_credentials).auto_debit

    assert (auto_debit.scope, auto_debit.industry_type, auto_debit.channel) == ("wallet", "Retail", "WEB")


# ---- rotation, per product --------------------------------------------------------------------


def test_previous_keys_are_optional_and_absent_by_default(merchant_credentials: dict[str, Any]) -> None:
    credentials = MerchantCredentials.from_mapping(merchant_credentials)
    assert credentials.wallet.checksum_key.accepted == (merchant_credentials["wallet"]["aes_key"],)
    assert credentials.payouts.checksum_key.accepted == (merchant_credentials["payouts"]["merchant_key"],)
    assert credentials.pg.checksum_key.accepted == (merchant_credentials["pg"]["merchant_key"],)
    assert credentials.prepaid.token_key.accepted == (merchant_credentials["prepaid"]["aes_key"],)
    assert credentials.auto_debit.client_secret_in_rotation.previous is None


def test_each_product_rotates_its_own_key_and_previous_keys_stay_hidden(
    merchant_credentials: dict[str, Any],
) -> None:
    data = copy.deepcopy(merchant_credentials)
    data["pg"]["previous_merchant_key"] = "OldPgMerchantK16"
    data["prepaid"]["previous_aes_key"] = "OldPrepaidTestKey#24byte"
    data["auto_debit"]["previous_client_secret"] = "old-client-secret"
    credentials = MerchantCredentials.from_mapping(data)
    assert credentials.pg.checksum_key.accepted == (data["pg"]["merchant_key"], "OldPgMerchantK16")
    assert credentials.prepaid.token_key.accepted == (data["prepaid"]["aes_key"], "OldPrepaidTestKey#24byte")
    assert credentials.auto_debit.client_secret_in_rotation.previous == "old-client-secret"
    # A rotation of the PG key leaves the other products' keys alone.
    assert credentials.wallet.checksum_key.previous is None
    assert credentials.payouts.checksum_key.previous is None
    shown = repr(credentials) + str(credentials) + repr(credentials.pg.checksum_key)
    for secret in ("OldPgMerchantK16", "OldPrepaidTestKey#24byte", "old-client-secret"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        pytest.param("pg.previous_merchant_key", "tooshort", "pg.previous_merchant_key: .*got 8", id="pg"),
        pytest.param("wallet.previous_aes_key", "tooshort", "wallet.previous_aes_key: .*got 8", id="wallet"),
        pytest.param(
            "payouts.previous_merchant_key",
            "tooshort",
            "payouts.previous_merchant_key: .*got 8",
            id="payouts",
        ),
        pytest.param(
            "prepaid.previous_aes_key", "k" * 16, "prepaid.previous_aes_key: .*24 bytes", id="prepaid"
        ),
        pytest.param(
            "auto_debit.previous_client_secret", "", "auto_debit.previous_client_secret", id="client secret"
        ),
    ],
)
def test_previous_keys_are_validated_like_the_current_ones(
    merchant_credentials: dict[str, Any], path: str, value: str, message: str
) -> None:
    with pytest.raises(MerchantCredentialsError, match=message) as caught:
        MerchantCredentials.from_mapping(_changed(merchant_credentials, path, value))
    if value:
        assert value not in str(caught.value)


# ---- the flat format of before ------------------------------------------------------------------


def test_a_flat_secret_maps_every_product_to_its_one_merchant_key(
    flat_merchant_credentials: dict[str, str],
) -> None:
    flat = flat_merchant_credentials
    credentials = MerchantCredentials.from_mapping(flat)
    assert credentials.products == PRODUCTS
    assert credentials.mid == flat["mid"]
    assert credentials.wallet.checksum_key.current == flat["merchant_key"]
    assert credentials.payouts.checksum_key.current == flat["merchant_key"]
    assert credentials.pg.checksum_key.current == flat["merchant_key"]
    assert credentials.wallet.merchant_guid == flat["merchant_guid"]
    assert credentials.wallet.sales_wallet_guid == flat["sales_wallet_guid"]
    assert credentials.payouts.subwallet_guid == flat["payouts_subwallet_guid"]
    assert credentials.pg.website_name == flat["website_name"]
    assert credentials.auto_debit.client_id == flat["client_id"]
    assert credentials.auto_debit.client_secret_in_rotation.current == flat["client_secret"]
    assert credentials.prepaid.token_key.current == flat["prepaid_aes_key"]


def test_a_flat_secret_rotates_its_one_key_for_every_product(
    flat_merchant_credentials: dict[str, str],
) -> None:
    data = dict(
        flat_merchant_credentials,
        previous_merchant_key="OldTijoriKey#016",
        previous_client_secret="old-client-secret",
        previous_prepaid_aes_key="OldPrepaidTestKey#24byte",
    )
    credentials = MerchantCredentials.from_mapping(data)
    both = (data["merchant_key"], "OldTijoriKey#016")
    assert credentials.wallet.checksum_key.accepted == both
    assert credentials.payouts.checksum_key.accepted == both
    assert credentials.pg.checksum_key.accepted == both
    assert credentials.prepaid.token_key.accepted == (data["prepaid_aes_key"], "OldPrepaidTestKey#24byte")
    assert credentials.auto_debit.client_secret_in_rotation.previous == "old-client-secret"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"mid": None}, "mid: Field required", id="missing mid"),
        pytest.param(
            {"merchant_key": "tooshort"}, r"\bmerchant_key: .*16, 24 or 32 bytes.*got 8", id="short key"
        ),
        pytest.param({"prepaid_aes_key": "k" * 16}, "prepaid_aes_key: .*24 bytes.*got 16", id="prepaid 16"),
        pytest.param({"sales_wallet_guid": ""}, "sales_wallet_guid", id="empty guid"),
        pytest.param({"client_secret": ""}, "client_secret", id="empty client secret"),
        # The flat format stays as it was: every product's fields are required in it.
        pytest.param({"website_name": None}, "website_name: Field required", id="no website name"),
        pytest.param(
            {"previous_merchant_key": "tooshort"}, "previous_merchant_key: .*got 8", id="short previous"
        ),
    ],
)
def test_invalid_flat_credentials_name_the_flat_field(
    flat_merchant_credentials: dict[str, str], change: dict[str, str | None], message: str
) -> None:
    data: dict[str, Any] = dict(flat_merchant_credentials)
    for field, value in change.items():
        if value is None:
            del data[field]
        else:
            data[field] = value
    with pytest.raises(MerchantCredentialsError, match=message):
        MerchantCredentials.from_mapping(data)


# ---- loading from Secrets Manager ---------------------------------------------------------------


@pytest.fixture
def secrets_client(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        parameters.clear_caches()
        yield boto3.client("secretsmanager")
        parameters.clear_caches()


def test_load_reads_the_secret_and_caches_it(
    secrets_client: Any, merchant_credentials: dict[str, Any]
) -> None:
    secrets_client.create_secret(Name="tijori/merchant", SecretString=json.dumps(merchant_credentials))
    first = load_merchant_credentials("tijori/merchant", max_age=300)
    rotated = dict(merchant_credentials, mid="ROTATEDMID000000001")
    secrets_client.put_secret_value(SecretId="tijori/merchant", SecretString=json.dumps(rotated))
    assert load_merchant_credentials("tijori/merchant", max_age=300).mid == first.mid
    assert load_merchant_credentials("tijori/merchant", force_fetch=True).mid == "ROTATEDMID000000001"


def test_load_reads_a_flat_secret_as_before(
    secrets_client: Any, flat_merchant_credentials: dict[str, str]
) -> None:
    secrets_client.create_secret(Name="tijori/flat", SecretString=json.dumps(flat_merchant_credentials))
    credentials = load_merchant_credentials("tijori/flat")
    assert credentials.wallet.checksum_key.current == flat_merchant_credentials["merchant_key"]


def test_load_reads_a_wallet_only_secret(secrets_client: Any) -> None:
    secrets_client.create_secret(Name="tijori/wallet-only", SecretString=json.dumps(WALLET_ONLY))
    assert load_merchant_credentials("tijori/wallet-only").products == ("wallet",)


def test_load_reports_a_secret_that_is_not_json(secrets_client: Any) -> None:
    secrets_client.create_secret(Name="tijori/broken", SecretString="mid=abc")
    with pytest.raises(MerchantCredentialsError, match="not valid JSON"):
        load_merchant_credentials("tijori/broken")


def test_load_reports_a_missing_secret(secrets_client: Any) -> None:
    with pytest.raises(MerchantCredentialsError, match="could not be read"):
        load_merchant_credentials("tijori/absent")


def test_load_of_the_empty_secret_the_stack_creates_names_the_sections_to_put(secrets_client: Any) -> None:
    secrets_client.create_secret(Name="tijori/empty", SecretString="{}")
    with pytest.raises(MerchantCredentialsError, match="no product section") as caught:
        load_merchant_credentials("tijori/empty")
    assert "tijori/empty" in str(caught.value)


def test_load_names_the_invalid_field_of_the_stored_secret(
    secrets_client: Any, merchant_credentials: dict[str, Any]
) -> None:
    data = _changed(merchant_credentials, "pg.merchant_key", "tooshort")
    secrets_client.create_secret(Name="tijori/bad-pg", SecretString=json.dumps(data))
    with pytest.raises(
        MerchantCredentialsError, match=r"pg\.merchant_key: .*must be 16, 24 or 32 bytes"
    ) as caught:
        load_merchant_credentials("tijori/bad-pg")
    assert "tijori/bad-pg" in str(caught.value)


def test_the_prepaid_section_holds_the_providers_iv_and_header_set(
    merchant_credentials: dict[str, Any],
) -> None:
    prepaid = MerchantCredentials.from_mapping(merchant_credentials).prepaid
    assert prepaid.token_format_for("provider") == (
        bytes.fromhex(merchant_credentials["prepaid"]["iv"]),
        False,
    )
    assert prepaid.token_format_for("authenticated") == (None, True)
    assert prepaid.header_values() == merchant_credentials["prepaid"]["headers"]
    assert "prepaid-api-key" not in repr(prepaid)


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"iv": "00" * 15}, "prepaid.iv: .*16 bytes"),
        ({"iv": "zz" * 16}, "prepaid.iv: .*32 hex digits"),
        ({"headers": {"Bad Name": "x"}}, "prepaid.headers: .*HTTP token"),
        ({"headers": {"X-Key": "line\nbreak"}}, "prepaid.headers: .*printable"),
    ],
)
def test_a_bad_prepaid_iv_or_header_is_refused_naming_it(section: dict[str, Any], problem: str) -> None:
    data = {"mid": "M", "prepaid": {"aes_key": "k" * 24, **section}}
    with pytest.raises(MerchantCredentialsError, match=problem):
        MerchantCredentials.from_mapping(data)


def test_the_providers_envelope_without_an_iv_is_refused_naming_prepaid_iv() -> None:
    prepaid = MerchantCredentials.from_mapping({"mid": "M", "prepaid": {"aes_key": "k" * 24}}).prepaid
    with pytest.raises(MerchantCredentialsError, match=r"needs prepaid\.iv"):
        prepaid.token_format_for("provider")
