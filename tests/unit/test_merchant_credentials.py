"""Merchant credentials: validated once, errors name the field, loaded through Parameters."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from paytm_signing import MerchantCredentials, MerchantCredentialsError, load_merchant_credentials


def test_valid_credentials_load_and_hide_secrets(merchant_credentials: dict[str, str]) -> None:
    credentials = MerchantCredentials.from_mapping(merchant_credentials)
    assert credentials.mid == merchant_credentials["mid"]
    assert credentials.merchant_key.get_secret_value() == merchant_credentials["merchant_key"]
    shown = repr(credentials) + str(credentials)
    for secret in ("merchant_key", "client_secret", "prepaid_aes_key"):
        assert merchant_credentials[secret] not in shown


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"mid": None}, "mid", id="missing mid"),
        pytest.param(
            {"merchant_key": "tooshort"}, "merchant_key: .*16, 24 or 32 bytes.*got 8", id="short key"
        ),
        pytest.param({"prepaid_aes_key": "k" * 16}, "prepaid_aes_key: .*24 bytes.*got 16", id="prepaid 16"),
        pytest.param({"sales_wallet_guid": ""}, "sales_wallet_guid", id="empty guid"),
        pytest.param({"client_secret": ""}, "client_secret", id="empty client secret"),
    ],
)
def test_invalid_credentials_name_the_field(
    merchant_credentials: dict[str, str], change: dict[str, Any], message: str
) -> None:
    data: dict[str, Any] = dict(merchant_credentials)
    for field, value in change.items():
        if value is None:
            del data[field]
        else:
            data[field] = value
    with pytest.raises(MerchantCredentialsError, match=message):
        MerchantCredentials.from_mapping(data)


def test_error_never_echoes_secret_values(merchant_credentials: dict[str, str]) -> None:
    data = dict(merchant_credentials, merchant_key="secret-but-wrong-length")
    with pytest.raises(MerchantCredentialsError) as caught:
        MerchantCredentials.from_mapping(data)
    assert "secret-but-wrong-length" not in str(caught.value)


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
    secrets_client: Any, merchant_credentials: dict[str, str]
) -> None:
    secrets_client.create_secret(Name="tijori/merchant", SecretString=json.dumps(merchant_credentials))
    first = load_merchant_credentials("tijori/merchant", max_age=300)
    rotated = dict(merchant_credentials, mid="ROTATEDMID000000001")
    secrets_client.put_secret_value(SecretId="tijori/merchant", SecretString=json.dumps(rotated))
    assert load_merchant_credentials("tijori/merchant", max_age=300).mid == first.mid
    assert load_merchant_credentials("tijori/merchant", force_fetch=True).mid == "ROTATEDMID000000001"


def test_load_reports_a_secret_that_is_not_json(secrets_client: Any) -> None:
    secrets_client.create_secret(Name="tijori/broken", SecretString="mid=abc")
    with pytest.raises(MerchantCredentialsError, match="not valid JSON"):
        load_merchant_credentials("tijori/broken")


def test_load_reports_a_missing_secret(secrets_client: Any) -> None:
    with pytest.raises(MerchantCredentialsError, match="could not be read"):
        load_merchant_credentials("tijori/absent")


def test_load_names_invalid_fields_of_the_stored_secret(secrets_client: Any) -> None:
    secrets_client.create_secret(Name="tijori/empty", SecretString="{}")
    with pytest.raises(MerchantCredentialsError, match="merchant_key") as caught:
        load_merchant_credentials("tijori/empty")
    assert "tijori/empty" in str(caught.value)


def test_previous_keys_are_optional_and_absent_by_default(merchant_credentials: dict[str, str]) -> None:
    credentials = MerchantCredentials.from_mapping(merchant_credentials)
    assert credentials.checksum_key.accepted == (merchant_credentials["merchant_key"],)
    assert credentials.prepaid_key.accepted == (merchant_credentials["prepaid_aes_key"],)


def test_previous_keys_are_accepted_after_the_current_ones_and_hidden(
    merchant_credentials: dict[str, str],
) -> None:
    data = dict(
        merchant_credentials,
        previous_merchant_key="OldTijoriKey#016",
        previous_client_secret="old-client-secret",
        previous_prepaid_aes_key="OldPrepaidTestKey#24bytes"[:24],
    )
    credentials = MerchantCredentials.from_mapping(data)
    assert credentials.checksum_key.accepted == (merchant_credentials["merchant_key"], "OldTijoriKey#016")
    assert credentials.prepaid_key.accepted == (
        merchant_credentials["prepaid_aes_key"],
        data["previous_prepaid_aes_key"],
    )
    assert credentials.client_secret_in_rotation.previous == "old-client-secret"
    shown = (
        repr(credentials) + str(credentials) + repr(credentials.checksum_key) + repr(credentials.prepaid_key)
    )
    for secret in ("previous_merchant_key", "previous_client_secret", "previous_prepaid_aes_key"):
        assert data[secret] not in shown


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"previous_merchant_key": "tooshort"},
            "previous_merchant_key: .*16, 24 or 32 bytes.*got 8",
            id="short previous key",
        ),
        pytest.param(
            {"previous_prepaid_aes_key": "k" * 16},
            "previous_prepaid_aes_key: .*24 bytes.*got 16",
            id="previous prepaid 16",
        ),
        pytest.param({"previous_client_secret": ""}, "previous_client_secret", id="empty previous secret"),
    ],
)
def test_previous_keys_are_validated_like_the_current_ones(
    merchant_credentials: dict[str, str], change: dict[str, str], message: str
) -> None:
    with pytest.raises(MerchantCredentialsError, match=message) as caught:
        MerchantCredentials.from_mapping(dict(merchant_credentials, **change))
    for value in change.values():
        if value:
            assert value not in str(caught.value)
