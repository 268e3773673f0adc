"""Seed 001: wallet validation — ACCEPTED, then a signed callback and the status query."""

from __future__ import annotations

from decimal import Decimal

from paytm_signing import MerchantCredentials, verify_signature
from tijori_local.sim.client import SimClient
from tijori_local.sim.receiver import CallbackReceiver
from tijori_local.sim.wire import loads

VALIDATE = "/bpay/api/v1/beneficiary/validate"


def test_seed_sample_request_is_accepted_in_the_seed_shape(client: SimClient) -> None:
    # The seed's curl body, with this merchant's payouts sub-wallet.
    guid = client.credentials.payouts.subwallet_guid
    body = (
        f'{{"subwalletGuid":"{guid}","orderId":"ORDERID_98765", "beneficiaryPhoneNo":"8001234891"}}'.encode()
    )

    answer = client.bpay_post(VALIDATE, body)

    assert answer == {"status": "ACCEPTED", "statusCode": "DE_002", "statusMessage": "Request accepted"}


def test_valid_wallet_gets_a_signed_success_callback_and_the_penny(
    client: SimClient, receiver: CallbackReceiver, credentials: MerchantCredentials
) -> None:
    user = client.user(phone="8001234891")
    payouts = f"merchant:{credentials.payouts.subwallet_guid}"
    before = Decimal(client.balances()[payouts])

    client.validate_wallet("VAL-1", "8001234891", callbackUrl=f"{receiver.url}/paytm/validation")

    (callback,) = receiver.wait_for(1)
    assert callback.path == "/paytm/validation"
    assert callback.headers["x-mid"] == credentials.mid
    assert verify_signature(callback.body, client.payouts_key, callback.headers["x-checksum"])
    payload = loads(callback.body)
    assert (payload["status"], payload["statusCode"]) == ("SUCCESS", "DE_001")
    assert payload["result"]["orderId"] == "VAL-1"
    balances = client.balances()
    assert Decimal(balances[payouts]) == before - Decimal("1.00")
    assert Decimal(balances[f"user:{user['sso_id']}"]) == Decimal("1.00")
    assert client.conservation()["ok"] is True


def test_status_query_answers_the_final_status(client: SimClient) -> None:
    client.user(phone="8001234891", kyc=False)
    client.validate_wallet("VAL-2", "8001234891")

    answer = client.validation_status("VAL-2")

    assert (answer["status"], answer["statusCode"]) == ("SUCCESS", "DE_1222")
    assert answer["result"]["orderId"] == "VAL-2"


def test_unknown_user_fails_with_de_702(client: SimClient, receiver: CallbackReceiver) -> None:
    client.validate_wallet("VAL-3", "8001234892", callbackUrl=receiver.url)
    (callback,) = receiver.wait_for(1)
    assert loads(callback.body)["statusCode"] == "DE_702"
    assert client.validation_status("VAL-3")["status"] == "FAILURE"


def test_scripted_pending_validation_stays_pending_until_resolved(
    client: SimClient, receiver: CallbackReceiver
) -> None:
    client.user(phone="8001234891")
    client.control("POST", "script", {"order_id": "VAL-4", "outcome": "PENDING"})
    client.validate_wallet("VAL-4", "8001234891", callbackUrl=receiver.url)
    assert client.validation_status("VAL-4")["statusCode"] == "DE_101"

    client.control("POST", "orders/VAL-4/resolve", {"outcome": "SUCCESS"})

    (callback,) = receiver.wait_for(1)
    assert loads(callback.body)["statusCode"] == "DE_001"
    assert client.validation_status("VAL-4")["status"] == "SUCCESS"


def test_the_answer_carries_the_penny_only_when_it_moved(client: SimClient) -> None:
    client.user(phone="8001234893")
    client.user(phone="8001234894", kyc=False)
    client.user(phone="8001234895", limits={"max_balance": "0.50"})
    for order_id, phone in (("VAL-P1", "8001234893"), ("VAL-P2", "8001234894"), ("VAL-P3", "8001234895")):
        client.validate_wallet(order_id, phone)
    moved = client.validation_status("VAL-P1")
    assert (moved["statusCode"], moved["result"]["amount"]) == ("DE_001", "1.00")
    for order_id, code in (("VAL-P2", "DE_1222"), ("VAL-P3", "DE_1223")):
        answer = client.validation_status(order_id)
        assert answer["statusCode"] == code
        assert "amount" not in answer["result"]
    client.validate_wallet("VAL-P4", "8001234896")  # no such user
    assert "amount" not in client.validation_status("VAL-P4")["result"]
    assert client.conservation()["ok"] is True


def test_a_dropped_callback_is_never_posted_and_is_listed_as_dropped(
    client: SimClient, receiver: CallbackReceiver
) -> None:
    client.user(phone="8001234897")
    client.fault("drop_callback", path=VALIDATE, order_id="VAL-DROP")
    client.validate_wallet("VAL-DROP", "8001234897", callbackUrl=receiver.url)
    client.validate_wallet("VAL-KEPT", "8001234897", callbackUrl=receiver.url)
    (delivered,) = receiver.wait_for(1)
    assert loads(delivered.body)["result"]["orderId"] == "VAL-KEPT"
    kinds = {
        loads(sent["body"])["result"]["orderId"]: sent["kind"] for sent in client.control("GET", "callbacks")
    }
    assert kinds["VAL-DROP"] == "dropped"
    assert client.validation_status("VAL-DROP")["statusCode"] == "DE_001"


def test_the_request_log_counts_validate_calls_and_status_queries_by_order_id(client: SimClient) -> None:
    client.user(phone="8001234898")
    client.validate_wallet("VAL-LOG", "8001234898")
    client.validation_status("VAL-LOG")
    client.validation_status("VAL-LOG")
    log = client.control("GET", "requests?order_id=VAL-LOG")
    assert log["sequence"] == [
        VALIDATE,
        "/bpay/api/v1/disburse/order/query",
        "/bpay/api/v1/disburse/order/query",
    ]
