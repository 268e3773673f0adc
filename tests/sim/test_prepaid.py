"""Seed 003: prepaid creditAccount with the encrypted token envelope."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tijori_local.sim.client import SimClient

URN = "70000000008"


def seed_request(**overrides: Any) -> dict[str, Any]:
    """The seed's decrypted sample request (its `loadCurrency` "RM" kept as given)."""
    request: dict[str, Any] = {
        "messageCode": "1080",
        "clientTxnId": "GOUd789hhhjfscs",
        "requestDateTime": "20220302153029",
        "urn": 70000000008,
        "transactionAmount": 1000,
        "sender": "AMAZON",
        "loadCurrency": "RM",
        "sourceType": 0,
        "subWalletId": "MOB5378a27c_1",
        "implId": "I|70130",
        "implType": "P2M_A2W_I",
        "fundFlowType": "I",
        "fee": 0,
    }
    request.update(overrides)
    return {k: v for k, v in request.items() if v is not None}


@pytest.fixture
def wallet(client: SimClient) -> dict[str, Any]:
    result: dict[str, Any] = client.control(
        "POST", "prepaid", {"urn": URN, "customer_id": "130172", "subwallet_id": "MOB5378a27c_1"}
    )
    return result


@pytest.mark.usefixtures("wallet")
def test_seed_sample_load_answers_1081_in_the_seed_shape_and_credits_the_wallet(client: SimClient) -> None:
    status, answer = client.credit_account(seed_request())

    assert status == 200
    assert {
        "urn",
        "customerId",
        "responseCode",
        "messageCode",
        "clientTxnId",
        "responseMessage",
        "accosaRefNo",
        "availableBalance",
        "availableCashLimit",
        "transactionAmount",
    } <= set(answer)
    assert (answer["responseCode"], answer["messageCode"], answer["responseMessage"]) == (
        "00",
        1081,
        "SUCCESS",
    )
    assert (answer["transactionAmount"], answer["availableBalance"], answer["availableCashLimit"]) == (
        1000,
        1000,
        0,
    )
    assert answer["customerId"] == "130172"
    assert Decimal(client.balances()[f"prepaid:{URN}"]) == Decimal("10.00")
    assert client.conservation()["ok"] is True


@pytest.mark.usefixtures("wallet")
def test_duplicate_client_txn_id_is_refused_and_loads_once(client: SimClient) -> None:
    client.credit_account(seed_request())
    _, again = client.credit_account(seed_request())
    assert again["responseCode"] == "1093"
    assert Decimal(client.balances()[f"prepaid:{URN}"]) == Decimal("10.00")


def test_a_token_under_another_key_is_http_400_invalid_message(client: SimClient) -> None:
    response = client.http.patch(
        "/mob1/api/onboarding/v1/creditAccount", content=b'{"token":"bm90IGEgdG9rZW4gYXQgYWxsIQ=="}'
    )
    assert response.status_code == 400
