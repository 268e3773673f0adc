"""Seed 002: auto-debit — linking (OTP, token, revoke), check balance, add money, withdraw."""

from __future__ import annotations

import base64
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from paytm_signing import generate_signature, verify_signature
from tijori_local.sim.autodebit_api import signed_consult_request
from tijori_local.sim.client import SimClient
from tijori_local.sim.pg_api import signed_json_data
from tijori_local.sim.receiver import CallbackReceiver
from tijori_local.sim.server import SimServer
from tijori_local.sim.wire import loads

PHONE = "9000000001"


def basic(client: SimClient, secret: str | None = None) -> dict[str, str]:
    creds = client.credentials
    pair = f"{creds.auto_debit.client_id}:{secret or creds.auto_debit.client_secret.get_secret_value()}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def send_otp(client: SimClient, phone: str = PHONE, **fields: Any) -> dict[str, Any]:
    body = {
        "email": "example@example.com",
        "phone": phone,
        "clientId": client.credentials.auto_debit.client_id,
    }
    body |= {"scope": "wallet", "responseType": "token", **fields}
    result: dict[str, Any] = client.http.post("/signin/otp", json=body).json()
    return result


def verify_otp(client: SimClient, state: str, otp: str | None = None, **headers: str) -> dict[str, Any]:
    code = otp if otp is not None else client.control("GET", f"autodebit/otp/{state}")["otp"]
    response = client.http.post(
        "/signin/validate/otp", json={"otp": code, "state": state}, headers=headers or basic(client)
    )
    result: dict[str, Any] = response.json()
    return result


def link(client: SimClient, phone: str = PHONE) -> str:
    return str(verify_otp(client, send_otp(client, phone)["state"])["access_token"])


def consult(
    client: SimClient, token: str | None, amount: str, signature: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"totalAmount": amount, "amountDetails": {"food": "100.00"}}
    if token is not None:
        body["userToken"] = token
    raw = signed_consult_request(body, client.pg_key, signature=signature)
    return client.http.post("/paymentservices/pay/consult", content=raw)


def direct_pay(client: SimClient, token: str, order_id: str, amount: str, **fields: Any) -> dict[str, Any]:
    return client.withdraw(token, order_id, amount, **fields)


def add_money(client: SimClient, token: str, order_id: str, amount: str, **fields: str) -> dict[str, str]:
    form = {
        "REQUEST_TYPE": "ADD_MONEY",
        "MID": client.credentials.mid,
        "ORDER_ID": order_id,
        "CUST_ID": "CUST_001",
        "TXN_AMOUNT": amount,
        "CHANNEL_ID": "WEB",
        "INDUSTRY_TYPE_ID": "Retail",
        "WEBSITE": "WEBSTAGING",
        "SSO_TOKEN": token,
        **fields,
    }
    form["CHECKSUMHASH"] = generate_signature(form, client.pg_key)
    page = client.http.post("/theia/processTransaction", data=form).text
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


# -- linking -------------------------------------------------------------------------------------


def test_known_user_logs_in_with_the_otp_and_gets_a_token_that_validates(client: SimClient) -> None:
    user = client.user(phone=PHONE, email="u@example.com", balance="10")

    sent = send_otp(client)
    token = verify_otp(client, sent["state"])

    assert (sent["status"], sent["responseCode"]) == ("SUCCESS", "01")
    assert set(token) == {"access_token", "expires", "scope", "resourceOwnerId"}
    assert (token["scope"], token["resourceOwnerId"]) == ("wallet", user["sso_id"])
    details = client.http.get("/user/details", headers={"session_token": token["access_token"]}).json()
    assert details == {
        "id": user["sso_id"],
        "email": "u@example.com",
        "mobile": int(PHONE),
        "expires": str(token["expires"]),
    }


def test_unknown_phone_registers_and_verifying_creates_the_user(client: SimClient) -> None:
    sent = send_otp(client, "9000000002")

    token = verify_otp(client, sent["state"])

    assert sent["responseCode"] == "02"
    (user,) = client.control("GET", "users")
    assert (user["phone"], user["sso_id"]) == ("9000000002", token["resourceOwnerId"])


def test_wrong_otp_is_refused_and_a_used_state_cannot_be_replayed(client: SimClient) -> None:
    state = send_otp(client)["state"]
    real = client.control("GET", f"autodebit/otp/{state}")["otp"]
    wrong = "000000" if real != "000000" else "111111"

    assert verify_otp(client, state, wrong)["responseCode"] == "403"
    assert "access_token" in verify_otp(client, state, real)
    assert verify_otp(client, state, real)["responseCode"] == "513"


def test_otp_expires_after_ten_minutes(client: SimClient, sim: SimServer) -> None:
    state = send_otp(client)["state"]
    sim.clock.advance(seconds=600)

    assert verify_otp(client, state) == {
        "status": "FAILURE",
        "responseCode": "513",
        "message": "Invalid Code",
    }


def test_revoked_token_no_longer_validates_and_a_second_revoke_is_404(client: SimClient) -> None:
    token = link(client)

    assert (
        client.http.delete(f"/oauth2/accessToken/{token}", headers=basic(client, "wrong")).status_code == 401
    )
    assert client.http.delete(f"/oauth2/accessToken/{token}", headers=basic(client)).status_code == 200
    assert client.http.delete(f"/oauth2/accessToken/{token}", headers=basic(client)).status_code == 404
    details = client.http.get("/user/details", headers={"session_token": token}).json()
    assert details == {"status": "FAILURE", "responseCode": "530", "message": "Invalid Token"}


# -- check balance -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "limits", "expected"),
    [
        ("600.00", {}, (True, False, "0")),
        ("100.00", {}, (False, True, "400.00")),
        ("100.00", {"max_balance": "200"}, (False, False, "400.00")),
    ],
    ids=["sufficient", "add-money", "add-money-not-allowed"],
)
def test_consult_answers_the_deficit_signed(
    client: SimClient, balance: str, limits: dict[str, str], expected: tuple[bool, bool, str]
) -> None:
    client.user(phone=PHONE, balance=balance, limits=limits)
    token = link(client)

    response = consult(client, token, "500.00")

    answer = loads(response.content)
    body = answer["body"]
    assert (body["fundsSufficient"], body["addMoneyAllowed"], body["deficitAmount"]) == expected
    assert body["addMoneyRequired"] == body["addMoneyAllowed"]
    assert body["resultInfo"]["resultCode"] == "CS_0000"
    text = response.content.decode()
    assert verify_signature(text[text.index('"body":') + 7 : -1], client.pg_key, answer["head"]["signature"])


def test_consult_refuses_a_bad_signature_and_a_revoked_token(client: SimClient) -> None:
    token = link(client)
    client.http.delete(f"/oauth2/accessToken/{token}", headers=basic(client))

    assert (
        loads(consult(client, token, "1.00", signature="A" * 108).content)["body"]["resultInfo"]["resultCode"]
        == "GE_1"
    )
    assert loads(consult(client, token, "1.00").content)["body"]["resultInfo"]["resultCode"] == "CS_0002"


# -- withdraw, add money, status, refund ---------------------------------------------------------


def test_withdraw_debits_the_wallet_into_the_merchant_and_answers_signed(client: SimClient) -> None:
    user = client.user(phone=PHONE, balance="100.00")
    token = link(client)

    answer = direct_pay(client, token, "WD-1", "40.25")

    assert (answer["Status"], answer["ResponseCode"], answer["ResponseMessage"]) == (
        "TXN_SUCCESS",
        "01",
        "Txn Successful.",
    )
    assert (answer["TxnAmount"], answer["PaymentMode"], answer["BankName"]) == (
        Decimal("40.25"),
        "PPI",
        "WALLET",
    )
    rendered = {k: str(v) for k, v in answer.items()}
    assert verify_signature(
        {k: v for k, v in rendered.items() if k != "CheckSum"}, client.pg_key, answer["CheckSum"]
    )
    balances = client.balances()
    assert Decimal(balances[f"user:{user['sso_id']}"]) == Decimal("59.75")
    assert Decimal(balances[f"pg:{client.credentials.mid}"]) == Decimal("40.25")
    assert client.conservation()["ok"] is True


def test_withdraw_beyond_the_balance_fails_and_takes_the_order_id(client: SimClient) -> None:
    client.user(phone=PHONE, balance="10.00")
    token = link(client)

    assert direct_pay(client, token, "WD-2", "10.01")["ResponseCode"] == "235"
    assert direct_pay(client, token, "WD-2", "1.00")["ResponseCode"] == "325"
    status = client.http.post(
        "/merchant-status/getTxnStatus",
        data={
            "JsonData": signed_json_data({"MID": client.credentials.mid, "ORDERID": "WD-2"}, client.pg_key)
        },
    ).json()
    assert (status["STATUS"], status["RESPCODE"], status["PAYMENTMODE"]) == ("TXN_FAILURE", "235", "PPI")


def test_withdraw_refund_goes_back_to_the_user_wallet(client: SimClient) -> None:
    user = client.user(phone=PHONE, balance="100.00")
    token = link(client)
    txn_id = str(direct_pay(client, token, "WD-3", "30.00")["TxnId"])
    data = {
        "MID": client.credentials.mid,
        "TXNID": txn_id,
        "ORDERID": "WD-3",
        "REFUNDAMOUNT": "30.00",
        "TXNTYPE": "REFUND",
        "REFID": "R-WD-3",
    }

    answer = client.http.post(
        "/refund/HANDLER_INTERNAL/REFUND",
        data={"JsonData": signed_json_data(data, client.pg_key, "CHECKSUM")},
    ).json()

    assert answer["RESPCODE"] == "10"
    assert Decimal(client.balances()[f"user:{user['sso_id']}"]) == Decimal("100.00")
    assert client.conservation()["ok"] is True


def test_add_money_checkout_loads_the_wallet_from_outside_and_posts_the_signed_response(
    client: SimClient, receiver: CallbackReceiver
) -> None:
    user = client.user(phone=PHONE, balance="100.00")
    token = link(client)

    page = add_money(client, token, "AM-1", "400.00", CALLBACK_URL=f"{receiver.url}/am")
    client.control("POST", "pg/checkout/AM-1", {"outcome": "SUCCESS", "payment_mode": "CC"})

    assert (page["ORDERID"], page["STATUS"]) == ("AM-1", "TXN_PENDING")
    (callback,) = receiver.wait_for(1)
    fields = dict(parse_qsl(callback.body.decode(), keep_blank_values=True))
    assert verify_signature(fields, client.pg_key, fields["CHECKSUMHASH"])
    assert (fields["STATUS"], fields["TXNAMOUNT"], fields["ORDERID"]) == ("TXN_SUCCESS", "400.00", "AM-1")
    assert Decimal(client.balances()[f"user:{user['sso_id']}"]) == Decimal("500.00")
    assert loads(consult(client, token, "500.00").content)["body"]["fundsSufficient"] is True
    report = client.conservation()
    assert report["ok"] is True
    assert Decimal(report["externalNet"]) == Decimal("500.00")


def test_pending_add_money_is_reported_as_txn_pending(client: SimClient, receiver: CallbackReceiver) -> None:
    client.user(phone=PHONE)
    token = link(client)
    add_money(client, token, "AM-2", "5.00", CALLBACK_URL=receiver.url)

    client.control("POST", "pg/checkout/AM-2", {"outcome": "PENDING"})
    client.control("POST", "pg/checkout/AM-2", {"outcome": "SUCCESS"})

    pending, final = receiver.wait_for(2)
    assert dict(parse_qsl(pending.body.decode()))["STATUS"] == "TXN_PENDING"
    assert dict(parse_qsl(final.body.decode()))["STATUS"] == "TXN_SUCCESS"


def test_add_money_with_a_revoked_token_is_refused_with_a_signed_failure(client: SimClient) -> None:
    client.user(phone=PHONE)
    token = link(client)
    client.http.delete(f"/oauth2/accessToken/{token}", headers=basic(client))

    page = add_money(client, token, "AM-3", "5.00")

    assert (page["STATUS"], page["RESPCODE"], page["RESPMSG"]) == (
        "TXN_FAILURE",
        "2004",
        "Authorization failed",
    )
    assert verify_signature(page, client.pg_key, page["CHECKSUMHASH"])
    assert client.http.get("/_sim/orders/AM-3").status_code == 404


# Add money's CUST_ID: "Special characters e.g @, ! ,_ $ are allowed", length 50 (decision: only
# those special characters); anything else is 1001 "Request parameters are not valid".
@pytest.mark.parametrize(
    ("cust_id", "expected"),
    [
        ("C@!_$" + "1" * 45, ("TXN_PENDING", None)),
        ("C" * 51, ("TXN_FAILURE", "1001")),
        ("cust-1", ("TXN_FAILURE", "1001")),
    ],
    ids=["CUST_ID of 50 with @ ! _ $", "CUST_ID of 51", "CUST_ID with -"],
)
def test_add_money_takes_the_customer_ids_the_seed_allows(
    client: SimClient, cust_id: str, expected: tuple[str, str | None]
) -> None:
    token = link(client)

    page = add_money(client, token, "AM-IDS", "5.00", CUST_ID=cust_id)

    assert (page["STATUS"], page.get("RESPCODE")) == expected
