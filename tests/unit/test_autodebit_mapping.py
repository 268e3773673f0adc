"""Paytm auto-debit requests and answers (seed 002), as tables of cases: what is signed is what is
sent, amounts are exact, an answer is believed only as far as it can be trusted, and no token,
secret or checksum shows in a repr."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from paytm_signing import MerchantCredentials, generate_signature, verify_signature
from tijori.lifecycle.outcomes import Outcome
from tijori.paytm.autodebit_mapping import (
    ADD_MONEY_PATH,
    AutoDebitMerchant,
    TokenAnswer,
    add_money_form,
    autodebit_merchant,
    check_balance_request,
    direct_pay_json_data,
    read_check_balance_answer,
    read_direct_pay_answer,
    read_revoke_answer,
    read_send_otp_answer,
    read_token_details_answer,
    read_verify_otp_answer,
    send_otp_request,
    verify_otp_request,
)
from tijori.paytm.pg_mapping import PgMerchant, top_level_member_spans

KEY = "PgMerchantKey#16"
OLD_KEY = "OldPgMerchantK16"
OTHER_KEY = "SomeoneElsesK#16"
CLIENT_SECRET = "client-secret-for-unit-tests"
TOKEN = "c748d624-d92a-4599-b954-5c6274e01552"
MID = "bmcust17066662636799"
MERCHANT = AutoDebitMerchant(
    pg=PgMerchant(mid=MID, website_name="WEBSTAGING", key=KEY, previous_key=OLD_KEY),
    client_id="merchant-ABC",
    client_secret=SecretStr(CLIENT_SECRET),
    scope="wallet",
    response_type="token",
    industry_type="Retail",
    channel="WAP",
)
SUCCESS, PENDING, FAILED, INVALID, CONFIG, AMBIGUOUS, NOT_FOUND = (
    Outcome.SUCCESS,
    Outcome.PENDING,
    Outcome.FINAL_FAILURE,
    Outcome.INVALID_REQUEST,
    Outcome.CONFIGURATION_ERROR,
    Outcome.AMBIGUOUS,
    Outcome.NOT_FOUND,
)


def as_bytes(document: Any) -> bytes:
    return json.dumps(document).encode()


# ---- the merchant ---------------------------------------------------------------------------------


def test_the_merchant_comes_from_the_auto_debit_and_pg_sections(merchant_credentials: dict[str, Any]) -> None:
    merchant = autodebit_merchant(MerchantCredentials.from_mapping(merchant_credentials))

    assert (merchant.mid, merchant.client_id, merchant.channel) == (
        merchant_credentials["mid"],
        merchant_credentials["auto_debit"]["client_id"],
        "WEB",
    )
    assert merchant.pg.key == merchant_credentials["pg"]["merchant_key"]
    assert merchant_credentials["auto_debit"]["client_secret"] not in repr(merchant)
    assert merchant_credentials["pg"]["merchant_key"] not in repr(merchant)


def test_basic_authorization_is_base64_of_client_id_colon_secret() -> None:
    scheme, encoded = MERCHANT.basic_authorization().split(" ")

    assert (scheme, base64.b64decode(encoded).decode()) == ("Basic", f"merchant-ABC:{CLIENT_SECRET}")


# ---- Send OTP -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        (
            "example@example.com",
            {
                "email": "example@example.com",
                "phone": "5558889990",
                "clientId": "merchant-ABC",
                "scope": "wallet",
                "responseType": "token",
            },
        ),
        (
            None,
            {"phone": "5558889990", "clientId": "merchant-ABC", "scope": "wallet", "responseType": "token"},
        ),
    ],
)
def test_send_otp_sends_the_seeds_fields_with_email_only_when_given(
    email: str | None, expected: dict[str, str]
) -> None:
    assert json.loads(send_otp_request(MERCHANT, "5558889990", email)) == expected


@pytest.mark.parametrize(
    ("answer", "outcome", "state", "code"),
    [
        pytest.param(
            {"status": "SUCCESS", "responseCode": "01", "state": "65cb6680"},
            SUCCESS,
            "65cb6680",
            "01",
            id="login",
        ),
        pytest.param(
            {"status": "SUCCESS", "responseCode": "02", "state": "65cb6680"},
            SUCCESS,
            "65cb6680",
            "02",
            id="register",
        ),
        pytest.param(
            {"Status": "SUCCESS", "responseCode": "01", "State": "s1"}, SUCCESS, "s1", "01", id="capitals"
        ),
        pytest.param(
            {"status": "SUCCESS", "responseCode": "01"}, AMBIGUOUS, None, "01", id="success, no state"
        ),
        pytest.param(
            {"status": "SUCCESS", "responseCode": "434", "state": "s"}, AMBIGUOUS, None, "434", id="contra"
        ),
        pytest.param(
            {"status": "FAILURE", "responseCode": "434", "message": "Bad Request"}, INVALID, None, "434"
        ),
        pytest.param({"status": "FAILURE", "responseCode": "430"}, CONFIG, None, "430", id="client id"),
        pytest.param({"status": "FAILURE", "responseCode": "431"}, INVALID, None, "431", id="mobile"),
        pytest.param({"status": "FAILURE", "responseCode": "433"}, FAILED, None, "433", id="blocked"),
        pytest.param(
            {"status": "FAILURE", "responseCode": "01"}, AMBIGUOUS, None, "01", id="failure with 01"
        ),
        pytest.param({"status": "FAILURE", "responseCode": "999"}, AMBIGUOUS, None, "999", id="unknown"),
        pytest.param({"responseCode": "465"}, INVALID, None, "465", id="refusal without status"),
    ],
)
def test_send_otp_answers(
    answer: dict[str, str], outcome: Outcome, state: str | None, code: str | None
) -> None:
    read = read_send_otp_answer(as_bytes(answer))

    assert (read.outcome, read.state, read.code) == (outcome, state, code)
    assert read.reason


@pytest.mark.parametrize("raw", [b"<html>Bad Gateway</html>", b"", b"[1]", b"\xff"])
def test_an_otp_answer_that_is_not_a_json_object_is_ambiguous(raw: bytes) -> None:
    assert read_send_otp_answer(raw).outcome is AMBIGUOUS


# ---- Verify OTP -----------------------------------------------------------------------------------


def test_verify_otp_sends_otp_and_state() -> None:
    assert json.loads(verify_otp_request("65cb6680", "324569")) == {"otp": "324569", "state": "65cb6680"}


def test_the_seeds_token_answer_reads_as_a_token_with_its_utc_expiry_and_customer() -> None:
    raw = b"""{
"access_token":"c748d624-d92a-4599-b954-5c6274e01552",
"expires":1415880416918,
"scope":"wallet",
"resourceOwnerId":"123456"
}"""
    read = read_verify_otp_answer(raw)

    assert (read.outcome, read.resource_owner_id, read.wrong_otp) == (SUCCESS, "123456", False)
    assert read.access_token is not None
    assert read.access_token.get_secret_value() == TOKEN
    assert read.expires_at == datetime(2014, 11, 13, 12, 6, 56, 918000, tzinfo=UTC)
    assert TOKEN not in repr(read)


@pytest.mark.parametrize(
    ("answer", "outcome", "wrong_otp"),
    [
        ({"status": "FAILURE", "responseCode": "403", "message": "Invalid Otp"}, FAILED, True),
        ({"status": "FAILURE", "responseCode": "513", "message": "Invalid Code"}, FAILED, False),
        ({"status": "FAILURE", "responseCode": "432"}, FAILED, False),
        ({"status": "FAILURE", "responseCode": "430"}, CONFIG, False),
        ({"status": "FAILURE", "responseCode": "434"}, INVALID, False),
        ({"status": "FAILURE", "responseCode": "777"}, AMBIGUOUS, False),
        ({"status": "SUCCESS", "responseCode": "403"}, AMBIGUOUS, False),
        ({"access_token": TOKEN, "status": "FAILURE", "responseCode": "403"}, AMBIGUOUS, False),
        ({"scope": "wallet"}, AMBIGUOUS, False),
    ],
)
def test_verify_otp_refusals(answer: dict[str, str], outcome: Outcome, wrong_otp: bool) -> None:
    read = read_verify_otp_answer(as_bytes(answer))

    assert (read.outcome, read.wrong_otp, read.access_token) == (outcome, wrong_otp, None)


def test_a_token_answer_with_a_success_status_and_code_is_still_a_token() -> None:
    read = read_verify_otp_answer(
        as_bytes({"status": "SUCCESS", "responseCode": "01", "access_token": TOKEN})
    )

    assert (read.outcome, read.code) == (SUCCESS, "01")


def test_a_token_answer_without_expiry_still_carries_the_token() -> None:
    read = read_verify_otp_answer(as_bytes({"access_token": TOKEN, "expires": "soon"}))

    assert (read.outcome, read.expires_at) == (SUCCESS, None)


# ---- Validate Token -------------------------------------------------------------------------------

# The seed's sample, as it is: curly quotes around the id and a trailing comma.
SEED_USER_DETAILS = """{
"id":\u201d123456\u201d,
"email":"example@gmail.com",
"mobile":5558889990,
"expires":"1429175369162" ,
}""".encode()


@pytest.mark.parametrize(
    ("raw", "customer_id", "expires_ms"),
    [
        pytest.param(SEED_USER_DETAILS, "123456", 1429175369162, id="the seed's sample"),
        pytest.param(
            as_bytes({"id": "9", "mobile": "5558889990", "expires": 1429175369162}),
            "9",
            1429175369162,
            id="strings",
        ),
        pytest.param(
            as_bytes({"id": 77, "email": None, "mobile": None}), "77", None, id="numeric id, no expiry"
        ),
        pytest.param(
            as_bytes({"status": "SUCCESS", "responseCode": "01", "id": "5", "expires": "1"}),
            "5",
            1,
            id="with status",
        ),
    ],
)
def test_a_valid_token_reads_its_customer_and_expiry(
    raw: bytes, customer_id: str, expires_ms: int | None
) -> None:
    read = read_token_details_answer(raw)

    assert (read.outcome, read.known, read.customer_id) == (SUCCESS, True, customer_id)
    expected = None if expires_ms is None else datetime.fromtimestamp(expires_ms / 1000, UTC)
    assert read.expires_at == expected


@pytest.mark.parametrize(
    ("answer", "outcome", "known"),
    [
        ({"status": "FAILURE", "responseCode": "530", "message": "Invalid Token"}, FAILED, False),
        ({"status": "FAILURE", "responseCode": "434", "message": "Bad Request"}, INVALID, None),
        ({"status": "FAILURE", "responseCode": "500"}, AMBIGUOUS, None),
        ({"status": "FAILURE", "responseCode": "530", "id": "123"}, AMBIGUOUS, None),
        ({"email": "x@example.com"}, AMBIGUOUS, None),
    ],
)
def test_token_details_refusals(answer: dict[str, str], outcome: Outcome, known: bool | None) -> None:
    read = read_token_details_answer(as_bytes(answer))

    assert (read.outcome, read.known, read.customer_id) == (outcome, known, None)


def test_token_details_that_even_repaired_is_not_json_is_ambiguous() -> None:
    assert read_token_details_answer(b'{"id": 1 2}').outcome is AMBIGUOUS


# ---- Revoke ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("http_status", "outcome"),
    [(200, SUCCESS), (404, NOT_FOUND), (401, CONFIG), (500, AMBIGUOUS), (403, AMBIGUOUS), (302, AMBIGUOUS)],
)
def test_revoke_is_read_from_the_http_status_only(http_status: int, outcome: Outcome) -> None:
    read = read_revoke_answer(http_status)

    assert (read.outcome, read.http_status) == (outcome, http_status)


# ---- check balance --------------------------------------------------------------------------------


def test_check_balance_signs_the_exact_body_it_sends_with_the_pg_key() -> None:
    raw = check_balance_request(MERCHANT, SecretStr(TOKEN), Decimal("500"), now_ms=1507207312139).decode()
    spans = top_level_member_spans(raw)
    assert spans is not None
    document = json.loads(raw)
    start, end = spans["body"]

    assert document["body"] == {"userToken": TOKEN, "totalAmount": "500.00", "Mid": MID}
    assert document["head"] | {"signature": "-"} == {
        "clientId": "merchant-ABC",
        "version": "v1",
        "requestTimestamp": "1507207312139",
        "channelId": "WAP",
        "signature": "-",
    }
    assert verify_signature(raw[start:end], KEY, document["head"]["signature"])


@pytest.mark.parametrize("amount", [Decimal("1.005"), Decimal("0"), Decimal("-1"), Decimal("NaN")])
def test_check_balance_refuses_an_amount_it_cannot_send_exactly(amount: Decimal) -> None:
    with pytest.raises(ValueError, match="amount"):
        check_balance_request(MERCHANT, SecretStr(TOKEN), amount, now_ms=1)


def consult_answer(body: dict[str, Any], key: str | None = KEY, signature: str | None = None) -> bytes:
    """A consult answer as Paytm sends it: head first, its signature over the body's exact text."""
    body_text = json.dumps(body, separators=(",", ":"))
    head: dict[str, Any] = {"clientId": "C11", "version": "v1", "responseTimestamp": "1507207412152"}
    if signature is not None:
        head["signature"] = signature
    elif key is not None:
        head["signature"] = generate_signature(body_text, key)
    return ('{"head":' + json.dumps(head) + ',\n"body":' + body_text + "}").encode()


def result(
    code: str, status: str = "SUCCESS", message: str = "Request served successfully."
) -> dict[str, str]:
    return {"resultStatus": status, "resultCode": code, "resultMsg": message}


# The seed's four samples (its resultCode is a placeholder: CS_0000 stands in for it) and more.
@pytest.mark.parametrize(
    ("body", "sufficient", "allowed", "deficit"),
    [
        pytest.param(
            {
                "fundsSufficient": True,
                "addMoneyRequired": False,
                "deficitAmount": "0",
                "resultInfo": result("CS_0000", "Sucesss"),
            },
            True,
            False,
            Decimal("0"),
            id="sufficient (seed)",
        ),
        pytest.param(
            {
                "fundsSufficient": False,
                "addMoneyRequired": True,
                "deficitAmount": "100.00",
                "resultInfo": result("CS_0000", "Sucesss"),
            },
            False,
            True,
            Decimal("100.00"),
            id="short, add money allowed (seed)",
        ),
        pytest.param(
            {
                "fundsSufficient": False,
                "addMoneyRequired": False,
                "deficitAmount": "100.00",
                "resultInfo": result("CS_0000", "Success"),
            },
            False,
            False,
            Decimal("100.00"),
            id="short, add money not allowed (seed)",
        ),
        pytest.param(
            {
                "fundsSufficient": False,
                "addMoneyAllowed": True,
                "deficitAmount": 120.5,
                "resultInfo": result("CS_0000"),
            },
            False,
            True,
            Decimal("120.5"),
            id="addMoneyAllowed, numeric deficit",
        ),
        pytest.param(
            {"fundsSufficient": "true", "resultInfo": result("CS_0000")},
            True,
            None,
            None,
            id="no flags, no deficit",
        ),
    ],
)
def test_a_verified_balance_answer_reads_sufficiency_add_money_and_the_exact_deficit(
    body: dict[str, Any], sufficient: bool, allowed: bool | None, deficit: Decimal | None
) -> None:
    read = read_check_balance_answer(consult_answer(body), MERCHANT)

    assert (read.outcome, read.funds_sufficient, read.add_money_allowed, read.deficit) == (
        SUCCESS,
        sufficient,
        allowed,
        deficit,
    )
    assert read.code == "CS_0000"


def test_a_balance_answer_signed_with_the_previous_key_is_still_paytms() -> None:
    body = {"fundsSufficient": True, "deficitAmount": "0", "resultInfo": result("CS_0000")}

    assert read_check_balance_answer(consult_answer(body, OLD_KEY), MERCHANT).outcome is SUCCESS


def test_the_seeds_placeholder_result_code_is_not_a_success_code() -> None:
    body = {
        "fundsSufficient": True,
        "deficitAmount": "0",
        "resultInfo": result("00023424/234234234", "Sucesss"),
    }

    assert read_check_balance_answer(consult_answer(body), MERCHANT).outcome is AMBIGUOUS


@pytest.mark.parametrize(
    ("body", "key", "signature", "outcome", "code"),
    [
        pytest.param(
            {"fundsSufficient": True, "resultInfo": result("CS_0000")},
            None,
            None,
            AMBIGUOUS,
            "CS_0000",
            id="unsigned",
        ),
        pytest.param(
            {"fundsSufficient": True, "resultInfo": result("CS_0000")},
            OTHER_KEY,
            None,
            AMBIGUOUS,
            "CS_0000",
            id="other key",
        ),
        pytest.param(
            {"fundsSufficient": True, "resultInfo": result("CS_0000")},
            None,
            "x" * 108,
            AMBIGUOUS,
            "CS_0000",
            id="garbage",
        ),
        pytest.param(
            {"resultInfo": result("GE_1", "FAILURE", "Unauthorized Access")},
            OTHER_KEY,
            None,
            CONFIG,
            "GE_1",
            id="GE_1 unverifiable",
        ),
        pytest.param(
            {"resultInfo": result("GE_1043", "FAILURE")},
            OTHER_KEY,
            None,
            AMBIGUOUS,
            "GE_1043",
            id="other refusal unverifiable",
        ),
    ],
)
def test_a_balance_answer_that_does_not_verify_is_no_answer_unless_it_says_our_key_is_wrong(
    body: dict[str, Any], key: str | None, signature: str | None, outcome: Outcome, code: str
) -> None:
    read = read_check_balance_answer(consult_answer(body, key, signature), MERCHANT)

    assert (read.outcome, read.code, read.funds_sufficient) == (outcome, code, None)


@pytest.mark.parametrize(
    ("code", "status", "outcome", "token_rejected"),
    [
        ("CS_0002", "FAILURE", FAILED, True),
        ("CS_0004", "FAILURE", INVALID, False),
        ("GE_1027", "F", FAILED, False),
        ("RWL_2001", "FAILURE", FAILED, False),
        ("GE_1043", "FAILURE", CONFIG, False),
        ("GE_0003", "FAILURE", AMBIGUOUS, False),
        ("CS_0002", "SUCCESS", AMBIGUOUS, False),  # a refusal that says success contradicts itself
        ("CS_0000", "FAILURE", AMBIGUOUS, False),
    ],
)
def test_balance_refusals_and_the_dead_token(
    code: str, status: str, outcome: Outcome, token_rejected: bool
) -> None:
    read = read_check_balance_answer(consult_answer({"resultInfo": result(code, status, "m")}), MERCHANT)

    assert (read.outcome, read.token_rejected, read.funds_sufficient) == (outcome, token_rejected, None)


@pytest.mark.parametrize(
    "body",
    [
        {"resultInfo": result("CS_0000")},  # no fundsSufficient
        {"fundsSufficient": True, "deficitAmount": "5.00", "resultInfo": result("CS_0000")},
        {"fundsSufficient": False, "deficitAmount": "0", "resultInfo": result("CS_0000")},
        {"fundsSufficient": False, "resultInfo": result("CS_0000")},
        {"fundsSufficient": False, "deficitAmount": "-3", "resultInfo": result("CS_0000")},
        {"fundsSufficient": "maybe", "deficitAmount": "0", "resultInfo": result("CS_0000")},
    ],
)
def test_a_success_that_contradicts_itself_is_ambiguous(body: dict[str, Any]) -> None:
    assert read_check_balance_answer(consult_answer(body), MERCHANT).outcome is AMBIGUOUS


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"head":{},"body":{}}',
        b'{"body":{"resultInfo":{}},"body":{"resultInfo":{}}}',
        b"[]",
        b"\xff",
    ],
)
def test_a_balance_answer_without_a_readable_body_is_ambiguous(raw: bytes) -> None:
    read = read_check_balance_answer(raw, MERCHANT)

    assert (read.outcome, read.funds_sufficient, read.deficit, read.token_rejected) == (
        AMBIGUOUS,
        None,
        None,
        False,
    )


# ---- withdraw (directPay) -------------------------------------------------------------------------


def test_direct_pay_sends_the_seeds_fields_with_checksum_over_the_others() -> None:
    data = json.loads(direct_pay_json_data(MERCHANT, "268732d", Decimal("1"), SecretStr(TOKEN), "20235"))
    checksum = data.pop("CheckSum")

    assert data == {
        "MID": MID,
        "ReqType": "WITHDRAW",
        "TxnAmount": "1.00",
        "AppIP": "127.0.0.1",
        "OrderId": "268732d",
        "DeviceId": "",
        "Currency": "INR",
        "SSOToken": TOKEN,
        "PaymentMode": "PPI",
        "CustId": "20235",
        "IndustryType": "Retail",
        "Channel": "WAP",
        "AuthMode": "USRPWD",
    }
    assert verify_signature(data, KEY, checksum)


def test_direct_pay_refuses_an_amount_it_cannot_send_exactly() -> None:
    with pytest.raises(ValueError, match="two decimal places"):
        direct_pay_json_data(MERCHANT, "O-1", Decimal("1.001"), SecretStr(TOKEN), "C")


# The seed's sample answer, as it is (numbers as numbers, an empty CheckSum).
SEED_WITHDRAW_ANSWER = b"""{
	"TxnId": 1000000654,
	"MID": "bmcust17066662636799",
	"OrderId": "268732d",
	"TxnAmount": 1,
	"BankTxnId": "C3727C22090D1A22",
	"ResponseCode": "01",
	"ResponseMessage": "Txn Successful.",
	"Status": "TXN_SUCCESS",
	"PaymentMode": "PPI",
	"BankName": "WALLET",
	"CheckSum": "",
	"CustId": "",
        "MBID": "3624e4c0-1262-11e4-993f-0016364efa11"
}"""


def test_the_seeds_withdraw_answer_reads_as_success_for_its_order_and_amount() -> None:
    read = read_direct_pay_answer(SEED_WITHDRAW_ANSWER, MERCHANT, order_id="268732d", amount=Decimal("1.00"))

    assert read.outcome is SUCCESS
    assert (read.status, read.order_id, read.amount, read.txn_id, read.bank_txn_id) == (
        "TXN_SUCCESS",
        "268732d",
        Decimal("1"),
        "1000000654",
        "C3727C22090D1A22",
    )
    assert (read.code, read.token_rejected, read.checksum_verified) == ("01", False, None)


def signed_withdraw_answer(fields: dict[str, Any], key: str = KEY, name: str = "CheckSum") -> bytes:
    """A directPay answer with its checksum over the other fields as their JSON text: Decimal
    values are written as JSON numbers from their digits, as Paytm's sample writes TxnAmount."""
    signed = {k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in fields.items()}
    members = [
        f"{json.dumps(k)}: {format(v, 'f') if isinstance(v, Decimal) else json.dumps(v)}"
        for k, v in fields.items()
    ]
    members.append(f"{json.dumps(name)}: {json.dumps(generate_signature(signed, key))}")
    return ("{" + ", ".join(members) + "}").encode()


ANSWER = {
    "TxnId": Decimal("1000000654"),
    "MID": MID,
    "OrderId": "O-1",
    "TxnAmount": Decimal("10.50"),
    "BankTxnId": "B1",
    "ResponseCode": "01",
    "ResponseMessage": "Txn Successful.",
    "Status": "TXN_SUCCESS",
    "PaymentMode": "PPI",
    "CustId": "C1",
}


@pytest.mark.parametrize("name", ["CheckSum", "checkSum", "CHECKSUMHASH"])
def test_a_withdraw_answer_whose_checksum_verifies_is_read_with_checksum_verified(name: str) -> None:
    read = read_direct_pay_answer(
        signed_withdraw_answer(ANSWER, name=name), MERCHANT, order_id="O-1", amount=Decimal("10.5")
    )

    assert (read.outcome, read.checksum_verified, read.amount, read.txn_id) == (
        SUCCESS,
        True,
        Decimal("10.50"),
        "1000000654",
    )


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda raw: raw.replace(b'"TXN_SUCCESS"', b'"TXN_FAILURE"'), id="status changed"),
        pytest.param(lambda raw: raw.replace(b"10.50", b"10.5"), id="amount text changed"),
        pytest.param(lambda raw: raw.replace(b'"B1"', b'"B2"'), id="bank txn id changed"),
        pytest.param(lambda raw: raw[:-1] + b', "Extra": "x"}', id="field added"),
    ],
)
def test_a_withdraw_answer_altered_after_signing_is_ambiguous_and_unverified(tamper: Any) -> None:
    raw = tamper(signed_withdraw_answer(ANSWER))

    read = read_direct_pay_answer(raw, MERCHANT, order_id="O-1", amount=Decimal("10.50"))

    assert (read.outcome, read.checksum_verified, read.status, read.code) == (AMBIGUOUS, False, None, None)


def test_a_withdraw_answer_signed_with_another_key_is_ambiguous() -> None:
    read = read_direct_pay_answer(
        signed_withdraw_answer(ANSWER, OTHER_KEY), MERCHANT, order_id="O-1", amount=Decimal("10.50")
    )

    assert (read.outcome, read.checksum_verified) == (AMBIGUOUS, False)


def test_a_checksum_mismatch_refusal_under_a_key_we_cannot_verify_is_a_configuration_error() -> None:
    refusal = {**ANSWER, "ResponseCode": "330", "Status": "TXN_FAILURE", "TxnId": ""}

    read = read_direct_pay_answer(
        signed_withdraw_answer(refusal, OTHER_KEY), MERCHANT, order_id="O-1", amount=Decimal("10.50")
    )

    assert (read.outcome, read.code, read.checksum_verified) == (CONFIG, "330", False)


def plain(**changes: Any) -> bytes:
    """An unsigned withdraw answer (CheckSum empty, as in the seed's sample) with `changes`."""
    fields = {k: (format(v, "f") if isinstance(v, Decimal) else v) for k, v in ANSWER.items()}
    return as_bytes({**fields, "CheckSum": "", **changes})


@pytest.mark.parametrize(
    ("raw", "outcome", "token_rejected"),
    [
        pytest.param(plain(), SUCCESS, False, id="success"),
        pytest.param(plain(ResponseCode="235", Status="TXN_FAILURE"), FAILED, False, id="balance short"),
        pytest.param(plain(ResponseCode="227", Status="TXN_FAILURE"), FAILED, False, id="declined"),
        pytest.param(
            plain(ResponseCode="2004", Status="TXN_FAILURE", ResponseMessage="Authorization failed"),
            FAILED,
            True,
            id="token dead",
        ),
        pytest.param(
            plain(ResponseCode="9999", Status="TXN_FAILURE", ResponseMessage="Authorization Error."),
            AMBIGUOUS,
            True,
            id="the FAQ's text under an unknown code",
        ),
        pytest.param(plain(ResponseCode="1007", Status="TXN_FAILURE"), INVALID, False, id="missing element"),
        pytest.param(plain(ResponseCode="305", Status="TXN_FAILURE"), CONFIG, False, id="mid"),
        pytest.param(plain(ResponseCode="325", Status="TXN_FAILURE"), AMBIGUOUS, False, id="duplicate order"),
        pytest.param(plain(ResponseCode="01", Status="TXN_FAILURE"), AMBIGUOUS, False, id="contradictory"),
        pytest.param(plain(ResponseCode="402", Status="TXN_PENDING"), PENDING, False, id="pending"),
        pytest.param(plain(ResponseCode="777", Status="TXN_FAILURE"), AMBIGUOUS, False, id="unknown code"),
        pytest.param(plain(OrderId="O-2"), AMBIGUOUS, False, id="another order"),
        pytest.param(plain(TxnAmount="10.51"), AMBIGUOUS, False, id="another amount"),
        pytest.param(plain(MID="SOMEONEELSE"), AMBIGUOUS, False, id="another MID"),
        pytest.param(plain(OrderId=None), AMBIGUOUS, False, id="success without an order"),
        pytest.param(plain(TxnAmount=""), AMBIGUOUS, False, id="success without an amount"),
        pytest.param(
            plain(OrderId="O-2", ResponseCode="2004", Status="TXN_FAILURE"),
            AMBIGUOUS,
            False,
            id="another order's refusal",
        ),
        pytest.param(
            plain(ResponseCode="235", Status="TXN_FAILURE", TxnAmount="", TxnId=""),
            FAILED,
            False,
            id="refusal, no amount",
        ),
    ],
)
def test_withdraw_answers(raw: bytes, outcome: Outcome, token_rejected: bool) -> None:
    read = read_direct_pay_answer(raw, MERCHANT, order_id="O-1", amount=Decimal("10.50"))

    assert (read.outcome, read.token_rejected, read.checksum_verified) == (outcome, token_rejected, None)
    assert read.reason


def test_a_withdraw_answer_in_the_status_apis_spelling_is_read_too() -> None:
    raw = as_bytes(
        {
            "STATUS": "TXN_FAILURE",
            "RESPCODE": "235",
            "RESPMSG": "Wallet balance Insufficient",
            "ORDERID": "O-1",
            "MId": MID,
        }
    )

    read = read_direct_pay_answer(raw, MERCHANT, order_id="O-1", amount=Decimal("10.50"))

    assert (read.outcome, read.code, read.message, read.order_id) == (
        FAILED,
        "235",
        "Wallet balance Insufficient",
        "O-1",
    )


@pytest.mark.parametrize("raw", [b"", b"Internal error", b"[]", b'"TXN_SUCCESS"', b"\xfe"])
def test_a_withdraw_answer_that_is_not_a_json_object_is_ambiguous(raw: bytes) -> None:
    read = read_direct_pay_answer(raw, MERCHANT, order_id="O-1", amount=Decimal("10.50"))

    assert (read.outcome, read.token_rejected, read.checksum_verified) == (AMBIGUOUS, False, None)


# ---- add money ------------------------------------------------------------------------------------


def test_the_add_money_form_carries_the_seeds_fields_and_a_checksum_over_them() -> None:
    form = add_money_form(
        MERCHANT,
        "https://securegw.paytm.in/",
        order_id="ADD-1",
        amount=Decimal("120"),
        token=SecretStr(TOKEN),
        cust_id="CUST_001",
        callback_url="https://tijori.example/cb",
    )
    fields = dict(form.fields)
    checksum = fields.pop("CHECKSUMHASH")

    assert form.action == "https://securegw.paytm.in" + ADD_MONEY_PATH
    assert fields == {
        "REQUEST_TYPE": "ADD_MONEY",
        "MID": MID,
        "ORDER_ID": "ADD-1",
        "CUST_ID": "CUST_001",
        "TXN_AMOUNT": "120.00",
        "CHANNEL_ID": "WAP",
        "INDUSTRY_TYPE_ID": "Retail",
        "WEBSITE": "WEBSTAGING",
        "SSO_TOKEN": TOKEN,
        "CALLBACK_URL": "https://tijori.example/cb",
    }
    assert verify_signature(fields, KEY, checksum)
    assert TOKEN not in repr(form)
    assert checksum not in repr(form)
    assert "ADD-1" in repr(form)


def test_no_answer_shows_a_token_in_its_repr() -> None:
    answer = TokenAnswer(SUCCESS, SecretStr(TOKEN), None, "1", None, None, False)

    assert TOKEN not in repr(answer)
    assert TOKEN not in str(answer)
