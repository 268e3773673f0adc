"""Key rotation: what Paytm sends is accepted under the current key, then the previous one;
what Tijori sends is signed (or encrypted) with the current key only."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx
import pytest

from paytm_signing import (
    InvalidTokenError,
    MerchantCredentials,
    MerchantCredentialsError,
    RotatingKey,
    decrypt_token_current_or_previous,
    encrypt_token,
    generate_signature,
    verify_signature,
    verify_signature_current_or_previous,
)
from tijori.paytm.wallet_client import CHECK_STATUS_PATH, PaytmWalletClient

CURRENT = "CurrentTijoriK16"
PREVIOUS = "PreviousTijoriK1"
STRANGER = "StrangerTijoriK1"
PREPAID_CURRENT = "CurrentPrepaidTestKey#24"
PREPAID_PREVIOUS = "PreviousPrepaidTstKey#24"
BODY = '{"orderId":"ROT-1","status":"SUCCESS"}'


@pytest.mark.parametrize("signing_key", [CURRENT, PREVIOUS])
def test_a_signature_under_the_current_or_the_previous_key_verifies(signing_key: str) -> None:
    signature = generate_signature(BODY, signing_key)
    assert verify_signature_current_or_previous(BODY, RotatingKey(CURRENT, PREVIOUS), signature)


def test_a_signature_under_the_previous_key_is_refused_once_it_is_dropped() -> None:
    signature = generate_signature(BODY, PREVIOUS)
    assert not verify_signature_current_or_previous(BODY, RotatingKey(CURRENT), signature)


def test_a_signature_under_another_key_is_refused_during_rotation() -> None:
    signature = generate_signature({"ORDERID": "ROT-1", "STATUS": "TXN_SUCCESS"}, STRANGER)
    params = {"ORDERID": "ROT-1", "STATUS": "TXN_SUCCESS"}
    assert not verify_signature_current_or_previous(params, RotatingKey(CURRENT, PREVIOUS), signature)


@pytest.mark.parametrize("encrypting_key", [PREPAID_CURRENT, PREPAID_PREVIOUS])
def test_a_token_under_the_current_or_the_previous_key_decrypts(encrypting_key: str) -> None:
    token = encrypt_token({"amount": "100"}, encrypting_key)
    key = RotatingKey(PREPAID_CURRENT, PREPAID_PREVIOUS)
    assert decrypt_token_current_or_previous(token, key) == {"amount": "100"}


def test_a_token_under_the_previous_key_is_refused_once_it_is_dropped() -> None:
    token = encrypt_token({"amount": "100"}, PREPAID_PREVIOUS)
    with pytest.raises(InvalidTokenError, match="another key"):
        decrypt_token_current_or_previous(token, RotatingKey(PREPAID_CURRENT))


def test_rotating_key_repr_never_shows_a_key() -> None:
    shown = repr(RotatingKey(CURRENT, PREVIOUS)) + str(RotatingKey(CURRENT, PREVIOUS))
    assert CURRENT not in shown
    assert PREVIOUS not in shown


def _sent_check_status(credentials: MerchantCredentials) -> httpx.Request:
    """The checkStatus request PaytmWalletClient sends, as it leaves the client."""
    sent: list[httpx.Request] = []

    def paytm(request: httpx.Request) -> httpx.Response:
        # Captures the request; the answer is not what these tests are about.
        sent.append(request)
        return httpx.Response(200, json={"status": "FAILURE", "statusCode": "STUC_1009"})

    async def check() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(paytm)) as http:
            await PaytmWalletClient(http, "https://paytm.test", credentials).check_status(
                "ROT-1", timeout=1.0
            )

    asyncio.run(check())
    (request,) = sent
    assert request.url.path == CHECK_STATUS_PATH
    return request


def test_wallet_requests_are_signed_with_the_current_key_only(merchant_credentials: dict[str, Any]) -> None:
    secret = copy.deepcopy(merchant_credentials)
    secret["wallet"].update(aes_key=CURRENT, previous_aes_key=PREVIOUS)
    request = _sent_check_status(MerchantCredentials.from_mapping(secret))
    body = request.content.decode("utf-8")
    assert json.loads(body)["request"]["txnId"] == "ROT-1"
    assert verify_signature(body, CURRENT, request.headers["checksumhash"])
    assert not verify_signature(body, PREVIOUS, request.headers["checksumhash"])


def test_wallet_requests_are_signed_with_the_wallet_key_never_another_products(
    merchant_credentials: dict[str, Any],
) -> None:
    request = _sent_check_status(MerchantCredentials.from_mapping(merchant_credentials))
    body, checksum = request.content.decode("utf-8"), request.headers["checksumhash"]
    assert request.headers["mid"] == merchant_credentials["mid"]
    assert json.loads(body)["request"]["merchantGuid"] == merchant_credentials["wallet"]["merchant_guid"]
    assert verify_signature(body, merchant_credentials["wallet"]["aes_key"], checksum)
    for product in ("pg", "payouts"):
        assert not verify_signature(body, merchant_credentials[product]["merchant_key"], checksum)


def test_a_wallet_client_for_a_secret_without_a_wallet_section_fails_naming_it(
    merchant_credentials: dict[str, Any],
) -> None:
    pg_only = MerchantCredentials.from_mapping(
        {"mid": "TIJORIPG0000000001", "pg": merchant_credentials["pg"]}
    )
    with pytest.raises(MerchantCredentialsError, match="has no wallet section"):
        PaytmWalletClient(httpx.AsyncClient(), "https://paytm.test", pg_only)
