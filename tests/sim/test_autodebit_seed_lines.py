"""Seed 002 (Paytm Auto-Debit) line by line where a merchant depends on it, and the controls its
tests need: the phone's SMS inbox, ending a user's sessions, the withdraw ledger, faults after the
money moved. Each table quotes the seed line it follows."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from paytm_signing import MerchantCredentials, verify_signature
from tijori_local.sim.autodebit_api import CONSULT_SAMPLE_HEAD, signed_consult_request, withdraw_params
from tijori_local.sim.client import SimClient
from tijori_local.sim.pg_api import signed_json_data
from tijori_local.sim.server import SimServer
from tijori_local.sim.wire import loads

PHONE = "9000000001"
OTHER_PHONE = "9000000002"
DIRECT_PAY = "/order/directPay"
WITHDRAW_SCW = "/pgplus-paymentservices/HANDLER_FF/withdrawScw"
STATUS = "/merchant-status/getTxnStatus"
CONSULT = "/paymentservices/pay/consult"


@pytest.fixture
def sim(credentials: MerchantCredentials) -> Iterator[SimServer]:
    """A simulator whose clock moves only when advanced, so times can be compared exactly."""
    with SimServer(credentials, time_scale=0) as server:
        yield server


# -- what a merchant sends -----------------------------------------------------------------------


def send_otp(client: SimClient, phone: str = PHONE) -> dict[str, Any]:
    body = {
        "phone": phone,
        "clientId": client.credentials.auto_debit.client_id,
        "scope": "wallet",
        "responseType": "token",
    }
    result: dict[str, Any] = client.http.post("/signin/otp", json=body).json()
    return result


def verify_otp(client: SimClient, state: str, otp: str) -> dict[str, Any]:
    creds = client.credentials.auto_debit
    pair = f"{creds.client_id}:{creds.client_secret.get_secret_value()}"
    headers = {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    result: dict[str, Any] = client.http.post(
        "/signin/validate/otp", json={"otp": otp, "state": state}, headers=headers
    ).json()
    return result


def sms(client: SimClient, phone: str | None) -> httpx.Response:
    return client.http.get("/_sim/autodebit/sms", params={} if phone is None else {"phone": phone})


def link(client: SimClient, phone: str = PHONE) -> str:
    """Link as a merchant's test does: send the OTP, read it off the phone, verify it."""
    state = send_otp(client, phone)["state"]
    return str(verify_otp(client, state, client.sms(phone)["otp"])["access_token"])


def consult(client: SimClient, body: dict[str, Any], **head: Any) -> dict[str, Any]:
    raw = client.http.post(CONSULT, content=signed_consult_request(body, client.pg_key, head=head)).content
    result: dict[str, Any] = loads(raw)
    return result


def consult_code(client: SimClient, body: dict[str, Any], **head: Any) -> str:
    return str(consult(client, body, **head)["body"]["resultInfo"]["resultCode"])


def withdraw_data(
    client: SimClient, token: str, order_id: str, amount: str = "1.00", **fields: Any
) -> dict[str, Any]:
    return withdraw_params(client.credentials.mid, token, order_id, amount, **fields)


def send_withdraw(
    client: SimClient,
    data: dict[str, Any],
    *,
    path: str = DIRECT_PAY,
    checksum_field: str = "CheckSum",
    transport: str = "query",
) -> httpx.Response:
    value = signed_json_data(data, client.pg_key, checksum_field)
    if transport == "query":  # the sample: directPay?JsonData={...}
        return client.http.post(path, params={"JsonData": value})
    if transport == "query, name with a space":  # the sample as printed: ?JsonData ={...}
        return client.http.get(path, params={"JsonData ": value})
    if transport == "form":  # the curl: --data-urlencode 'JsonData={...}'
        return client.http.post(path, data={"JsonData": value})
    if transport == "form, name with a space, no content type":
        return client.http.post(
            path, content=f"JsonData ={quote(value)}".encode(), headers={"Content-Type": ""}
        )
    assert transport == "raw body"
    return client.http.post(path, content=value.encode(), headers={"Content-Type": "application/json"})


def withdraw(client: SimClient, data: dict[str, Any], **how: Any) -> dict[str, Any]:
    result: dict[str, Any] = loads(send_withdraw(client, data, **how).content)
    return result


def wallet(client: SimClient, phone: str = PHONE) -> Decimal:
    (user,) = [u for u in client.control("GET", "users") if u["phone"] == phone]
    return Decimal(user["balance"])


# -- the phone's SMS inbox -----------------------------------------------------------------------


def test_the_sms_inbox_shows_the_latest_otp_sent_to_that_phone_at_the_simulated_time(
    client: SimClient, sim: SimServer
) -> None:
    first = send_otp(client)["state"]
    sim.clock.advance(seconds=90)
    sent_at = sim.clock.now()
    latest = send_otp(client)["state"]
    sim.clock.advance(seconds=30)
    send_otp(client, OTHER_PHONE)

    answer = sms(client, PHONE)

    assert answer.status_code == 200
    assert answer.json() == {
        "phone": PHONE,
        "otp": client.control("GET", f"autodebit/otp/{latest}")["otp"],
        "sent_at": sent_at.isoformat(),
    }
    # The OTP read off the phone is the one that links (the older state's code is another one).
    assert "access_token" in verify_otp(client, latest, answer.json()["otp"])
    assert client.control("GET", f"autodebit/otp/{first}")["used"] is False


def test_the_sms_inbox_still_shows_an_otp_once_it_is_used(client: SimClient) -> None:
    state = send_otp(client)["state"]
    otp = sms(client, PHONE).json()["otp"]
    verify_otp(client, state, otp)

    assert sms(client, PHONE).json()["otp"] == otp


def test_the_sms_inbox_of_a_phone_never_sent_an_otp_is_404_with_a_json_error(client: SimClient) -> None:
    send_otp(client, OTHER_PHONE)

    answer = sms(client, PHONE)

    assert answer.status_code == 404
    assert answer.json() == {"error": f"no OTP was sent to {PHONE}"}


@pytest.mark.parametrize(
    ("phone", "error"),
    [
        (None, "phone is required"),
        ("", "phone is required"),
        ("12345", "phone must be 10 digits, the first 5-9 (as send-OTP takes it)"),
        ("1234567890", "phone must be 10 digits, the first 5-9 (as send-OTP takes it)"),
        ("90000000011", "phone must be 10 digits, the first 5-9 (as send-OTP takes it)"),
        ("+919000000001", "phone must be 10 digits, the first 5-9 (as send-OTP takes it)"),
    ],
    ids=["missing", "empty", "too short", "starts with 1", "too long", "country code"],
)
def test_the_sms_inbox_refuses_a_missing_or_invalid_phone_with_400_naming_it(
    client: SimClient, phone: str | None, error: str
) -> None:
    answer = sms(client, phone)

    assert (answer.status_code, answer.json()) == (400, {"error": error})


# -- check balance -------------------------------------------------------------------------------


# Seed 002, Check Balance, request "Head": "|1|clientId|api client id|String|M|", "|2|version|...|M|",
# "|3|requestTimestamp|...|M|", "|4|channelId|...|M|", "|5|signature|checksum value|String|M|".
# Refused with "|CS_0001|Invalid request/ requestBody received." (decision: the seed's code for an
# invalid request; a signature that is present but wrong stays GE_1 "Unauthorized Access").
@pytest.mark.parametrize(
    "head",
    [
        {"clientId": None},
        {"version": None},
        {"requestTimestamp": None},
        {"channelId": None},
        {"clientId": ""},
        {"channelId": "  "},
    ],
    ids=[
        "no clientId",
        "no version",
        "no requestTimestamp",
        "no channelId",
        "empty clientId",
        "blank channelId",
    ],
)
def test_consult_refuses_a_head_missing_a_mandatory_field_with_cs_0001(
    client: SimClient, head: dict[str, Any]
) -> None:
    token = link(client)

    assert consult_code(client, {"userToken": token, "totalAmount": "1.00"}, **head) == "CS_0001"


def test_consult_refuses_a_head_without_a_signature_with_cs_0001_and_a_wrong_one_with_ge_1(
    client: SimClient,
) -> None:
    token = link(client)
    body = {"userToken": token, "totalAmount": "1.00"}
    unsigned = (
        b'{"head":'
        + json.dumps(CONSULT_SAMPLE_HEAD).encode()
        + b',"body":'
        + json.dumps(body).encode()
        + b"}"
    )

    answer = loads(client.http.post(CONSULT, content=unsigned).content)

    assert answer["body"]["resultInfo"]["resultCode"] == "CS_0001"
    wrong = signed_consult_request(body, client.pg_key, signature="A" * 108)
    assert (
        loads(client.http.post(CONSULT, content=wrong).content)["body"]["resultInfo"]["resultCode"] == "GE_1"
    )


# Seed 002, Check Balance, "Body": "|4|Mid|merchant identifier|String|M|" — yet the SAMPLE REQUEST's
# body is only userToken, totalAmount and amountDetails. Where the seed contradicts itself both are
# taken: a missing Mid is accepted, a given one (`Mid`, or seed 004's `mid`) must be this merchant's.
@pytest.mark.parametrize(
    ("mid_fields", "code"),
    [
        ({}, "CS_0000"),
        ({"Mid": "<own>"}, "CS_0000"),
        ({"mid": "<own>"}, "CS_0000"),
        ({"Mid": "OTHERMID0000000001"}, "GE_1043"),
        ({"mid": "OTHERMID0000000001"}, "GE_1043"),
        ({"Mid": "<own>", "mid": "OTHERMID0000000001"}, "GE_1043"),
    ],
    ids=["sample: no Mid", "table: Mid", "mid", "other Mid", "other mid", "Mid and another mid"],
)
def test_consult_takes_the_mid_as_the_table_or_the_sample_gives_it(
    client: SimClient, mid_fields: dict[str, str], code: str
) -> None:
    token = link(client)
    mids = {name: client.credentials.mid if value == "<own>" else value for name, value in mid_fields.items()}

    assert consult_code(client, {"userToken": token, "totalAmount": "1.00", **mids}) == code


def test_consult_answers_the_seeds_worked_example_deficit_wallet_100_need_220_gives_120(
    client: SimClient,
) -> None:
    # "if User wallet have 100 Rs ... and transaction amount is 220 Rs ... this API returns the
    # differential amount of transaction amount and wallet amount (220 - 100 = 120)"
    client.user(phone=PHONE, balance="100.00")
    token = link(client)

    body = consult(
        client, {"userToken": token, "totalAmount": "220.00", "amountDetails": {"food": "100.00"}}
    )["body"]

    assert (body["fundsSufficient"], body["deficitAmount"]) == (False, "120.00")
    # The table's addMoneyAllowed and the samples' addMoneyRequired, both sent, equal.
    assert body["addMoneyAllowed"] is True
    assert body["addMoneyRequired"] is True


def test_setting_the_wallet_balance_through_the_users_control_makes_the_balance_short(
    client: SimClient,
) -> None:
    client.user(phone=PHONE, balance="500.00")
    token = link(client)
    enough = consult(client, {"userToken": token, "totalAmount": "220.00"})["body"]

    client.user(phone=PHONE, balance="100.00")

    short = consult(client, {"userToken": token, "totalAmount": "220.00"})["body"]
    assert (enough["fundsSufficient"], enough["deficitAmount"]) == (True, "0")
    assert (short["fundsSufficient"], short["deficitAmount"]) == (False, "120.00")


def test_the_consult_answer_head_carries_the_tables_fields_and_the_samples_and_is_signed(
    client: SimClient,
) -> None:
    token = link(client)

    response = client.http.post(
        CONSULT,
        content=signed_consult_request(
            {"userToken": token, "totalAmount": "1.00"},
            client.pg_key,
            head={"clientId": "C11", "requestTimestamp": "1507207312139", "channelId": "WAP"},
        ),
    )

    head = loads(response.content)["head"]
    assert (head["clientId"], head["version"], head["requestTimestamp"], head["channelId"]) == (
        "C11",
        "v1",
        "1507207312139",
        "WAP",
    )
    assert head["responseTimestamp"].isdigit()
    text = response.content.decode()
    assert verify_signature(text[text.index('"body":') + 7 : -1], client.pg_key, head["signature"])


# -- withdraw: the seed's spellings ---------------------------------------------------------------

# Each way the seed shows a withdraw sent, on both of its URLs: the table and sample (directPay,
# `MID`, `CustId`, `?JsonData ={...}` with its space, `"ReqType": " SEAMLESS_SCW "`,
# `"PREAUTH_ID": " "`, `CheckSum`) and the curl (withdrawScw, `--data-urlencode 'JsonData=...'`,
# `"MId"`, `"CustomerId"`, `"PREAUTH_ID"`, `"CheckSum":""`), and the table's `checkSum`.
SPELLINGS: dict[str, tuple[str, dict[str, Any], str, str]] = {
    "table: MID, CustId, WITHDRAW, CheckSum in the query": (DIRECT_PAY, {}, "CheckSum", "query"),
    "sample: ?JsonData = with a space": (DIRECT_PAY, {}, "CheckSum", "query, name with a space"),
    "sample: ReqType ' SEAMLESS_SCW ' with its spaces": (
        DIRECT_PAY,
        {"ReqType": " SEAMLESS_SCW "},
        "CheckSum",
        "query",
    ),
    "sample: PREAUTH_ID ' '": (DIRECT_PAY, {"PREAUTH_ID": " "}, "CheckSum", "query"),
    "table row 14: checkSum": (DIRECT_PAY, {}, "checkSum", "query"),
    "JsonData as a form field": (DIRECT_PAY, {}, "CheckSum", "form"),
    "JsonData as the raw body": (DIRECT_PAY, {}, "CheckSum", "raw body"),
    "JsonData = as a form without a content type": (
        DIRECT_PAY,
        {},
        "CheckSum",
        "form, name with a space, no content type",
    ),
    "curl: MId, CustomerId, PREAUTH_ID '' as a form": (
        WITHDRAW_SCW,
        {"MID": None, "MId": "<own>", "CustId": None, "CustomerId": "20235", "PREAUTH_ID": ""},
        "CheckSum",
        "form",
    ),
    "curl: SEAMLESS_SCW in the query": (WITHDRAW_SCW, {"ReqType": "SEAMLESS_SCW"}, "CheckSum", "query"),
    "curl path with the table's names and checkSum": (WITHDRAW_SCW, {}, "checkSum", "form"),
    "directPay with the curl's MId and CustomerId": (
        DIRECT_PAY,
        {"MID": None, "MId": "<own>", "CustId": None, "CustomerId": "20235"},
        "CheckSum",
        "query",
    ),
}


@pytest.mark.parametrize("case", sorted(SPELLINGS))
def test_a_withdraw_is_taken_in_each_spelling_the_seed_shows(client: SimClient, case: str) -> None:
    path, fields, checksum_field, transport = SPELLINGS[case]
    client.user(phone=PHONE, balance="10.00")
    token = link(client)
    fields = {name: client.credentials.mid if value == "<own>" else value for name, value in fields.items()}

    answer = withdraw(
        client,
        withdraw_data(client, token, "WD-SPELL", "2.50", **fields),
        path=path,
        checksum_field=checksum_field,
        transport=transport,
    )

    assert (answer["Status"], answer["ResponseCode"], answer["CustId"]) == ("TXN_SUCCESS", "01", "20235")
    assert wallet(client) == Decimal("7.50")


# directPay "|10|CustId|...|String,32 char|yes|"; add money's CUST_ID "Special characters e.g @, ! ,_ $
# are allowed" (the only special characters taken; seed 004 lists the same ones as the allowed).
# directPay "|5|OrderId|...|String/64 char, Alphanumeric no special character except "-","_","@"|".
# A refusal is 1001 "Request parameters are not valid" and takes no order id, no money.
@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"CustId": "cust@1"}, "01"),
        ({"CustId": "a!b_c$d"}, "01"),
        ({"CustId": "C" * 32}, "01"),
        ({"CustId": None, "CustomerId": "x@y!z_$"}, "01"),
        ({"CustId": "C" * 33}, "1001"),
        ({"CustId": "cust-1"}, "1001"),
        ({"CustId": "cust.1"}, "1001"),
        ({"CustId": "cust 1"}, "1001"),
        ({"CustId": None, "CustomerId": "C" * 33}, "1001"),
        ({"OrderId": "A-b_c@" + "9" * 58}, "01"),
        ({"OrderId": "A" * 65}, "1001"),
        ({"OrderId": "WD.1"}, "1001"),
        ({"OrderId": "WD#1"}, "1001"),
        ({"OrderId": "WD 1"}, "1001"),
    ],
    ids=[
        "CustId with @",
        "CustId with ! _ $",
        "CustId of 32",
        "CustomerId with @ ! _ $",
        "CustId of 33",
        "CustId with -",
        "CustId with .",
        "CustId with a space",
        "CustomerId of 33",
        "OrderId of 64 with - _ @",
        "OrderId of 65",
        "OrderId with .",
        "OrderId with #",
        "OrderId with a space",
    ],
)
def test_a_withdraw_takes_the_customer_and_order_ids_the_seed_allows(
    client: SimClient, fields: dict[str, Any], code: str
) -> None:
    client.user(phone=PHONE, balance="10.00")
    token = link(client)
    data = withdraw_data(client, token, "WD-IDS", **fields)

    answer = withdraw(client, data)

    assert answer["ResponseCode"] == code
    assert wallet(client) == (Decimal("9.00") if code == "01" else Decimal("10.00"))


# -- withdraw: the answer's CheckSum, as a merchant verifies it --------------------------------


def verify_withdraw_answer(raw: bytes, key: str) -> bool:
    """The README's rule, from the raw bytes with nothing but `verify_signature`: parse keeping
    numbers as the digits written, take CheckSum out, verify the params checksum of the rest."""
    fields = json.loads(raw, parse_int=str, parse_float=str)
    checksum = fields.pop("CheckSum")
    return verify_signature(fields, key, checksum)


@pytest.mark.parametrize(
    ("amount", "balance", "code"),
    [
        ("40.25", "100.00", "01"),
        ("30.00", "100.00", "01"),
        ("100.01", "100.00", "235"),
        ("abc", "1.00", "2007"),
    ],
    ids=["success 40.25", "success 30.00 (written 30)", "wallet short", "refused before any order"],
)
def test_the_withdraw_answer_checksum_verifies_from_the_raw_bytes_with_numbers_as_written(
    client: SimClient, amount: str, balance: str, code: str
) -> None:
    # Response "|13|checkSum|CheckSum generated as per some logic by Paytm. This needs to be
    # verified by the merchant.|"
    client.user(phone=PHONE, balance=balance)
    token = link(client)

    raw = send_withdraw(client, withdraw_data(client, token, "WD-SUM", amount)).content

    assert loads(raw)["ResponseCode"] == code
    assert verify_withdraw_answer(raw, client.pg_key)
    if code != "2007":  # TxnId and TxnAmount are JSON numbers, as the sample's
        assert re.search(rb'"TxnId":\d+,', raw)
        assert re.search(rb'"TxnAmount":\d+(\.\d+)?,', raw)
    tampered = raw.replace(b'"ResponseCode":"', b'"ResponseCode":"9')
    assert not verify_withdraw_answer(tampered, client.pg_key)


# -- transaction status with TXN_TYPE=WITHDRAW ---------------------------------------------------


# Transaction Status "|TXN_TYPE|The type of transaction whose status needs to be checked by
# merchant<br/>Possible value:<br/>WITHDRAW|Alpha|NO|": optional and signed; it picks nothing
# (decision: an order id is one transaction of the merchant's, whatever its kind).
@pytest.mark.parametrize(
    ("order_id", "txn_type", "expected"),
    [
        ("WD-OK", "WITHDRAW", ("TXN_SUCCESS", "01", "12.34", "PPI", "WALLET")),
        ("WD-OK", None, ("TXN_SUCCESS", "01", "12.34", "PPI", "WALLET")),
        ("WD-OK", "withdraw", ("TXN_SUCCESS", "01", "12.34", "PPI", "WALLET")),
        ("WD-SHORT", "WITHDRAW", ("TXN_FAILURE", "235", "500.00", "PPI", "WALLET")),
        ("PG-CARD", "WITHDRAW", ("TXN_SUCCESS", "01", "12.34", "CC", "HDFC")),
        ("PG-CARD", None, ("TXN_SUCCESS", "01", "12.34", "CC", "HDFC")),
        ("NEVER-SENT", "WITHDRAW", ("TXN_FAILURE", "334", None, None, None)),
    ],
    ids=[
        "withdraw asked as WITHDRAW",
        "withdraw asked without TXN_TYPE",
        "withdraw asked as withdraw",
        "failed withdraw",
        "card payment asked as WITHDRAW",
        "card payment without TXN_TYPE",
        "unknown order",
    ],
)
def test_transaction_status_with_txn_type_withdraw_answers_the_withdrawal(
    client: SimClient, order_id: str, txn_type: str | None, expected: tuple[str | None, ...]
) -> None:
    client.user(phone=PHONE, balance="100.00")
    token = link(client)
    withdraw(client, withdraw_data(client, token, "WD-OK", "12.34"))
    withdraw(client, withdraw_data(client, token, "WD-SHORT", "500.00"))
    client.card_payment("PG-CARD", "12.34")

    answer = client.txn_status(order_id, **({} if txn_type is None else {"TXN_TYPE": txn_type}))

    found = tuple(
        answer.get(name) for name in ("STATUS", "RESPCODE", "TXNAMOUNT", "PAYMENTMODE", "GATEWAYNAME")
    )
    assert found == expected


# -- refunds of a withdrawal -----------------------------------------------------------------


def test_partial_refunds_of_a_withdrawal_go_back_to_the_wallet_at_once_up_to_what_was_taken(
    client: SimClient,
) -> None:
    # FAQ 8: "Partial refund is possible. In case of Paytm wallet, the refund is instant."
    user = client.user(phone=PHONE, balance="100.00")
    token = link(client)
    txn_id = str(withdraw(client, withdraw_data(client, token, "WD-RF", "60.00"))["TxnId"])

    first = client.refund("WD-RF", txn_id, "RF-1", "25.00")
    second = client.refund("WD-RF", txn_id, "RF-2", "15.50")
    too_much = client.refund("WD-RF", txn_id, "RF-3", "19.51")

    assert [(a["STATUS"], a["RESPCODE"]) for a in (first, second, too_much)] == [
        ("TXN_SUCCESS", "10"),
        ("TXN_SUCCESS", "10"),
        ("TXN_FAILURE", "619"),
    ]
    assert wallet(client) == Decimal("80.50")
    assert client.txn_status("WD-RF", TXN_TYPE="WITHDRAW")["REFUNDAMT"] == "40.50"
    moves = [
        (e["kind"], e["from"], e["to"], e["amount"]) for e in client.control("GET", "ledger?order_id=WD-RF")
    ]
    pg, wallet_account = f"pg:{client.credentials.mid}", f"user:{user['sso_id']}"
    assert moves == [
        ("withdraw", wallet_account, pg, "60.00"),
        ("pg_refund", pg, wallet_account, "25.00"),
        ("pg_refund", pg, wallet_account, "15.50"),
    ]
    assert client.conservation()["ok"] is True


# -- ending a user's sessions --------------------------------------------------------------------


def test_ending_a_users_sessions_kills_every_live_token_of_that_phone_everywhere(client: SimClient) -> None:
    # "The token issued can expire due to any of the following reasons - ... User changes her
    # password ... User "signs out from all active sessions"; FAQ 9: "Paytm will give
    # "Authorization failed" error response in case of invalid/null SSO token in request."
    client.user(phone=PHONE, balance="100.00")
    client.user(phone=OTHER_PHONE, balance="100.00")
    tokens = [link(client), link(client)]
    other = link(client, OTHER_PHONE)

    ended = client.control("POST", "autodebit/sessions/end", {"phone": PHONE})

    assert (ended["phone"], ended["ended"]) == (PHONE, 2)
    for n, token in enumerate(tokens):
        details = client.http.get("/user/details", headers={"session_token": token}).json()
        assert details == {"status": "FAILURE", "responseCode": "530", "message": "Invalid Token"}
        assert consult_code(client, {"userToken": token, "totalAmount": "1.00"}) == "CS_0002"
        answer = withdraw(client, withdraw_data(client, token, f"WD-DEAD-{n}"))
        assert (answer["Status"], answer["ResponseCode"], answer["ResponseMessage"]) == (
            "TXN_FAILURE",
            "2004",
            "Authorization failed",
        )
    assert wallet(client) == Decimal("100.00")
    assert withdraw(client, withdraw_data(client, other, "WD-OTHER"))["ResponseCode"] == "01"
    # FAQ 13: "once a SSO token expires, new SSO token will be issued"
    fresh = link(client)
    assert fresh not in tokens
    assert withdraw(client, withdraw_data(client, fresh, "WD-FRESH"))["ResponseCode"] == "01"
    assert client.control("POST", "autodebit/sessions/end", {"phone": PHONE})["ended"] == 1


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, "phone is required"),
        ({"phone": 9000000001}, 400, "phone must be 10 digits, the first 5-9 (as send-OTP takes it)"),
        ({"phone": "900000000"}, 400, "phone must be 10 digits, the first 5-9 (as send-OTP takes it)"),
        ({"phone": "9999999999"}, 404, "no user has phone 9999999999"),
    ],
    ids=["no phone", "phone as a number", "short phone", "no such user"],
)
def test_ending_sessions_refuses_a_bad_or_unknown_phone(
    client: SimClient, body: dict[str, Any], status: int, error: str
) -> None:
    link(client)

    answer = client.http.post("/_sim/autodebit/sessions/end", json=body)

    assert (answer.status_code, answer.json()) == (status, {"error": error})


# -- the withdraw ledger a reconciliation sums ---------------------------------------------------


def test_the_autodebit_ledger_sums_withdraws_and_their_refunds_per_order_and_customer(
    client: SimClient,
) -> None:
    user = client.user(phone=PHONE, balance="100.00")
    other = client.user(phone=OTHER_PHONE, balance="100.00")
    token, other_token = link(client), link(client, OTHER_PHONE)
    txn = str(withdraw(client, withdraw_data(client, token, "WD-A", "30.00"))["TxnId"])
    withdraw(client, withdraw_data(client, token, "WD-B", "20.00"))
    withdraw(client, withdraw_data(client, token, "WD-SHORT", "500.00"))
    other_txn = str(withdraw(client, withdraw_data(client, other_token, "WD-C", "5.00"))["TxnId"])
    client.refund("WD-A", txn, "RF-A1", "10.00")
    client.refund("WD-A", txn, "RF-A2", "2.50")
    client.refund("WD-C", other_txn, "RF-C1", "5.00")
    card_txn = client.card_payment("PG-CARD", "7.00")
    client.refund("PG-CARD", card_txn, "RF-CARD", "7.00")  # back to the card: not a wallet's

    mine = client.control("GET", f"autodebit/ledger?phone={PHONE}")
    everyone = client.control("GET", "autodebit/ledger")

    account = f"user:{user['sso_id']}"
    assert mine == {
        "orders": [
            {
                "orderId": "WD-A",
                "account": account,
                "withdrawn": "30.00",
                "refunded": "12.50",
                "net": "17.50",
            },
            {"orderId": "WD-B", "account": account, "withdrawn": "20.00", "refunded": "0.00", "net": "20.00"},
        ],
        "totals": {"withdrawn": "50.00", "refunded": "12.50", "net": "37.50"},
    }
    assert everyone["orders"][2] == {
        "orderId": "WD-C",
        "account": f"user:{other['sso_id']}",
        "withdrawn": "5.00",
        "refunded": "5.00",
        "net": "0.00",
    }
    assert everyone["totals"] == {"withdrawn": "55.00", "refunded": "17.50", "net": "37.50"}
    # What the ledger says left the wallet is what the wallet lost.
    assert wallet(client) == Decimal("100.00") - Decimal(mine["totals"]["net"])


@pytest.mark.parametrize(
    ("phone", "status"), [("9999999999", 404), ("12345", 400), ("", 400)], ids=["unknown", "invalid", "empty"]
)
def test_the_autodebit_ledger_refuses_a_bad_or_unknown_phone(
    client: SimClient, phone: str, status: int
) -> None:
    assert client.http.get("/_sim/autodebit/ledger", params={"phone": phone}).status_code == status


# -- faults after the money moved ---------------------------------------------------------------


@pytest.mark.parametrize("path", [DIRECT_PAY, WITHDRAW_SCW])
@pytest.mark.parametrize(
    ("fault", "debited"),
    [
        ({"kind": "timeout_after_commit", "drop": True}, True),
        ({"kind": "http_500", "commit": True}, True),
        ({"kind": "http_500"}, False),
    ],
    ids=["timeout after the debit", "500 after the debit", "500 before any debit"],
)
def test_a_fault_on_a_withdraw_hides_the_answer_and_the_status_tells_whether_the_money_moved(
    client: SimClient, path: str, fault: dict[str, Any], debited: bool
) -> None:
    client.user(phone=PHONE, balance="100.00")
    token = link(client)
    client.fault(path=path, order_id="WD-FAULT", **fault)
    data = withdraw_data(client, token, "WD-FAULT", "10.00")

    try:
        response = send_withdraw(client, data, path=path, transport="form")
        seen: int | None = response.status_code
    except httpx.RemoteProtocolError:
        seen = None  # the connection dropped mid-answer

    assert seen == (None if fault["kind"] == "timeout_after_commit" else 500)
    status = client.txn_status("WD-FAULT", TXN_TYPE="WITHDRAW")
    assert wallet(client) == Decimal("90.00" if debited else "100.00")
    if debited:
        # At most once: the order id is taken, a resend is refused and debits nothing.
        assert (status["STATUS"], status["TXNAMOUNT"]) == ("TXN_SUCCESS", "10.00")
        assert withdraw(client, data, path=path)["ResponseCode"] == "325"
        assert wallet(client) == Decimal("90.00")
    else:
        assert status["RESPCODE"] == "334"
        assert withdraw(client, data, path=path)["ResponseCode"] == "01"
    assert client.control("GET", "requests?order_id=WD-FAULT")["sequence"] == [path, STATUS, path]


def test_every_withdraw_request_is_logged_by_path_and_order_id(client: SimClient) -> None:
    client.user(phone=PHONE, balance="100.00")
    token = link(client)

    withdraw(client, withdraw_data(client, token, "WD-LOG"))
    withdraw(client, withdraw_data(client, token, "WD-LOG"), path=WITHDRAW_SCW)

    seen = client.control("GET", "requests?order_id=WD-LOG")
    assert (seen["count"], seen["sequence"]) == (2, [DIRECT_PAY, WITHDRAW_SCW])
    assert client.control("GET", f"requests?path={CONSULT}")["count"] == 0
