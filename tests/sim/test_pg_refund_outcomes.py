"""Refunds that stay pending, then succeed or fail; refunds that fail at once. Scripted by REFID
through the control API or by a refund fault; money moves only when a refund succeeds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tijori_local.sim.client import SimClient
from tijori_local.sim.pg_api import find_refund, initiate_body, signed_json_data, signed_request
from tijori_local.sim.server import SimServer
from tijori_local.sim.wire import loads

REFUND = "/refund/HANDLER_INTERNAL/REFUND"
REFUND_STATUS = "/refund/HANDLER_INTERNAL/getRefundStatus"
PENDING_MESSAGE = "Refund request was raised for this transaction. But it is pending state"


def paid_order(client: SimClient, order_id: str, amount: str = "100.00") -> str:
    body = initiate_body(client.credentials.mid, order_id, txnAmount={"value": amount, "currency": "INR"})
    client.http.post(
        "/theia/api/v1/initiateTransaction",
        params={"mid": client.credentials.mid, "orderId": order_id},
        content=signed_request(body, client.pg_key),
    )
    return str(client.control("POST", f"pg/checkout/{order_id}", {"outcome": "SUCCESS"})["txnId"])


def post_json_data(client: SimClient, path: str, data: dict[str, Any], field: str) -> dict[str, Any]:
    response = client.http.post(path, data={"JsonData": signed_json_data(data, client.pg_key, field)})
    assert response.status_code == 200
    result: dict[str, Any] = loads(response.content)
    return result


def refund(client: SimClient, order_id: str, txn_id: str, amount: str, ref_id: str) -> dict[str, Any]:
    data = {
        "MID": client.credentials.mid,
        "TXNID": txn_id,
        "ORDERID": order_id,
        "REFUNDAMOUNT": amount,
        "TXNTYPE": "REFUND",
        "REFID": ref_id,
    }
    return post_json_data(client, REFUND, data, "CHECKSUM")


def refund_status(client: SimClient, order_id: str, ref_id: str) -> dict[str, Any]:
    data = {"MID": client.credentials.mid, "ORDERID": order_id, "REFID": ref_id}
    return post_json_data(client, REFUND_STATUS, data, "CHECKSUMHASH")


def txn_refunded(client: SimClient, order_id: str) -> str:
    data = {"MID": client.credentials.mid, "ORDERID": order_id}
    return str(post_json_data(client, "/merchant-status/getTxnStatus", data, "CHECKSUMHASH")["REFUNDAMT"])


def script(client: SimClient, ref_id: str, outcome: str, **fields: str) -> dict[str, Any]:
    result: dict[str, Any] = client.control(
        "POST", f"pg/refunds/{ref_id}/script", {"outcome": outcome, **fields}
    )
    return result


def settle(client: SimClient, ref_id: str, outcome: str, **fields: str) -> dict[str, Any]:
    result: dict[str, Any] = client.control(
        "POST", f"pg/refunds/{ref_id}/settle", {"outcome": outcome, **fields}
    )
    return result


def pg_balance(client: SimClient) -> Decimal:
    return Decimal(client.balances()[f"pg:{client.credentials.mid}"])


def refund_ledger(client: SimClient, order_id: str) -> list[str]:
    return [
        e["amount"] for e in client.control("GET", f"ledger?order_id={order_id}") if e["kind"] == "pg_refund"
    ]


def test_a_refund_scripted_pending_answers_601_with_the_pending_literal_and_moves_no_money(
    client: SimClient,
) -> None:
    txn_id = paid_order(client, "RP-1")
    script(client, "RP-1-A", "PENDING")

    answer = refund(client, "RP-1", txn_id, "30.00", "RP-1-A")

    assert (answer["STATUS"], answer["RESPCODE"], answer["RESPMSG"]) == (
        "TXN_PENDING",
        "601",
        PENDING_MESSAGE,
    )
    assert (answer["REFID"], answer["REFUNDAMOUNT"]) == ("RP-1-A", "30.00")
    assert "REFUNDID" not in answer  # the seed: a REFUNDID for every *successful* refund
    assert pg_balance(client) == Decimal("100.00")
    assert refund_ledger(client, "RP-1") == []
    assert txn_refunded(client, "RP-1") == "0.00"
    assert client.conservation()["ok"] is True


def test_a_refund_left_pending_settles_to_success_when_scripted(client: SimClient) -> None:
    txn_id = paid_order(client, "RP-2")
    script(client, "RP-2-A", "PENDING")
    refund(client, "RP-2", txn_id, "30.00", "RP-2-A")

    settled = settle(client, "RP-2-A", "SUCCESS")

    assert (settled["status"], settled["respCode"]) == ("TXN_SUCCESS", "10")
    status = refund_status(client, "RP-2", "RP-2-A")
    assert (status["STATUS"], status["RESPCODE"], status["TOTALREFUNDAMT"]) == ("TXN_SUCCESS", "10", "30.00")
    assert status["REFUNDID"] == settled["refundId"] != ""
    assert pg_balance(client) == Decimal("70.00")
    assert refund_ledger(client, "RP-2") == ["30.00"]
    assert txn_refunded(client, "RP-2") == "30.00"
    assert client.conservation()["ok"] is True


def test_a_refund_left_pending_settles_to_failure_and_its_amount_is_refundable_again(
    client: SimClient,
) -> None:
    txn_id = paid_order(client, "RP-3")
    script(client, "RP-3-A", "PENDING")
    refund(client, "RP-3", txn_id, "100.00", "RP-3-A")

    settled = settle(client, "RP-3-A", "FAILURE")
    again = refund(client, "RP-3", txn_id, "100.00", "RP-3-B")

    assert (settled["status"], settled["respCode"]) == ("TXN_FAILURE", "602")
    status = refund_status(client, "RP-3", "RP-3-A")
    assert (status["STATUS"], status["RESPCODE"], status["RESPMSG"]) == (
        "TXN_FAILURE",
        "602",
        "Refund Failed",
    )
    assert status["REFUNDID"] == ""
    assert (again["STATUS"], again["RESPCODE"]) == ("TXN_SUCCESS", "10")
    assert refund_ledger(client, "RP-3") == ["100.00"]
    assert pg_balance(client) == Decimal("0.00")
    assert client.conservation()["ok"] is True


def test_a_pending_refund_holds_its_amount_so_an_over_refund_is_refused(client: SimClient) -> None:
    txn_id = paid_order(client, "RP-4")
    script(client, "RP-4-A", "PENDING")
    refund(client, "RP-4", txn_id, "60.00", "RP-4-A")

    over = refund(client, "RP-4", txn_id, "40.01", "RP-4-B")
    exact = refund(client, "RP-4", txn_id, "40.00", "RP-4-C")

    assert (over["STATUS"], over["RESPCODE"]) == ("TXN_FAILURE", "619")
    assert (exact["STATUS"], exact["RESPCODE"]) == ("TXN_SUCCESS", "10")
    order = client.control("GET", "orders/RP-4")
    assert (order["refunded"], order["refundPending"]) == ("40.00", "60.00")
    assert client.conservation()["ok"] is True


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([("script", "PENDING")], ("TXN_PENDING", "601", PENDING_MESSAGE, False, "0.00")),
        (
            [("script", "PENDING"), ("settle", "SUCCESS")],
            ("TXN_SUCCESS", "10", "Refund Successfull", True, "25.00"),
        ),
        (
            [("script", "PENDING"), ("settle", "FAILURE")],
            ("TXN_FAILURE", "602", "Refund Failed", False, "0.00"),
        ),
        ([("script", "FAILURE")], ("TXN_FAILURE", "602", "Refund Failed", False, "0.00")),
        ([], ("TXN_SUCCESS", "10", "Refund Successfull", True, "25.00")),
    ],
    ids=["pending", "pending-then-success", "pending-then-failure", "failed-at-once", "instant-success"],
)
def test_refund_status_answers_each_state_of_a_refund(
    client: SimClient, steps: list[tuple[str, str]], expected: tuple[str, str, str, bool, str]
) -> None:
    txn_id = paid_order(client, "RP-5")
    for step, outcome in steps:
        if step == "script":
            script(client, "RP-5-A", outcome)
    refund(client, "RP-5", txn_id, "25.00", "RP-5-A")
    for step, outcome in steps:
        if step == "settle":
            settle(client, "RP-5-A", outcome)

    answer = refund_status(client, "RP-5", "RP-5-A")

    status, code, message, has_refund_id, total = expected
    assert (answer["STATUS"], answer["RESPCODE"], answer["RESPMSG"]) == (status, code, message)
    assert bool(answer["REFUNDID"]) is has_refund_id
    assert (answer["REFUNDAMOUNT"], answer["TOTALREFUNDAMT"], answer["REFID"]) == ("25.00", total, "RP-5-A")
    assert client.conservation()["ok"] is True


def test_a_refund_scripted_to_fail_at_once_answers_its_code_and_frees_the_amount(client: SimClient) -> None:
    txn_id = paid_order(client, "RP-6")
    script(client, "RP-6-A", "FAILURE", code="600", message="Invalid refund request or restricted by bank.")

    failed = refund(client, "RP-6", txn_id, "100.00", "RP-6-A")
    reused = refund(client, "RP-6", txn_id, "1.00", "RP-6-A")
    again = refund(client, "RP-6", txn_id, "100.00", "RP-6-B")

    assert (failed["STATUS"], failed["RESPCODE"]) == ("TXN_FAILURE", "600")
    assert failed["RESPMSG"] == "Invalid refund request or restricted by bank."
    assert reused["RESPCODE"] == "617"  # the REFID of a failed refund stays taken
    assert again["RESPCODE"] == "10"
    assert client.conservation()["ok"] is True


def test_a_refund_refused_before_acceptance_leaves_its_script_for_the_next_attempt(client: SimClient) -> None:
    txn_id = paid_order(client, "RP-7", "10.00")
    script(client, "RP-7-A", "PENDING")

    refused = refund(client, "RP-7", txn_id, "10.01", "RP-7-A")
    accepted = refund(client, "RP-7", txn_id, "10.00", "RP-7-A")

    assert refused["RESPCODE"] == "619"
    assert (accepted["STATUS"], accepted["RESPCODE"]) == ("TXN_PENDING", "601")


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("refund_pending", "TXN_PENDING", "601"), ("refund_failure", "TXN_FAILURE", "602")],
)
def test_a_refund_fault_decides_the_next_accepted_refund_of_that_order(
    client: SimClient, kind: str, status: str, code: str
) -> None:
    txn_id = paid_order(client, "RP-8")
    other_txn = paid_order(client, "RP-8-OTHER")
    client.fault(kind, path=REFUND, order_id="RP-8")

    elsewhere = refund(client, "RP-8-OTHER", other_txn, "1.00", "RP-8-X")
    refused = refund(client, "RP-8", txn_id, "100.01", "RP-8-A")
    hit = refund(client, "RP-8", txn_id, "10.00", "RP-8-B")
    after = refund(client, "RP-8", txn_id, "10.00", "RP-8-C")

    assert elsewhere["RESPCODE"] == "10"
    assert refused["RESPCODE"] == "619"  # refused before acceptance: the fault stays armed
    assert (hit["STATUS"], hit["RESPCODE"]) == (status, code)
    assert after["RESPCODE"] == "10"  # count 1: used up
    assert client.control("GET", "faults") == []
    assert client.conservation()["ok"] is True


def test_a_withdrawal_refund_left_pending_reaches_the_user_wallet_only_on_success(client: SimClient) -> None:
    token = client.control("POST", "autodebit/token", {"phone": "9000000001", "balance": "50.00"})["token"]
    sso_id = client.control("GET", "users")[0]["sso_id"]
    data = {
        "OrderId": "RP-WD",
        "ReqType": "WITHDRAW",
        "MID": client.credentials.mid,
        "AppIP": "127.0.0.1",
        "TxnAmount": "20.00",
        "Currency": "INR",
        "DeviceId": "9999999999",
        "SSOToken": token,
        "PaymentMode": "PPI",
        "CustId": "20235",
        "IndustryType": "Retail",
        "Channel": "WAP",
        "AuthMode": "USRPWD",
    }
    txn_id = str(post_json_data(client, "/order/directPay", data, "CheckSum")["TxnId"])
    script(client, "RP-WD-A", "PENDING")
    refund(client, "RP-WD", txn_id, "20.00", "RP-WD-A")
    pending_balance = client.balances()[f"user:{sso_id}"]

    settle(client, "RP-WD-A", "SUCCESS")

    assert Decimal(pending_balance) == Decimal("30.00")
    assert Decimal(client.balances()[f"user:{sso_id}"]) == Decimal("50.00")
    assert client.conservation()["ok"] is True


def test_the_refund_record_carries_a_status_other_routes_can_read(sim: SimServer, client: SimClient) -> None:
    txn_id = paid_order(client, "RP-9")
    script(client, "RP-9-A", "PENDING")
    refund(client, "RP-9", txn_id, "5.00", "RP-9-A")
    refund(client, "RP-9", txn_id, "5.00", "RP-9-B")
    script(client, "RP-9-C", "FAILURE")
    refund(client, "RP-9", txn_id, "5.00", "RP-9-C")

    statuses = {}
    for ref_id in ("RP-9-A", "RP-9-B", "RP-9-C"):
        found = find_refund(sim.state, ref_id)
        assert found is not None
        statuses[ref_id] = found[1].status

    assert statuses == {"RP-9-A": "TXN_PENDING", "RP-9-B": "TXN_SUCCESS", "RP-9-C": "TXN_FAILURE"}


@pytest.mark.parametrize(
    ("call", "body", "status_code"),
    [
        ("script", {"outcome": "SUCCESS"}, 400),
        ("script", {"outcome": "PENDING", "code": "601"}, 400),
        ("script-used", {"outcome": "PENDING"}, 409),
        ("settle", {"outcome": "SUCCESS"}, 404),
        ("settle-final", {"outcome": "FAILURE"}, 409),
        ("settle-pending", {"outcome": "PENDING"}, 400),
    ],
    ids=[
        "script-success",
        "script-pending-code",
        "script-used-refid",
        "settle-unknown",
        "settle-final",
        "settle-to-pending",
    ],
)
def test_refund_control_calls_refuse_what_cannot_be_done(
    client: SimClient, call: str, body: dict[str, str], status_code: int
) -> None:
    txn_id = paid_order(client, "RP-C")
    refund(client, "RP-C", txn_id, "1.00", "RP-C-DONE")
    ref_id = "RP-C-DONE" if call in ("script-used", "settle-final") else "RP-C-NEW"
    action = "script" if call.startswith("script") else "settle"

    response = client.http.post(f"/_sim/pg/refunds/{ref_id}/{action}", json=body)

    assert response.status_code == status_code, response.text
    assert client.control("GET", "ledger?order_id=RP-C")[-1]["kind"] == "pg_refund"
    assert len(refund_ledger(client, "RP-C")) == 1
