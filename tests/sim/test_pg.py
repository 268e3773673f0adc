"""Seed 004 (initiateTransaction) and the PG order after it: checkout, callback, status, refunds."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest

from paytm_signing import generate_signature, verify_signature
from tijori_local.sim.client import SimClient
from tijori_local.sim.pg_api import initiate_body, signed_json_data, signed_request
from tijori_local.sim.receiver import CallbackReceiver
from tijori_local.sim.server import SimServer
from tijori_local.sim.wire import loads

INITIATE = "/theia/api/v1/initiateTransaction"


def initiate_raw(client: SimClient, raw: bytes, mid: str, order_id: str) -> dict[str, Any]:
    response = client.http.post(
        INITIATE,
        params={"mid": mid, "orderId": order_id},
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    result: dict[str, Any] = loads(response.content)
    return result


def initiate(client: SimClient, order_id: str, **fields: Any) -> dict[str, Any]:
    body = initiate_body(client.credentials.mid, order_id, **fields)
    return initiate_raw(client, signed_request(body, client.pg_key), client.credentials.mid, order_id)


def result_code(answer: dict[str, Any]) -> str:
    return str(answer["body"]["resultInfo"]["resultCode"])


def checkout(client: SimClient, order_id: str, outcome: str, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = client.control("POST", f"pg/checkout/{order_id}", {"outcome": outcome, **fields})
    return result


def json_data_post(
    client: SimClient, path: str, data: dict[str, Any], field: str = "CHECKSUMHASH"
) -> dict[str, Any]:
    response = client.http.post(path, data={"JsonData": signed_json_data(data, client.pg_key, field)})
    assert response.status_code == 200
    result: dict[str, Any] = loads(response.content)
    return result


def txn_status(client: SimClient, order_id: str) -> dict[str, Any]:
    return json_data_post(
        client, "/merchant-status/getTxnStatus", {"MID": client.credentials.mid, "ORDERID": order_id}
    )


def refund(client: SimClient, order_id: str, txn_id: str, amount: str, ref_id: str) -> dict[str, Any]:
    data = {
        "MID": client.credentials.mid,
        "TXNID": txn_id,
        "ORDERID": order_id,
        "REFUNDAMOUNT": amount,
        "TXNTYPE": "REFUND",
        "REFID": ref_id,
    }
    return json_data_post(client, "/refund/HANDLER_INTERNAL/REFUND", data, field="CHECKSUM")


def paid_order(client: SimClient, order_id: str, amount: str = "100.00") -> str:
    initiate(client, order_id, txnAmount={"value": amount, "currency": "INR"})
    return str(checkout(client, order_id, "SUCCESS")["txnId"])


# -- initiateTransaction -------------------------------------------------------------------------


def test_seed_sample_request_gets_a_signed_txn_token_in_the_seed_shape(client: SimClient) -> None:
    # The seed's Python sample, verbatim apart from the merchant: json.dumps with its ", " separators.
    mid = client.credentials.mid
    body = {
        "requestType": "Payment",
        "mid": mid,
        "websiteName": "WEBSTAGING",
        "orderId": "ORDERID_98765",
        "callbackUrl": "https://merchant.example/callback",
        "txnAmount": {"value": "1.00", "currency": "INR"},
        "userInfo": {"custId": "CUST_001"},
    }
    checksum = generate_signature(json.dumps(body), client.pg_key)
    raw = json.dumps({"body": body, "head": {"signature": checksum}}).encode()

    response = client.http.post(INITIATE, params={"mid": mid, "orderId": "ORDERID_98765"}, content=raw)

    answer = loads(response.content)
    assert set(answer["head"]) == {"responseTimestamp", "version", "clientId", "signature"}
    assert answer["body"]["resultInfo"] == {"resultStatus": "S", "resultCode": "0000", "resultMsg": "Success"}
    assert len(answer["body"]["txnToken"]) == 32 + 13
    assert (answer["body"]["isPromoCodeValid"], answer["body"]["authenticated"]) == (False, False)
    # head.signature is over the exact text of the answer's body.
    text = response.content.decode()
    body_text = text[text.index('"body":') + len('"body":') : -1]
    assert verify_signature(body_text, client.pg_key, answer["head"]["signature"])


def test_same_order_and_same_body_is_an_idempotent_repeat_with_the_same_token(client: SimClient) -> None:
    first = initiate(client, "ORD-IDEM")

    second = initiate(client, "ORD-IDEM")

    assert result_code(second) == "0002"
    assert second["body"]["resultInfo"]["resultMsg"] == "Success Idempotent"
    assert second["body"]["txnToken"] == first["body"]["txnToken"]


def test_same_order_with_a_different_body_is_refused_as_inconsistent(client: SimClient) -> None:
    initiate(client, "ORD-INC")

    answer = initiate(client, "ORD-INC", txnAmount={"value": "2.00", "currency": "INR"})

    assert result_code(answer) == "2023"
    assert "txnToken" not in answer["body"]


def test_signature_over_another_text_than_the_body_sent_is_refused(client: SimClient) -> None:
    body = initiate_body(client.credentials.mid, "ORD-CHK")
    # Signed over a re-serialization (spaces) but the body is sent compact: not what was signed.
    signature = generate_signature(json.dumps(body), client.pg_key)

    answer = initiate_raw(
        client, signed_request(body, client.pg_key, signature=signature), body["mid"], "ORD-CHK"
    )

    assert result_code(answer) == "2005"


@pytest.mark.parametrize(
    ("query", "code"),
    [({"mid": "OTHERMID0000000001"}, "2013"), ({"orderId": "ORD-OTHER"}, "2014")],
    ids=["mid", "orderId"],
)
def test_query_params_that_differ_from_the_body_are_refused(
    client: SimClient, query: dict[str, str], code: str
) -> None:
    body = initiate_body(client.credentials.mid, "ORD-Q")
    params = {"mid": client.credentials.mid, "orderId": "ORD-Q", **query}

    answer = initiate_raw(client, signed_request(body, client.pg_key), params["mid"], params["orderId"])

    assert result_code(answer) == code


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"userInfo": None}, "1007"),
        ({"websiteName": None, "callbackUrl": None}, "1007"),
        ({"txnAmount": {"value": "0.00", "currency": "INR"}}, "2007"),
        ({"txnAmount": {"value": "1.005", "currency": "INR"}}, "2007"),
        ({"txnAmount": {"value": "1.00", "currency": "USD"}}, "1001"),
        ({"requestType": "NATIVE_SUBSCRIPTION"}, "1001"),
        ({"userInfo": {"custId": "CUST|001"}}, "1008"),
    ],
    ids=["no-userInfo", "no-website-or-callback", "zero", "three-places", "usd", "request-type", "pipe"],
)
def test_invalid_requests_get_the_seed_codes_and_no_order(
    client: SimClient, fields: dict[str, Any], code: str
) -> None:
    answer = initiate(client, "ORD-BAD", **fields)

    assert result_code(answer) == code
    assert answer["body"]["resultInfo"]["resultStatus"] == "F"
    assert result_code(initiate(client, "ORD-BAD")) == "0000"  # the order id was not taken


def test_a_valid_linked_user_token_marks_the_transaction_authenticated(client: SimClient) -> None:
    token = client.control("POST", "autodebit/token", {"phone": "9000000001"})["token"]

    assert initiate(client, "ORD-SSO", paytmSsoToken=token)["body"]["authenticated"] is True
    assert result_code(initiate(client, "ORD-SSO2", paytmSsoToken="not-a-token")) == "2004"


# -- checkout, callback, status ------------------------------------------------------------------


def test_successful_checkout_posts_a_signed_form_callback_and_captures_the_money(
    client: SimClient, receiver: CallbackReceiver
) -> None:
    initiate(
        client,
        "ORD-PAY",
        callbackUrl=f"{receiver.url}/pg/cb",
        txnAmount={"value": "250.50", "currency": "INR"},
    )

    order = checkout(client, "ORD-PAY", "SUCCESS", payment_mode="DC")

    (callback,) = receiver.wait_for(1)
    assert callback.headers["content-type"] == "application/x-www-form-urlencoded"
    fields = dict(parse_qsl(callback.body.decode(), keep_blank_values=True))
    assert set(fields) == {
        "MID", "ORDERID", "TXNID", "TXNAMOUNT", "CURRENCY", "STATUS", "RESPCODE", "RESPMSG",
        "BANKTXNID", "TXNDATE", "GATEWAYNAME", "BANKNAME", "PAYMENTMODE", "CHECKSUMHASH",
    }  # fmt: skip
    assert verify_signature(fields, client.pg_key, fields["CHECKSUMHASH"])
    assert (fields["ORDERID"], fields["TXNID"], fields["TXNAMOUNT"]) == ("ORD-PAY", order["txnId"], "250.50")
    assert (fields["STATUS"], fields["RESPCODE"], fields["PAYMENTMODE"]) == ("TXN_SUCCESS", "01", "DC")
    assert Decimal(client.balances()[f"pg:{client.credentials.mid}"]) == Decimal("250.50")
    assert client.conservation()["ok"] is True


def test_status_reads_pending_until_paid_then_success(client: SimClient) -> None:
    initiate(client, "ORD-ST", txnAmount={"value": "10.00", "currency": "INR"})
    assert (txn_status(client, "ORD-ST")["STATUS"], txn_status(client, "ORD-ST")["RESPCODE"]) == (
        "TXN_PENDING",
        "402",
    )

    checkout(client, "ORD-ST", "SUCCESS")

    status = txn_status(client, "ORD-ST")
    assert (status["STATUS"], status["RESPCODE"], status["TXNAMOUNT"], status["REFUNDAMT"]) == (
        "TXN_SUCCESS",
        "01",
        "10.00",
        "0.00",
    )
    assert set(status) >= {
        "TXNID",
        "BANKTXNID",
        "TXNTYPE",
        "GATEWAYNAME",
        "BANKNAME",
        "MID",
        "PAYMENTMODE",
        "TXNDATE",
    }


def test_pending_checkout_can_later_fail_and_no_money_moves(
    client: SimClient, receiver: CallbackReceiver
) -> None:
    initiate(client, "ORD-PF", callbackUrl=receiver.url)

    checkout(client, "ORD-PF", "PENDING")
    checkout(client, "ORD-PF", "FAILURE")

    pending, failed = receiver.wait_for(2)
    assert dict(parse_qsl(pending.body.decode()))["STATUS"] == "TXN_PENDING"
    assert dict(parse_qsl(failed.body.decode()))["STATUS"] == "TXN_FAILURE"
    assert txn_status(client, "ORD-PF")["RESPCODE"] == "227"
    assert client.control("GET", "ledger?order_id=ORD-PF") == []


def test_token_older_than_15_minutes_cannot_be_paid_and_the_order_fails(
    client: SimClient, sim: SimServer
) -> None:
    initiate(client, "ORD-EXP")
    sim.clock.advance(seconds=15 * 60)

    response = client.http.post("/_sim/pg/checkout/ORD-EXP", json={"outcome": "SUCCESS"})

    assert response.status_code == 409
    assert "1006" in response.json()["error"]
    assert (txn_status(client, "ORD-EXP")["STATUS"], txn_status(client, "ORD-EXP")["RESPCODE"]) == (
        "TXN_FAILURE",
        "141",
    )


def test_a_final_checkout_cannot_be_completed_twice(client: SimClient) -> None:
    paid_order(client, "ORD-TWICE")

    response = client.http.post("/_sim/pg/checkout/ORD-TWICE", json={"outcome": "SUCCESS"})

    assert response.status_code == 409
    assert [e["kind"] for e in client.control("GET", "ledger?order_id=ORD-TWICE")] == ["pg_capture"]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("duplicate_callback", [("final", "TXN_SUCCESS", True), ("final", "TXN_SUCCESS", True)]),
        ("out_of_order_callback", [("final", "TXN_SUCCESS", True), ("stale", "TXN_PENDING", True)]),
        ("forged_checksum_callback", [("forged", "TXN_SUCCESS", False), ("final", "TXN_SUCCESS", True)]),
    ],
)
def test_callback_faults_apply_to_pg_callbacks(
    client: SimClient, receiver: CallbackReceiver, fault: str, expected: list[tuple[str, str, bool]]
) -> None:
    client.fault(fault, path=INITIATE, order_id="ORD-CBF")
    initiate(client, "ORD-CBF", callbackUrl=receiver.url)

    checkout(client, "ORD-CBF", "SUCCESS")

    received = receiver.wait_for(2)
    seen = []
    for callback in received:
        fields = dict(parse_qsl(callback.body.decode(), keep_blank_values=True))
        seen.append((fields["STATUS"], verify_signature(fields, client.pg_key, fields["CHECKSUMHASH"])))
    assert seen == [(status, genuine) for _, status, genuine in expected]


def test_status_refuses_a_bad_checksum_and_an_unknown_order(client: SimClient) -> None:
    bad = client.http.post(
        "/merchant-status/getTxnStatus",
        data={
            "JsonData": json.dumps({"MID": client.credentials.mid, "ORDERID": "X", "CHECKSUMHASH": "A" * 108})
        },
    ).json()

    assert (bad["STATUS"], bad["RESPCODE"]) == ("TXN_FAILURE", "330")
    assert txn_status(client, "NO-SUCH-ORDER")["RESPCODE"] == "334"


def test_the_seed_sample_status_path_with_query_json_data_works(client: SimClient) -> None:
    paid_order(client, "ORD-SAMPLE")
    data = signed_json_data({"MID": client.credentials.mid, "ORDERID": "ORD-SAMPLE"}, client.pg_key)

    answer = client.http.get("/theia/HANDLER_INTERNAL/getTxnStatus", params={"JsonData": data}).json()

    assert answer["STATUS"] == "TXN_SUCCESS"


# -- refunds -------------------------------------------------------------------------------------


def test_partial_refunds_move_money_back_and_never_exceed_the_captured_amount(client: SimClient) -> None:
    txn_id = paid_order(client, "ORD-REF", "100.00")

    first = refund(client, "ORD-REF", txn_id, "60.00", "REF-1")
    second = refund(client, "ORD-REF", txn_id, "40.01", "REF-2")
    third = refund(client, "ORD-REF", txn_id, "40.00", "REF-3")

    assert (first["STATUS"], first["RESPCODE"], first["REFUNDAMOUNT"]) == ("TXN_SUCCESS", "10", "60.00")
    assert first["REFUNDID"]
    assert (second["STATUS"], second["RESPCODE"]) == ("TXN_FAILURE", "619")
    assert third["RESPCODE"] == "10"
    assert Decimal(client.balances()[f"pg:{client.credentials.mid}"]) == Decimal("0.00")
    assert txn_status(client, "ORD-REF")["REFUNDAMT"] == "100.00"
    assert client.conservation()["ok"] is True


def test_refund_status_reports_each_refund_and_the_running_total(client: SimClient) -> None:
    txn_id = paid_order(client, "ORD-RS", "50.00")
    refund(client, "ORD-RS", txn_id, "20.00", "REF-A")
    refund(client, "ORD-RS", txn_id, "5.00", "REF-B")

    answer = json_data_post(
        client,
        "/refund/HANDLER_INTERNAL/getRefundStatus",
        {"MID": client.credentials.mid, "ORDERID": "ORD-RS", "REFID": "REF-A"},
    )

    assert (answer["STATUS"], answer["RESPCODE"], answer["REFUNDAMOUNT"], answer["TOTALREFUNDAMT"]) == (
        "TXN_SUCCESS",
        "10",
        "20.00",
        "25.00",
    )
    assert answer["REFID"] == "REF-A"


@pytest.mark.parametrize(
    ("setup", "txn_id", "ref_id", "code"),
    [
        ("paid", None, "REF-1", "617"),
        ("paid", "999", "REF-N", "627"),
        ("unpaid", None, "REF-N", "600"),
    ],
    ids=["duplicate-refid", "wrong-txnid", "not-paid"],
)
def test_refunds_that_cannot_be_made_are_refused_without_moving_money(
    client: SimClient, setup: str, txn_id: str | None, ref_id: str, code: str
) -> None:
    if setup == "paid":
        paid = paid_order(client, "ORD-RX", "30.00")
        refund(client, "ORD-RX", paid, "1.00", "REF-1")
    else:
        initiate(client, "ORD-RX")
        paid = client.control("GET", "orders/ORD-RX")["txnId"]
    before = client.balances().get(f"pg:{client.credentials.mid}")

    answer = refund(client, "ORD-RX", txn_id or paid, "1.00", ref_id)

    assert (answer["STATUS"], answer["RESPCODE"]) == ("TXN_FAILURE", code)
    assert client.balances().get(f"pg:{client.credentials.mid}") == before


def test_callbacks_of_one_order_arrive_in_the_order_they_happened(
    client: SimClient, receiver: CallbackReceiver
) -> None:
    for attempt in range(5):
        order_id = f"ORD-SEQ-{attempt}"
        initiate(client, order_id, callbackUrl=receiver.url)
        checkout(client, order_id, "PENDING")
        checkout(client, order_id, "SUCCESS")
    received = receiver.wait_for(10)
    by_order: dict[str, list[str]] = {}
    for callback in received:
        fields = dict(parse_qsl(callback.body.decode()))
        by_order.setdefault(fields["ORDERID"], []).append(fields["STATUS"])
    assert all(statuses == ["TXN_PENDING", "TXN_SUCCESS"] for statuses in by_order.values()), by_order
