"""Paytm PG requests and answers (seeds 004 and 002), as tables of cases: what is signed is what is
sent, amounts are exact, and an answer is believed only as far as it can be trusted."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from paytm_signing import InvalidMerchantKeyError, generate_signature, verify_signature
from tijori.lifecycle.outcomes import Outcome
from tijori.paytm.pg_mapping import (
    INITIATE_PATH,
    PgMerchant,
    initiate_transaction_request,
    json_data_form,
    money_text,
    read_initiate_answer,
    read_refund_answer,
    read_refund_status_answer,
    read_status_answer,
    refund_json_data,
    refund_status_json_data,
    top_level_member_spans,
    transaction_status_json_data,
)
from tijori_local.sim.pg_api import member_spans

KEY = "PgMerchantKey#16"
OLD_KEY = "OldPgMerchantK16"
OTHER_KEY = "SomeoneElsesK#16"
TXN_TOKEN = "f0bed8995397423"
MERCHANT = PgMerchant(mid="TIJORIPG0000000001", website_name="WEBSTAGING", key=KEY)
SUCCESS, PENDING, FAILED, INVALID, CONFIG, AMBIGUOUS, NOT_FOUND = (
    Outcome.SUCCESS,
    Outcome.PENDING,
    Outcome.FINAL_FAILURE,
    Outcome.INVALID_REQUEST,
    Outcome.CONFIGURATION_ERROR,
    Outcome.AMBIGUOUS,
    Outcome.NOT_FOUND,
)


# ---- the merchant and amounts ------------------------------------------------------------------


def test_pg_merchant_refuses_keys_that_are_not_aes_lengths() -> None:
    with pytest.raises(InvalidMerchantKeyError):
        PgMerchant(mid="M", website_name="W", key="short")
    with pytest.raises(InvalidMerchantKeyError):
        PgMerchant(mid="M", website_name="W", key=KEY, previous_key="also-short")
    for length in (16, 24, 32):
        assert PgMerchant(mid="M", website_name="W", key="k" * length).checksum_key.current == "k" * length


def test_pg_merchant_repr_never_shows_a_key() -> None:
    merchant = PgMerchant(mid="M", website_name="W", key=KEY, previous_key=OLD_KEY)
    assert KEY not in repr(merchant)
    assert OLD_KEY not in repr(merchant)
    assert merchant.checksum_key.accepted == (KEY, OLD_KEY)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("1.10"), "1.10"),
        (Decimal("1.1"), "1.10"),
        (Decimal("100"), "100.00"),
        (Decimal("1.100"), "1.10"),
        (Decimal("0.01"), "0.01"),
        (Decimal("123456789012.34"), "123456789012.34"),
        (Decimal("1E+2"), "100.00"),
    ],
)
def test_money_text_is_two_decimals_from_the_decimals_digits(amount: Decimal, text: str) -> None:
    assert money_text(amount) == text


@pytest.mark.parametrize(
    "amount",
    [Decimal("1.005"), Decimal("0"), Decimal("-1.00"), Decimal("NaN"), Decimal("Infinity"), 1.1],
)
def test_money_text_refuses_what_cannot_be_sent_exactly(amount: Any) -> None:
    with pytest.raises(ValueError, match="amount"):
        money_text(amount)


# ---- initiateTransaction request ---------------------------------------------------------------


def _initiate(**change: Any) -> tuple[str, bytes]:
    arguments: dict[str, Any] = {
        "order_id": "ORD-PG-1",
        "amount": Decimal("1.10"),
        "customer_id": "CUST_001",
        "callback_url": "https://tijori.example/paytm/pg/callback",
        **change,
    }
    return initiate_transaction_request(MERCHANT, **arguments)


def _body_text(content: bytes) -> str:
    text = content.decode("ascii")
    spans = member_spans(text)  # the simulator's own reading of the member spans
    assert spans is not None
    start, end = spans["body"]
    return text[start:end]


def test_initiate_request_has_seed_004s_shape() -> None:
    path, content = _initiate(phone="9876543210", email="a@b.in")
    sent = json.loads(content)
    assert list(sent) == ["body", "head"]
    assert sent["body"] == {
        "requestType": "Payment",
        "mid": MERCHANT.mid,
        "websiteName": "WEBSTAGING",
        "orderId": "ORD-PG-1",
        "txnAmount": {"value": "1.10", "currency": "INR"},
        "userInfo": {"custId": "CUST_001", "mobile": "9876543210", "email": "a@b.in"},
        "callbackUrl": "https://tijori.example/paytm/pg/callback",
    }
    assert set(sent["head"]) == {"signature"}
    url = urlsplit(path)
    assert url.path == INITIATE_PATH
    assert parse_qs(url.query) == {"mid": [MERCHANT.mid], "orderId": ["ORD-PG-1"]}


def test_initiate_request_leaves_out_the_contact_it_was_not_given() -> None:
    _, content = _initiate()
    assert json.loads(content)["body"]["userInfo"] == {"custId": "CUST_001"}


def test_initiate_signature_verifies_over_the_exact_body_text_sent() -> None:
    _, content = _initiate(amount=Decimal("100"))
    body_text = _body_text(content)
    signature = json.loads(content)["head"]["signature"]
    assert verify_signature(body_text, KEY, signature)
    assert '"value":"100.00"' in body_text
    # The same body re-serialized another way is other text: the signature is not over that.
    assert not verify_signature(json.dumps(json.loads(body_text)), KEY, signature)


def test_initiate_query_is_url_encoded() -> None:
    path, _ = _initiate(order_id="ORD@1 2&x")
    assert path == f"{INITIATE_PATH}?mid={MERCHANT.mid}&orderId=ORD%401%202%26x"


def test_initiate_request_refuses_an_amount_it_cannot_send_exactly() -> None:
    with pytest.raises(ValueError, match="decimal places"):
        _initiate(amount=Decimal("1.005"))


# ---- the member spans -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"head":{"a":1},"body":{"b":"}"}}', {"head": '{"a":1}', "body": '{"b":"}"}'}),
        (' { "body" : { "x" : [1, 2] } , "head" : null } \n', {"body": '{ "x" : [1, 2] }', "head": "null"}),
        ('{"body":{"q":"say \\"hi\\", {ok}"}}', {"body": '{"q":"say \\"hi\\", {ok}"}'}),
        ("{}", {}),
    ],
)
def test_top_level_member_spans_find_each_members_exact_text(text: str, expected: dict[str, str]) -> None:
    spans = top_level_member_spans(text)
    assert spans is not None
    assert {name: text[start:end] for name, (start, end) in spans.items()} == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"body":{"a":1},"body":{"a":2}}',  # a repeated member: signed text and parsed value could differ
        '{"body":{"a":1}} trailing',
        '[{"body":{}}]',
        '{"body":{"a":1}',
        '{"body" {"a":1}}',
        '{"body":{"a":1},}',
        "",
        "not json",
    ],
)
def test_top_level_member_spans_refuse_what_is_not_one_plain_object(text: str) -> None:
    assert top_level_member_spans(text) is None


# ---- initiateTransaction answer ----------------------------------------------------------------


def _answer_body(code: str = "0000", status: str = "S", token: str | None = TXN_TOKEN) -> str:
    body: dict[str, Any] = {
        "resultInfo": {"resultStatus": status, "resultCode": code, "resultMsg": "as Paytm says"},
        "isPromoCodeValid": False,
        "authenticated": False,
    }
    if token is not None:
        body["txnToken"] = token
    return json.dumps(body, separators=(",", ":"))


def _signed_answer(body_text: str, key: str | None = KEY, *, signature: str | None = None) -> bytes:
    head: dict[str, Any] = {"responseTimestamp": "1526969112101", "version": "v1", "clientId": "C11"}
    if signature is not None:
        head["signature"] = signature
    elif key is not None:
        head["signature"] = generate_signature(body_text, key)
    return ('{"head":' + json.dumps(head) + ',"body":' + body_text + "}").encode()


def test_a_signed_success_answer_gives_the_txn_token() -> None:
    answer = read_initiate_answer(_signed_answer(_answer_body()), MERCHANT)
    assert (answer.outcome, answer.result_code, answer.txn_token) == (SUCCESS, "0000", "f0bed8995397423")
    assert answer.signature_verified
    assert answer.message == "as Paytm says"
    assert answer.reason == "0000 Success"


def test_an_idempotent_repeat_is_success_with_its_token() -> None:
    answer = read_initiate_answer(_signed_answer(_answer_body("0002")), MERCHANT)
    assert (answer.outcome, answer.txn_token) == (SUCCESS, "f0bed8995397423")


def test_an_answer_formatted_with_spaces_verifies_over_its_own_text() -> None:
    body_text = json.dumps(json.loads(_answer_body()), indent=2)
    answer = read_initiate_answer(_signed_answer(body_text), MERCHANT)
    assert answer.outcome is SUCCESS


def test_an_answer_signed_with_the_previous_key_is_accepted_during_rotation() -> None:
    rotating = PgMerchant(mid=MERCHANT.mid, website_name="WEBSTAGING", key=KEY, previous_key=OLD_KEY)
    assert read_initiate_answer(_signed_answer(_answer_body(), OLD_KEY), rotating).outcome is SUCCESS
    assert read_initiate_answer(_signed_answer(_answer_body(), OLD_KEY), MERCHANT).outcome is AMBIGUOUS


def test_a_tampered_body_under_the_original_signature_is_no_answer() -> None:
    original = _answer_body(token="paytms-token")
    signature = generate_signature(original, KEY)
    tampered = original.replace("paytms-token", "forged-token")

    answer = read_initiate_answer(_signed_answer(tampered, signature=signature), MERCHANT)

    assert (answer.outcome, answer.reason, answer.txn_token) == (AMBIGUOUS, "answer signature invalid", None)
    assert not answer.signature_verified


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (_signed_answer(_answer_body(), key=None), "answer signature missing"),
        (_signed_answer(_answer_body(), OTHER_KEY), "answer signature invalid"),
        (_signed_answer(_answer_body(), signature="not-a-signature"), "answer signature invalid"),
        (_signed_answer(_answer_body("1007", "F", None), key=None), "answer signature missing"),
        (b"<html><body>502 Bad Gateway</body></html>", "answer is not one JSON object (or repeats a member)"),
        (b"Error: service temporarily unavailable", "answer is not one JSON object (or repeats a member)"),
        (b"\xff\xfe", "answer is not UTF-8 text"),
        (b'{"head":{},"body":"text"}', "answer has no body object"),
        (b'{"head":{}}', "answer has no body object"),
        (b'{"head":{},"body":{"txnToken":"t"}}', "answer has no resultInfo"),
    ],
)
def test_answers_that_cannot_be_trusted_are_ambiguous(raw: bytes, reason: str) -> None:
    answer = read_initiate_answer(raw, MERCHANT)
    assert (answer.outcome, answer.reason, answer.txn_token) == (AMBIGUOUS, reason, None)


def test_a_repeated_body_member_is_no_answer_even_if_one_of_them_is_signed() -> None:
    signed_body = _answer_body("1007", "F", None)
    raw = _signed_answer(signed_body)[:-1] + b',"body":' + _answer_body().encode() + b"}"
    assert read_initiate_answer(raw, MERCHANT).outcome is AMBIGUOUS


@pytest.mark.parametrize(
    ("code", "status", "token", "outcome"),
    [
        ("1007", "F", None, INVALID),
        ("2007", "F", None, INVALID),
        ("2005", "F", None, CONFIG),
        ("2013", "F", None, CONFIG),
        ("2023", "F", None, AMBIGUOUS),
        ("00000900", "F", None, AMBIGUOUS),
        ("0000", "F", None, AMBIGUOUS),  # contradictory
        ("0000", "S", None, AMBIGUOUS),  # success without a token
        ("0000", "S", "", AMBIGUOUS),
        ("4242", "F", None, AMBIGUOUS),  # unknown
    ],
)
def test_signed_answers_are_read_with_the_initiate_catalogue(
    code: str, status: str, token: str | None, outcome: Outcome
) -> None:
    answer = read_initiate_answer(_signed_answer(_answer_body(code, status, token)), MERCHANT)
    assert (answer.outcome, answer.result_code, answer.txn_token) == (outcome, code, None)
    assert answer.signature_verified


def test_a_checksum_refusal_we_cannot_verify_is_still_a_configuration_error() -> None:
    # With a wrong key Paytm refuses (2005) and we cannot verify its signature either; reading it
    # as CONFIGURATION_ERROR finalises nothing, so a forged one could at most raise an alarm.
    for raw in (
        _signed_answer(_answer_body("2005", "F", None), OTHER_KEY),
        _signed_answer(_answer_body("2005", "F", None), key=None),
    ):
        answer = read_initiate_answer(raw, MERCHANT)
        assert answer.outcome is CONFIG
        assert "a wrong merchant key does both" in answer.reason
        assert not answer.signature_verified
    # ... but only 2005, and only when it says F: any other unverifiable answer stays AMBIGUOUS.
    unverified_mid_mismatch = _signed_answer(_answer_body("2013", "F", None), key=None)
    assert read_initiate_answer(unverified_mid_mismatch, MERCHANT).outcome is AMBIGUOUS
    assert (
        read_initiate_answer(_signed_answer(_answer_body("2005", "S", None), key=None), MERCHANT).outcome
        is AMBIGUOUS
    )


# ---- JsonData requests ----------------------------------------------------------------------------


def _checksum_verifies(json_data: str, field: str) -> bool:
    data = json.loads(json_data)
    signature = data.pop(field)
    assert all(isinstance(value, str) for value in data.values())
    return verify_signature(data, KEY, signature)


def test_status_request_carries_mid_order_and_a_params_checksum() -> None:
    json_data = transaction_status_json_data(MERCHANT, "ORD-PG-1")
    assert set(json.loads(json_data)) == {"MID", "ORDERID", "CHECKSUMHASH"}
    assert json.loads(json_data)["ORDERID"] == "ORD-PG-1"
    assert _checksum_verifies(json_data, "CHECKSUMHASH")


def test_status_request_for_a_withdrawal_signs_its_txn_type_too() -> None:
    json_data = transaction_status_json_data(MERCHANT, "ORD-AD-1", txn_type="WITHDRAW")
    assert json.loads(json_data)["TXN_TYPE"] == "WITHDRAW"
    assert _checksum_verifies(json_data, "CHECKSUMHASH")


def test_refund_request_carries_seed_002s_fields_and_its_checksum_field_name() -> None:
    json_data = refund_json_data(
        MERCHANT, order_id="ORD-PG-1", txn_id="2026001", ref_id="REF-1", amount=Decimal("0.5")
    )
    data = json.loads(json_data)
    assert {k: v for k, v in data.items() if k != "CHECKSUM"} == {
        "MID": MERCHANT.mid,
        "TXNID": "2026001",
        "ORDERID": "ORD-PG-1",
        "REFUNDAMOUNT": "0.50",
        "TXNTYPE": "REFUND",
        "REFID": "REF-1",
    }
    assert _checksum_verifies(json_data, "CHECKSUM")
    with_comment = refund_json_data(
        MERCHANT, order_id="O", txn_id="T", ref_id="R", amount=Decimal("1"), comments="damaged item"
    )
    assert json.loads(with_comment)["COMMENTS"] == "damaged item"
    assert _checksum_verifies(with_comment, "CHECKSUM")


def test_refund_status_request_carries_mid_order_refid_and_a_params_checksum() -> None:
    json_data = refund_status_json_data(MERCHANT, order_id="ORD-PG-1", ref_id="REF-1")
    assert {k: v for k, v in json.loads(json_data).items() if k != "CHECKSUMHASH"} == {
        "MID": MERCHANT.mid,
        "ORDERID": "ORD-PG-1",
        "REFID": "REF-1",
    }
    assert _checksum_verifies(json_data, "CHECKSUMHASH")


def test_json_data_travels_as_one_form_field_with_the_checksum_intact() -> None:
    json_data = transaction_status_json_data(MERCHANT, "ORD+/= &1")
    form = parse_qs(json_data_form(json_data).decode("ascii"), keep_blank_values=True)
    assert form == {"JsonData": [json_data]}


# ---- transaction status answer -------------------------------------------------------------------


def _status_doc(**change: Any) -> bytes:
    document: dict[str, Any] = {
        "TXNID": "20260000000001",
        "BANKTXNID": "777001",
        "ORDERID": "ORD-PG-1",
        "TXNAMOUNT": "1.00",
        "STATUS": "TXN_SUCCESS",
        "TXNTYPE": "SALE",
        "GATEWAYNAME": "HDFC",
        "RESPCODE": "01",
        "RESPMSG": "Txn Successful.",
        "BANKNAME": "HDFC Bank",
        "MID": MERCHANT.mid,
        "PAYMENTMODE": "CC",
        "REFUNDAMT": "0.00",
        "TXNDATE": "2026-05-01 10:00:00.000000",
    }
    document.update(change)
    return json.dumps({k: v for k, v in document.items() if v is not ...}).encode()


def _refusal_doc(code: str, **change: Any) -> bytes:
    document = {"ORDERID": "ORD-PG-1", "STATUS": "TXN_FAILURE", "RESPCODE": code, "RESPMSG": "x", **change}
    return json.dumps(document).encode()


def _status(raw: bytes) -> Any:
    return read_status_answer(raw, order_id="ORD-PG-1", mid=MERCHANT.mid)


def test_a_success_answer_is_read_field_by_field() -> None:
    answer = _status(_status_doc())
    assert answer.outcome is SUCCESS
    assert (answer.status, answer.resp_code, answer.resp_msg) == ("TXN_SUCCESS", "01", "Txn Successful.")
    assert (answer.txn_id, answer.bank_txn_id, answer.order_id, answer.mid) == (
        "20260000000001",
        "777001",
        "ORD-PG-1",
        MERCHANT.mid,
    )
    assert str(answer.txn_amount) == "1.00"
    assert str(answer.refund_amount) == "0.00"
    assert (answer.payment_mode, answer.gateway_name, answer.bank_name) == ("CC", "HDFC", "HDFC Bank")
    assert (answer.txn_type, answer.txn_date) == ("SALE", "2026-05-01 10:00:00.000000")
    assert (answer.asked_order_id, answer.asked_mid) == ("ORD-PG-1", MERCHANT.mid)
    assert not answer.is_request_level


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        (_status_doc(), SUCCESS),
        (_status_doc(STATUS="TXN_PENDING", RESPCODE="402"), PENDING),  # seed 002 / the simulator
        (_status_doc(STATUS="PENDING", RESPCODE="402"), PENDING),  # Paytm's docs and SDKs
        (_status_doc(STATUS="PENDING", RESPCODE="400"), PENDING),
        (_status_doc(STATUS="TXN_FAILURE", RESPCODE="227"), FAILED),
        (_status_doc(STATUS="TXN_FAILURE", RESPCODE="141"), FAILED),
        (_status_doc(STATUS="TXN_FAILURE", RESPCODE="9999"), AMBIGUOUS),
        (_status_doc(STATUS="TXN_SUCCESS", RESPCODE="227"), AMBIGUOUS),
        (_status_doc(STATUS="UNHEARD_OF"), AMBIGUOUS),
        (_status_doc(STATUS=...), AMBIGUOUS),
        (_status_doc(RESPCODE=...), AMBIGUOUS),
        (_refusal_doc("334"), NOT_FOUND),
        (_refusal_doc("330"), CONFIG),
        (_refusal_doc("305"), CONFIG),
        (_refusal_doc("335"), CONFIG),
        (_refusal_doc("501"), AMBIGUOUS),
        (_refusal_doc("334", STATUS="TXN_SUCCESS"), AMBIGUOUS),
        (_refusal_doc("334", TXNID="20260000000001"), AMBIGUOUS),
        (_refusal_doc("334", TXNID=""), NOT_FOUND),  # Paytm's empty fields
        (b"<html>502</html>", AMBIGUOUS),
        (b"[]", AMBIGUOUS),
        (b"", AMBIGUOUS),
    ],
)
def test_status_answers(raw: bytes, outcome: Outcome) -> None:
    assert _status(raw).outcome is outcome


def test_a_txn_failure_carrying_an_unknown_order_code_is_not_a_failed_payment() -> None:
    answer = _status(_refusal_doc("334"))
    assert answer.outcome is NOT_FOUND
    assert answer.outcome is not FAILED
    assert answer.is_request_level
    assert answer.reason == "334 Invalid Order Id."


def test_a_not_found_that_names_a_transaction_says_why_it_is_ambiguous() -> None:
    answer = _status(_refusal_doc("334", TXNID="20260000000001"))
    assert answer.reason == "334 Invalid Order Id. yet TXNID 20260000000001: contradictory"


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("1.00", "1.00"),
        ("1", "1"),
        ("6223.75", "6223.75"),
        (" 10.50 ", "10.50"),
        (Decimal("6223.75"), "6223.75"),  # a JSON number, written by json.dumps as 6223.75
        (10, "10"),
        ("", None),
        ("abc", None),
        ("NaN", None),
        (None, None),
        (..., None),
        (True, None),
    ],
)
def test_amounts_are_parsed_exactly_or_not_at_all(value: Any, amount: str | None) -> None:
    if isinstance(value, Decimal):
        raw = _status_doc(TXNAMOUNT="__N__").replace(b'"__N__"', str(value).encode())
    else:
        raw = _status_doc(TXNAMOUNT=value)
    parsed = _status(raw).txn_amount
    assert (None if parsed is None else str(parsed)) == amount


# ---- refund and refund status answers ----------------------------------------------------------


def _refund_doc(**change: Any) -> bytes:
    document: dict[str, Any] = {
        "MID": MERCHANT.mid,
        "TXNID": "20260000000001",
        "ORDERID": "ORD-PG-1",
        "TXNAMOUNT": "100.00",
        "REFUNDAMOUNT": "40.50",
        "TXNDATE": "2026-05-01 10:00:00.000000",
        "RESPCODE": "10",
        "RESPMSG": "Refund Successfull",
        "STATUS": "TXN_SUCCESS",
        "REFID": "REF-1",
        "REFUNDID": "20260000000009",
    }
    document.update(change)
    return json.dumps({k: v for k, v in document.items() if v is not ...}).encode()


def test_a_refund_answer_is_read_field_by_field() -> None:
    answer = read_refund_answer(_refund_doc())
    assert answer.outcome is SUCCESS
    assert (answer.ref_id, answer.refund_id, answer.txn_id, answer.order_id, answer.mid) == (
        "REF-1",
        "20260000000009",
        "20260000000001",
        "ORD-PG-1",
        MERCHANT.mid,
    )
    assert (str(answer.refund_amount), str(answer.txn_amount)) == ("40.50", "100.00")
    assert answer.total_refund_amount is None
    assert answer.reason == "10 Refund Successful"


def test_a_refund_status_answer_carries_the_total_refunded() -> None:
    answer = read_refund_status_answer(
        _refund_doc(TOTALREFUNDAMT="60.50", REFUNDDATE="2026-05-02 10:00:00.000000")
    )
    assert answer.outcome is SUCCESS
    assert str(answer.total_refund_amount) == "60.50"
    assert answer.refund_date == "2026-05-02 10:00:00.000000"


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        (_refund_doc(), SUCCESS),
        (_refund_doc(STATUS="PENDING", RESPCODE="601", REFUNDID="2026009"), PENDING),
        (_refund_doc(STATUS="TXN_PENDING", RESPCODE="601"), PENDING),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="617", REFUNDID=...), AMBIGUOUS),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="619", REFUNDID=...), INVALID),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="627", REFUNDID=...), INVALID),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="600", REFUNDID=...), INVALID),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="330", REFUNDID=...), CONFIG),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="602", REFUNDID=...), FAILED),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="10"), AMBIGUOUS),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="4040"), AMBIGUOUS),
        (b"Internal Server Error", AMBIGUOUS),
        (b'"TXN_SUCCESS"', AMBIGUOUS),
    ],
)
def test_refund_answers(raw: bytes, outcome: Outcome) -> None:
    assert read_refund_answer(raw).outcome is outcome


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        (_refund_doc(), SUCCESS),
        (_refund_doc(STATUS="PENDING", RESPCODE="601"), PENDING),
        (_refund_doc(STATUS="TXN_PENDING", RESPCODE="601"), PENDING),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="631", REFUNDID=...), NOT_FOUND),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="631", REFUNDID=""), NOT_FOUND),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="631"), AMBIGUOUS),  # "no such refund" with a REFUNDID
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="330", REFUNDID=...), CONFIG),
        (_refund_doc(STATUS="TXN_FAILURE", RESPCODE="602"), FAILED),
        (_refund_doc(STATUS="TXN_SUCCESS", RESPCODE="631", REFUNDID=...), AMBIGUOUS),
        (b"<html/>", AMBIGUOUS),
    ],
)
def test_refund_status_answers(raw: bytes, outcome: Outcome) -> None:
    assert read_refund_status_answer(raw).outcome is outcome
