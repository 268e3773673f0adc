"""Seed 000 over real HTTP: salesToUserCredit and checkStatus against the in-process simulator."""

from __future__ import annotations

import json
from decimal import Decimal

from paytm_signing import MerchantCredentials, generate_signature
from tijori_local.sim.client import SimClient, sales_to_user_credit_body
from tijori_local.sim.server import SimServer
from tijori_local.sim.state import DEFAULT_SUB_WALLET_BALANCE
from tijori_local.sim.wire import loads

ENVELOPE_KEYS = {
    "type",
    "requestGuid",
    "orderId",
    "status",
    "statusCode",
    "statusMessage",
    "response",
    "metadata",
}
TXN_KEYS = {
    "txnGuid",
    "txnAmount",
    "status",
    "message",
    "txnErrorCode",
    "ssoId",
    "txnType",
    "merchantOrderId",
    "pgTxnId",
    "pgRefundId",
    "cashbackTxnId",
    "isLimitPending",
}


def sales_balance(client: SimClient) -> Decimal:
    return Decimal(client.balances()[f"merchant:{client.credentials.wallet.sales_wallet_guid}"])


def user_balance(client: SimClient, sso_id: str) -> Decimal:
    return Decimal(client.balances().get(f"user:{sso_id}", "0.00"))


def txn(client: SimClient, order_id: str) -> dict[str, object]:
    answer = client.check_status(order_id)
    assert answer["statusCode"] == "SS_001"
    entry: dict[str, object] = answer["response"]["txnList"][0]
    return entry


def test_seed_sample_request_credits_an_existing_verified_user_in_the_seed_shape(client: SimClient) -> None:
    user = client.user(phone="7777777777", email="u7777777777@example.com")

    answer = client.credit("ORDS33954359009000")

    assert set(answer) == ENVELOPE_KEYS
    assert answer["type"] is None
    assert answer["requestGuid"] is None
    assert answer["orderId"] == "ORDS33954359009000"
    assert (answer["status"], answer["statusCode"], answer["statusMessage"]) == (
        "SUCCESS",
        "SUCCESS",
        "SUCCESS",
    )
    assert set(answer["response"]) == {"walletSysTransactionId"}
    assert answer["metadata"] == "Testing Data"
    assert user_balance(client, user["sso_id"]) == Decimal("1.00")
    assert sales_balance(client) == DEFAULT_SUB_WALLET_BALANCE - Decimal("1.00")


def test_starts_with_funded_sub_wallets_and_no_users(
    client: SimClient, credentials: MerchantCredentials
) -> None:
    balances = client.balances()
    assert Decimal(balances[f"merchant:{credentials.wallet.sales_wallet_guid}"]) == Decimal("10000000.00")
    assert Decimal(balances[f"merchant:{credentials.payouts.subwallet_guid}"]) == Decimal("10000000.00")
    assert client.control("GET", "users") == []


def test_check_status_answers_by_merchant_and_wallet_txn_id_in_the_seed_txn_list_shape(
    client: SimClient,
) -> None:
    user = client.user(phone="7777777777", email="u7777777777@example.com")
    answer = client.credit("ORD-CS-1", amount="6223.75")
    wallet_txn_id = answer["response"]["walletSysTransactionId"]

    by_order = client.check_status("ORD-CS-1", "merchanttxnid")
    by_wallet = client.check_status(wallet_txn_id, "wallettxnid")

    assert by_order == by_wallet
    assert set(by_order) == ENVELOPE_KEYS
    assert (by_order["status"], by_order["statusCode"], by_order["orderId"]) == ("SUCCESS", "SS_001", None)
    (entry,) = by_order["response"]["txnList"]
    assert set(entry) == TXN_KEYS
    assert entry["txnGuid"] == wallet_txn_id
    assert entry["txnAmount"] == Decimal("6223.75")
    assert (entry["status"], entry["message"], entry["txnErrorCode"]) == (1, "SUCCESS", None)
    assert entry["ssoId"] == user["sso_id"]
    assert entry["txnType"] == "SALES_TO_USER_CREDIT"
    assert (entry["pgTxnId"], entry["pgRefundId"], entry["cashbackTxnId"]) == ("null", "null", None)
    assert entry["isLimitPending"] is False


def test_txn_amount_is_a_json_number_not_text(client: SimClient) -> None:
    client.user(phone="7777777777", email="u7777777777@example.com")
    client.credit("ORD-NUM", amount="10")
    raw = client.wallet_post(
        "/wallet-web/checkStatus",
        {
            "request": {
                "requestType": "merchanttxnid",
                "txnType": "SALES_TO_USER_CREDIT",
                "txnId": "ORD-NUM",
                "merchantGuid": client.credentials.wallet.merchant_guid,
            },
            "platformName": "PayTM",
            "operationType": "CHECK_TXN_STATUS",
        },
    ).text
    assert '"txnAmount":10,' in raw


def test_mode_1_verify_then_null_moves_no_money_on_verify_and_keeps_the_order_id_free(
    client: SimClient,
) -> None:
    client.user(
        phone="7777777777", email="u7777777777@example.com", mobile_verified=True, email_verified=True
    )
    before = sales_balance(client)

    verify = client.credit("ORD-V1", requestType="VERIFY")

    assert (verify["status"], verify["statusCode"], verify["response"]) == ("SUCCESS", "SUCCESS", True)
    assert sales_balance(client) == before
    credit = client.credit("ORD-V1", requestType="NULL")
    assert credit["status"] == "SUCCESS"


def test_mode_1_verify_says_false_for_an_unverified_or_unknown_payee(client: SimClient) -> None:
    client.user(
        phone="7777777777", email="u7777777777@example.com", mobile_verified=True, email_verified=False
    )

    unverified = client.credit("ORD-V2", requestType="VERIFY", applyVerifiedUser="3")
    mobile_only = client.credit("ORD-V3", requestType="VERIFY", applyVerifiedUser="1")
    unknown = client.credit("ORD-V4", requestType="VERIFY", payeePhoneNumber="8888888888")

    assert (unverified["status"], unverified["statusCode"], unverified["response"]) == (
        "FAILURE",
        "STUC_1011",
        False,
    )
    assert mobile_only["response"] is True
    assert (unknown["statusCode"], unknown["response"]) == ("STUC_1002", False)
    assert client.check_status("ORD-V2")["statusCode"] == "STUC_1009"


def test_mode_2_applied_to_new_users_n_refunds_at_once_for_an_unknown_payee(client: SimClient) -> None:
    before = sales_balance(client)

    answer = client.credit("ORD-N1", payeePhoneNumber="8888888888", appliedToNewUsers="N", amount="250")

    assert (answer["status"], answer["statusCode"]) == ("FAILURE", "STUC_1002")
    assert sales_balance(client) == before
    entry = txn(client, "ORD-N1")
    assert (entry["status"], entry["message"]) == (2, "REFUNDED_BACK")
    kinds = [e["kind"] for e in client.control("GET", "ledger?order_id=ORD-N1")]
    assert kinds == ["debit", "refund"]


def test_mode_2_a_user_without_a_wallet_is_refunded_with_wa_1002(client: SimClient) -> None:
    client.user(phone="7777777777", email="u7777777777@example.com", wallet_exists=False)
    before = sales_balance(client)

    answer = client.credit("ORD-N2", appliedToNewUsers="N")

    assert (answer["status"], answer["statusCode"]) == ("FAILURE", "WA_1002")
    assert sales_balance(client) == before


def test_mode_3_new_user_who_registers_within_the_window_is_credited(client: SimClient) -> None:
    answer = client.credit(
        "ORD-Y1", payeePhoneNumber="9123456789", appliedToNewUsers="Y", pendingDaysLimit=None, amount="100"
    )
    assert (answer["status"], answer["statusCode"]) == ("PENDING", "STUC_1001")
    assert (txn(client, "ORD-Y1")["status"], txn(client, "ORD-Y1")["ssoId"]) == (3, "9123456789")

    client.advance(days=3)
    user = client.user(phone="9123456789", email="u9123456789@example.com")

    entry = txn(client, "ORD-Y1")
    assert (entry["status"], entry["message"], entry["ssoId"]) == (1, "SUCCESS", user["sso_id"])
    assert user_balance(client, user["sso_id"]) == Decimal("100.00")


def test_mode_3_new_user_who_never_registers_is_refunded_back_after_5_days(client: SimClient) -> None:
    before = sales_balance(client)
    client.credit(
        "ORD-Y2", payeePhoneNumber="9123456789", appliedToNewUsers="Y", pendingDaysLimit=None, amount="75.50"
    )
    assert sales_balance(client) == before - Decimal("75.50")

    client.advance(days=4, hours=23)
    assert txn(client, "ORD-Y2")["status"] == 3
    client.advance(hours=1)

    entry = txn(client, "ORD-Y2")
    assert (entry["status"], entry["message"], entry["txnErrorCode"]) == (2, "REFUNDED_BACK", "")
    assert sales_balance(client) == before
    client.user(phone="9123456789", email="u9123456789@example.com")
    assert txn(client, "ORD-Y2")["status"] == 2


def test_pending_days_limit_shortens_the_window(client: SimClient) -> None:
    client.credit("ORD-Y3", payeePhoneNumber="9123456789", appliedToNewUsers="Y", pendingDaysLimit="1")
    client.advance(hours=23)
    assert txn(client, "ORD-Y3")["status"] == 3
    client.advance(hours=1)
    assert txn(client, "ORD-Y3")["status"] == 2


def test_pending_days_limit_zero_means_no_pending(client: SimClient) -> None:
    client.user(phone="7777777777", email="u7777777777@example.com", kyc=False)
    before = sales_balance(client)

    answer = client.credit("ORD-Z0", pendingDaysLimit="0", appliedToNewUsers="Y")

    assert (answer["status"], answer["statusCode"]) == ("FAILURE", "GE_1026")
    assert txn(client, "ORD-Z0")["status"] == 2
    assert sales_balance(client) == before


def test_non_kyc_user_pends_and_is_credited_when_kyc_completes_on_day_2(client: SimClient) -> None:
    user = client.user(phone="7777777777", email="u7777777777@example.com", kyc=False)
    answer = client.credit("ORD-K1", pendingDaysLimit=None, amount="500")
    assert (answer["status"], answer["statusCode"]) == ("PENDING", "GE_1026")
    assert user_balance(client, user["sso_id"]) == Decimal("0.00")

    client.advance(days=2)
    assert txn(client, "ORD-K1")["status"] == 3
    client.user(sso_id=user["sso_id"], kyc=True)

    entry = txn(client, "ORD-K1")
    assert (entry["status"], entry["message"]) == (1, "SUCCESS")
    assert user_balance(client, user["sso_id"]) == Decimal("500.00")
    assert client.conservation()["ok"] is True


def test_non_kyc_user_who_never_completes_kyc_is_refunded_after_5_days(client: SimClient) -> None:
    client.user(phone="7777777777", email="u7777777777@example.com", kyc=False)
    before = sales_balance(client)
    client.credit("ORD-K2", pendingDaysLimit=None, amount="500")

    client.advance(days=5)
    client.user(phone="7777777777", email="u7777777777@example.com", kyc=True)

    assert txn(client, "ORD-K2")["status"] == 2
    assert sales_balance(client) == before


def test_unverified_payee_under_apply_verified_user_pends_until_verified(client: SimClient) -> None:
    user = client.user(
        phone="7777777777", email="u7777777777@example.com", mobile_verified=False, email_verified=False
    )
    answer = client.credit("ORD-AV", applyVerifiedUser="3", pendingDaysLimit=None)
    assert (answer["status"], answer["statusCode"]) == ("PENDING", "STUC_1012")

    client.user(sso_id=user["sso_id"], mobile_verified=True, email_verified=True)

    assert txn(client, "ORD-AV")["status"] == 1


def test_monthly_limit_breach_pends_with_is_limit_pending_and_releases_when_raised(client: SimClient) -> None:
    user = client.user(phone="7777777777", email="u7777777777@example.com", limits={"monthly_credit": "1000"})
    assert client.credit("ORD-L1", amount="800", pendingDaysLimit=None)["status"] == "SUCCESS"

    answer = client.credit("ORD-L2", amount="300", pendingDaysLimit=None)

    assert (answer["status"], answer["statusCode"]) == ("PENDING", "RWL_1001")
    entry = txn(client, "ORD-L2")
    assert (entry["status"], entry["isLimitPending"]) == (3, True)
    client.user(sso_id=user["sso_id"], limits={"monthly_credit": "2000"})
    entry = txn(client, "ORD-L2")
    assert (entry["status"], entry["isLimitPending"]) == (1, False)
    assert user_balance(client, user["sso_id"]) == Decimal("1100.00")


def test_limit_pending_that_never_clears_is_refunded_back(client: SimClient) -> None:
    client.user(
        phone="7777777777", email="u7777777777@example.com", limits={"max_balance": "100"}, balance="90"
    )
    before = sales_balance(client)
    assert client.credit("ORD-L3", amount="20", pendingDaysLimit="2")["statusCode"] == "RWL_1000"

    client.advance(days=2)

    assert (txn(client, "ORD-L3")["status"], txn(client, "ORD-L3")["isLimitPending"]) == (2, True)
    assert sales_balance(client) == before


def test_insufficient_sub_wallet_balance_fails_with_mwl_2001_and_keeps_the_order_id_free(
    client: SimClient, credentials: MerchantCredentials
) -> None:
    client.user(phone="7777777777", email="u7777777777@example.com")
    client.control("POST", "balances", {"guid": credentials.wallet.sales_wallet_guid, "balance": "5.00"})

    answer = client.credit("ORD-INS", amount="5.01")

    assert (answer["status"], answer["statusCode"], answer["response"]) == ("FAILURE", "MWL_2001", None)
    assert sales_balance(client) == Decimal("5.00")
    assert client.credit("ORD-INS", amount="5.00")["status"] == "SUCCESS"
    assert sales_balance(client) == Decimal("0.00")


def test_duplicate_merchant_order_id_is_stuc_1007_and_moves_no_money(client: SimClient) -> None:
    client.user(phone="7777777777", email="u7777777777@example.com")
    assert client.credit("ORD-DUP", amount="10")["status"] == "SUCCESS"
    before = sales_balance(client)

    again = client.credit("ORD-DUP", amount="10")

    assert (again["status"], again["statusCode"]) == ("FAILURE", "STUC_1007")
    assert sales_balance(client) == before
    assert [e["kind"] for e in client.control("GET", "ledger?order_id=ORD-DUP")] == ["debit", "credit"]


def test_checksum_is_verified_over_the_raw_body_bytes(client: SimClient) -> None:
    client.user(phone="7777777777", email="u7777777777@example.com")
    body = sales_to_user_credit_body(client.credentials, "ORD-RAW")
    # Spaced JSON, as another client library would write it: the checksum covers these bytes.
    signed = json.dumps(body, indent=1).encode()
    checksum = generate_signature(signed, client.wallet_key)
    reformatted = loads(signed)

    tampered = client.wallet_post("/wallet-web/salesToUserCredit", reformatted, checksum=checksum)
    exact = client.wallet_post("/wallet-web/salesToUserCredit", signed, checksum=checksum)

    assert loads(tampered.content)["statusCode"] == "GE_1008"
    assert loads(exact.content)["status"] == "SUCCESS"


def test_business_errors_are_http_200(client: SimClient) -> None:
    response = client.wallet_post("/wallet-web/salesToUserCredit", b"{}", checksum="bad")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


def test_the_sub_wallet_balance_is_conserved_across_a_mix_of_outcomes(
    sim: SimServer, client: SimClient
) -> None:
    client.user(phone="7777777777", email="u7777777777@example.com")
    client.user(phone="7777777778", email="u7777777778@example.com", kyc=False)
    client.credit("M1", amount="1.11")
    client.credit("M2", amount="2.22", payeePhoneNumber="7777777778", pendingDaysLimit=None)
    client.credit("M3", amount="3.33", payeePhoneNumber="7777777779", appliedToNewUsers="Y")
    client.credit("M4", amount="4.44", payeePhoneNumber="7777777770", appliedToNewUsers="N")
    report = client.conservation()
    assert report["ok"] is True, report["problems"]
    assert Decimal(report["held"]) == Decimal("5.55")
    client.advance(days=6)
    report = client.conservation()
    assert report["ok"] is True
    assert Decimal(report["held"]) == 0
    assert sim.state.conservation()["total"] == Decimal("20000000.00")
