"""Rules across the seed APIs and the control API: verification without an email, what
`/_sim/balances` may set, control calls that cannot wedge the simulator, checkStatus's mandatory
fields, the penny drop's order id, PG custId and session expiry, MWL_2001's message, scripts an API
cannot honour, the prepaid token format and the pending status label."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from paytm_signing import MerchantCredentials, TokenFormat, encrypt_token
from tijori_local.sim import cli
from tijori_local.sim.client import EXAMPLE_CREDENTIALS, SimClient
from tijori_local.sim.pg_api import initiate_body, signed_json_data, signed_request
from tijori_local.sim.server import SimServer, prepaid_token_format_for, token_format_named
from tijori_local.sim.wire import dumps, loads

CHECK_STATUS = "/wallet-web/checkStatus"


def check_status_body(client: SimClient, order_id: str, **outer: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request": {
            "requestType": "merchanttxnid",
            "txnType": "SALES_TO_USER_CREDIT",
            "txnId": order_id,
            "merchantGuid": client.credentials.wallet.merchant_guid,
        },
        "platformName": "PayTM",
        "operationType": "CHECK_TXN_STATUS",
    }
    body.update(outer)
    return {k: v for k, v in body.items() if v is not None}


def initiate(client: SimClient, order_id: str, **fields: Any) -> dict[str, Any]:
    body = initiate_body(client.credentials.mid, order_id, **fields)
    response = client.http.post(
        "/theia/api/v1/initiateTransaction",
        params={"mid": client.credentials.mid, "orderId": order_id},
        content=signed_request(body, client.pg_key),
    )
    result: dict[str, Any] = loads(response.content)
    return result


def code_of(answer: dict[str, Any]) -> str:
    return str(answer["body"]["resultInfo"]["resultCode"])


def txn_status(client: SimClient, order_id: str) -> dict[str, Any]:
    data = {"MID": client.credentials.mid, "ORDERID": order_id}
    response = client.http.post(
        "/merchant-status/getTxnStatus", data={"JsonData": signed_json_data(data, client.pg_key)}
    )
    result: dict[str, Any] = loads(response.content)
    return result


# -- seed 000 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("apply_verified_user", "code"), [("2", "STUC_1011"), ("3", "STUC_1011")])
def test_a_user_without_an_email_is_not_email_verified(
    client: SimClient, apply_verified_user: str, code: str
) -> None:
    client.user(phone="7777777777")  # email_verified defaults to true, but there is no email

    verify = client.credit("ORD-NOMAIL", requestType="VERIFY", applyVerifiedUser=apply_verified_user)
    credit = client.credit("ORD-NOMAIL", applyVerifiedUser=apply_verified_user, pendingDaysLimit=None)

    assert (verify["status"], verify["statusCode"], verify["response"]) == ("FAILURE", code, False)
    assert (credit["status"], credit["statusCode"]) == ("PENDING", code)
    assert client.credit("ORD-MOBILE", applyVerifiedUser="1")["status"] == "SUCCESS"


def test_a_limit_pending_credit_reports_is_limit_pending_once_kyc_is_done(client: SimClient) -> None:
    user = client.user(phone="7777777777", kyc=False, limits={"monthly_credit": "100"})
    assert client.credit("ORD-RL", amount="300", applyVerifiedUser="1", pendingDaysLimit=None)[
        "statusCode"
    ] == ("GE_1026")
    assert client.check_status("ORD-RL")["response"]["txnList"][0]["isLimitPending"] is False

    client.user(sso_id=user["sso_id"], kyc=True)

    entry = client.check_status("ORD-RL")["response"]["txnList"][0]
    assert (entry["status"], entry["message"], entry["isLimitPending"]) == (3, "PENDING", True)
    assert client.control("GET", "orders/ORD-RL")["code"] == "RWL_1001"


@pytest.mark.parametrize(
    ("outer", "code"),
    [
        ({"platformName": None}, "GE_2"),
        ({"platformName": ""}, "GE_2"),
        ({"operationType": None}, "GE_2"),
        ({"operationType": "SALES_TO_USER_CREDIT"}, "GE_2"),
        ({}, "SS_001"),
    ],
)
def test_check_status_requires_platform_name_and_operation_type_check_txn_status(
    client: SimClient, outer: dict[str, Any], code: str
) -> None:
    client.user(phone="7777777777", email="payee@example.com")
    client.credit("ORD-CS")
    body = check_status_body(client, "ORD-CS", **outer)
    if outer.get("platformName", "x") is None:
        body.pop("platformName", None)
    if outer.get("operationType", "x") is None:
        body.pop("operationType", None)

    answer = loads(client.wallet_post(CHECK_STATUS, body).content)

    assert answer["statusCode"] == code


def test_low_sub_wallet_balance_keeps_mwl_2001_and_says_the_balance_is_insufficient(
    client: SimClient, credentials: MerchantCredentials
) -> None:
    client.user(phone="7777777777", email="payee@example.com")
    client.control("POST", "balances", {"guid": credentials.wallet.sales_wallet_guid, "balance": "1.00"})

    answer = client.credit("ORD-LOWBAL", amount="2")

    assert (answer["status"], answer["statusCode"]) == ("FAILURE", "MWL_2001")
    assert "insufficient" in answer["statusMessage"].lower()
    assert "sub-wallet" in answer["statusMessage"]


# -- control API --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "account",
    ["hold:sales-to-user", "pg:TIJORISIM0000000001", "external", "user:nobody", "prepaid:none", "x"],
)
def test_balances_sets_only_sub_wallets_user_wallets_and_prepaid_accounts(
    client: SimClient, account: str
) -> None:
    response = client.http.post("/_sim/balances", content=dumps({"account": account, "balance": "5.00"}))

    assert response.status_code == 400
    assert account in response.json()["error"]
    assert client.conservation()["ok"] is True


def test_balances_sets_a_user_wallet_and_a_prepaid_account(client: SimClient) -> None:
    user = client.user(phone="7777777777")
    client.control("POST", "prepaid", {"urn": "70000000008"})

    client.control("POST", "balances", {"account": f"user:{user['sso_id']}", "balance": "12.50"})
    balances = client.control("POST", "balances", {"account": "prepaid:70000000008", "balance": "3.00"})

    assert (balances[f"user:{user['sso_id']}"], balances["prepaid:70000000008"]) == ("12.50", "3.00")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("users", {"phone": "7777777777", "limits": {"monthly_credit": "NaN"}}),
        ("users", {"phone": "7777777777", "limits": {"max_balance": "Infinity"}}),
        ("users", {"phone": "7777777777", "limits": {"per_txn": "-1"}}),
        ("users", {"phone": "7777777777", "limits": {"monthly_txn_count": "many"}}),
        ("users", {"phone": "7777777777", "limits": ["per_txn"]}),
        ("users", {"phone": "7777777777", "email": 5}),
        ("users", {"phone": "7777777777", "balance": "sNaN"}),
        ("users", {"phone": "7777777777", "balance": "-3"}),
        ("merchant", {"email": 7}),
        ("merchant", {"phone": ["x"]}),
        ("clock/advance", {"days": 1e12}),
        ("clock/advance", {"days": "nan"}),
        ("balances", {"account": "hold:sales-to-user", "balance": "1"}),
        ("balances", {"guid": "60c076e4-8a4a-11e8-8f13-52540059b2ee", "balance": "NaN"}),
        ("prepaid", {"urn": "1", "balance": "Infinity"}),
        ("script", {"order_id": "ORD-W", "outcome": "PENDING", "code": 5}),
    ],
)
def test_a_refused_control_call_never_wedges_the_simulator(
    client: SimClient, path: str, body: dict[str, Any]
) -> None:
    client.user(phone="7777777777", email="payee@example.com")
    client.credit("ORD-BEFORE", amount="1", payeePhoneNumber="9123456789", appliedToNewUsers="Y")

    response = client.http.post(f"/_sim/{path}", content=dumps(body))

    assert response.status_code == 400, response.text
    client.advance(days=6)
    assert client.credit("ORD-AFTER", amount="1")["status"] == "SUCCESS"
    assert client.check_status("ORD-BEFORE")["response"]["txnList"][0]["status"] == 2
    assert client.conservation()["ok"] is True
    assert client.http.get("/_sim/orders").status_code == 200
    assert client.http.get("/_sim/users").status_code == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"order_id": "S-1", "outcome": "SUCCESS", "api": "validation"}, "cannot honour"),
        ({"order_id": "S-1", "outcome": "REFUNDED_BACK", "api": "withdraw"}, "cannot honour"),
        ({"order_id": "S-1", "outcome": "PENDING", "api": "withdraw"}, "cannot honour"),
        ({"order_id": "S-1", "outcome": "FAILURE", "api": "validation", "code": "X"}, "code"),
        ({"order_id": "S-1", "outcome": "FAILURE", "api": "prepaid"}, "api must be"),
    ],
)
def test_a_script_the_api_cannot_honour_is_refused(
    client: SimClient, body: dict[str, Any], reason: str
) -> None:
    response = client.http.post("/_sim/script", content=dumps(body))

    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_a_script_for_an_order_id_already_used_is_refused(client: SimClient) -> None:
    client.user(phone="7777777777", email="payee@example.com")
    client.credit("ORD-USED")

    response = client.http.post("/_sim/script", content=dumps({"order_id": "ORD-USED", "outcome": "SUCCESS"}))

    assert response.status_code == 400
    assert "already used" in response.json()["error"]


def test_a_script_is_left_for_the_api_that_can_honour_it(client: SimClient, sim: SimServer) -> None:
    client.user(phone="8001234891", email="payee@example.com")
    client.control("POST", "script", {"order_id": "SHARED-1", "outcome": "REFUNDED_BACK"})

    validation = client.validate_wallet("SHARED-1", "8001234891")

    assert validation["status"] == "ACCEPTED"
    assert client.validation_status("SHARED-1")["statusCode"] == "DE_001"
    assert "SHARED-1" in sim.state.scripts  # not consumed by an API that cannot honour it
    answer = client.credit("SHARED-1", payeePhoneNumber="8001234891")
    assert (answer["status"], answer["statusCode"]) == ("FAILURE", "GE_0003")
    assert client.check_status("SHARED-1")["response"]["txnList"][0]["message"] == "REFUNDED_BACK"


# -- seed 001 -----------------------------------------------------------------------------------


def test_the_penny_drop_ledger_entry_carries_the_validation_order_id(client: SimClient) -> None:
    client.user(phone="8001234891")

    client.validate_wallet("VAL-PENNY", "8001234891")

    (entry,) = client.control("GET", "ledger?order_id=VAL-PENNY")
    assert (entry["kind"], entry["amount"], entry["orderId"]) == ("penny_drop", "1.00", "VAL-PENNY")


# -- seed 004 / 002 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cust_id", "code"),
    [
        ("CUST_001", "0000"),
        ("a@b!c_d$9", "0000"),
        ("CUST-001", "1001"),
        ("cust.001", "1001"),
        ("a b", "1001"),
    ],
)
def test_pg_cust_id_allows_only_letters_digits_and_the_seed_special_characters(
    client: SimClient, cust_id: str, code: str
) -> None:
    assert code_of(initiate(client, "PG-CUST", userInfo={"custId": cust_id})) == code


def test_a_repeat_after_the_txn_token_expired_is_session_expired_1006(client: SimClient) -> None:
    first = initiate(client, "PG-EXP")
    assert code_of(initiate(client, "PG-EXP")) == "0002"

    client.advance(hours=0.25)
    again = initiate(client, "PG-EXP")

    assert (code_of(again), again["body"]["resultInfo"]["resultMsg"]) == ("1006", "Your Session has expired")
    assert "txnToken" not in again["body"]
    assert first["body"]["txnToken"]
    assert (txn_status(client, "PG-EXP")["STATUS"], txn_status(client, "PG-EXP")["RESPCODE"]) == (
        "TXN_FAILURE",
        "141",
    )


def test_a_not_yet_final_order_reads_txn_pending_in_the_status_answer(client: SimClient) -> None:
    initiate(client, "PG-PEND")
    assert txn_status(client, "PG-PEND")["STATUS"] == "TXN_PENDING"
    client.control("POST", "pg/checkout/PG-PEND", {"outcome": "PENDING"})
    assert (txn_status(client, "PG-PEND")["STATUS"], txn_status(client, "PG-PEND")["RESPCODE"]) == (
        "TXN_PENDING",
        "402",
    )


# -- seed 003: the token format -----------------------------------------------------------------

PLAIN = TokenFormat(fixed_iv=bytes(16), authenticated=False)


def prepaid_request() -> dict[str, Any]:
    return {
        "messageCode": "1080",
        "clientTxnId": "TF-1",
        "urn": "70000000008",
        "transactionAmount": 1000,
        "subWalletId": "MOB-70000000008_1",
    }


@pytest.fixture
def authenticated_sim(credentials: MerchantCredentials) -> Iterator[SimServer]:
    with SimServer(credentials, time_scale=0, prepaid_token_format="authenticated") as server:
        yield server


def test_the_default_prepaid_token_format_is_the_providers_bare_cbc_with_the_credentials_iv(
    client: SimClient, sim: SimServer
) -> None:
    client.control("POST", "prepaid", {"urn": "70000000008"})

    status, answer = client.credit_account(prepaid_request())

    assert (status, answer["responseCode"]) == (200, "00")
    # EXAMPLE_CREDENTIALS carry no prepaid.iv: the provider's envelope with 16 zero bytes.
    assert sim.context.prepaid_token_format == PLAIN
    assert client.prepaid_token_format == PLAIN


def test_the_default_provider_format_takes_the_fixed_iv_from_prepaid_iv() -> None:
    iv = bytes(range(16))
    data = {**EXAMPLE_CREDENTIALS, "prepaid": {"aes_key": "prepaid-aes-key-24-bytes", "iv": iv.hex()}}
    credentials = MerchantCredentials.from_mapping(data)
    provider = TokenFormat(fixed_iv=iv, authenticated=False)
    with SimServer(credentials, time_scale=0) as server:
        sim_client = SimClient(server.url, credentials)
        try:
            sim_client.control("POST", "prepaid", {"urn": "70000000008"})
            status, answer = sim_client.credit_account(prepaid_request())
            # A token under the zero IV decrypts to garbage in the first block: refused as 1030.
            zero_iv = SimClient(server.url, credentials, prepaid_token_format=PLAIN)
            try:
                other_iv = zero_iv.credit_account_raw({**prepaid_request(), "clientTxnId": "TF-2"})
            finally:
                zero_iv.close()
        finally:
            sim_client.close()

    assert (status, answer["responseCode"]) == (200, "00")
    assert server.context.prepaid_token_format == provider
    assert sim_client.prepaid_token_format == provider
    assert prepaid_token_format_for(credentials) == provider
    assert other_iv.status_code == 400


def test_the_authenticated_prepaid_token_format_works_end_to_end_and_refuses_bare_cbc(
    authenticated_sim: SimServer, credentials: MerchantCredentials
) -> None:
    tijori = SimClient(authenticated_sim.url, credentials, prepaid_token_format=TokenFormat())
    plain = SimClient(authenticated_sim.url, credentials, prepaid_token_format=PLAIN)
    try:
        tijori.control("POST", "prepaid", {"urn": "70000000008"})
        status, answer = tijori.credit_account(prepaid_request())
        wrong_format = plain.credit_account_raw({**prepaid_request(), "clientTxnId": "TF-2"})
    finally:
        tijori.close()
        plain.close()

    assert (status, answer["responseCode"], answer["transactionAmount"]) == (200, "00", 1000)
    assert wrong_format.status_code == 400
    assert authenticated_sim.context.prepaid_token_format == TokenFormat()


def test_the_provider_prepaid_token_format_works_end_to_end_and_refuses_the_authenticated_one(
    sim: SimServer, credentials: MerchantCredentials
) -> None:
    plain = SimClient(sim.url, credentials, prepaid_token_format=PLAIN)
    tijori = SimClient(sim.url, credentials, prepaid_token_format=TokenFormat())
    try:
        plain.control("POST", "prepaid", {"urn": "70000000008"})
        status, answer = plain.credit_account(prepaid_request())
        key = credentials.prepaid.token_key.current
        wrong_format = tijori.http.patch(
            "/mob1/api/onboarding/v1/creditAccount",
            content=dumps({"token": encrypt_token({"messageCode": "1080"}, key)}),
        )
    finally:
        plain.close()
        tijori.close()

    assert (status, answer["responseCode"], answer["transactionAmount"]) == (200, "00", 1000)
    assert wrong_format.status_code == 400


def test_token_formats_are_named_with_old_aliases_and_the_provider_iv_is_configurable() -> None:
    iv = bytes(range(16))
    assert token_format_named("authenticated") == token_format_named("tijori") == TokenFormat()
    assert token_format_named("provider") == token_format_named("plain-cbc") == PLAIN
    assert token_format_named("provider", iv) == TokenFormat(fixed_iv=iv, authenticated=False)
    assert token_format_named("plain-cbc", iv) == TokenFormat(fixed_iv=iv, authenticated=False)
    with pytest.raises(ValueError, match="provider"):
        token_format_named("authenticated", iv)
    with pytest.raises(ValueError, match="unknown"):
        token_format_named("gcm")
    args = cli._parser().parse_args(
        ["--credentials", "m.json", "--prepaid-token-format", "plain-cbc", "--prepaid-fixed-iv", iv.hex()]
    )
    assert (args.prepaid_token_format, args.prepaid_fixed_iv) == ("plain-cbc", iv.hex())


def test_the_cli_defaults_to_the_provider_format_and_a_fixed_iv_overrides_the_credentials_iv() -> None:
    iv, other = bytes(range(16)), bytes(range(16, 32))
    data = {**EXAMPLE_CREDENTIALS, "prepaid": {"aes_key": "prepaid-aes-key-24-bytes", "iv": iv.hex()}}
    credentials = MerchantCredentials.from_mapping(data)

    assert cli._parser().parse_args(["--credentials", "m.json"]).prepaid_token_format == "provider"
    assert prepaid_token_format_for(credentials, "provider") == TokenFormat(fixed_iv=iv, authenticated=False)
    assert prepaid_token_format_for(credentials, "provider", other) == TokenFormat(
        fixed_iv=other, authenticated=False
    )
    assert prepaid_token_format_for(credentials, "authenticated") == TokenFormat()
