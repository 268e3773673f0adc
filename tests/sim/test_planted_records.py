"""`POST /_sim/orders/{id}/plant`, the test affordance reconciliation tests use: the status APIs
show the planted status and amount from then on, no money moves, and a bad request names its
field."""

from __future__ import annotations

import pytest

from tests.sim.test_pg import json_data_post, paid_order, refund, txn_status
from tijori_local.sim.client import SimClient


def test_a_planted_pg_record_changes_what_the_status_api_shows_and_moves_no_money(client: SimClient) -> None:
    txn_id = paid_order(client, "ORD-PLANT", "100.00")
    ledger_before = client.control("GET", "ledger")
    planted = client.control(
        "POST", "orders/ORD-PLANT/plant", {"api": "pg", "status": "FAILURE", "amount": "90.00"}
    )
    assert planted == {"api": "pg", "id": "ORD-PLANT", "status": "FAILURE", "amount": "90.00"}
    answer = txn_status(client, "ORD-PLANT")
    assert (answer["STATUS"], answer["RESPCODE"], answer["TXNAMOUNT"], answer["TXNID"]) == (
        "TXN_FAILURE",
        "227",
        "90.00",
        txn_id,
    )
    assert client.control("GET", "ledger") == ledger_before


def test_a_planted_refund_record_changes_the_refund_status_answer(client: SimClient) -> None:
    txn_id = paid_order(client, "ORD-PLANT-REF", "100.00")
    assert refund(client, "ORD-PLANT-REF", txn_id, "40.00", "REF-PLANT")["STATUS"] == "TXN_SUCCESS"
    client.control("POST", "orders/REF-PLANT/plant", {"api": "refund", "amount": "4.00"})
    answer = json_data_post(
        client,
        "/refund/HANDLER_INTERNAL/getRefundStatus",
        {"MID": client.credentials.mid, "ORDERID": "ORD-PLANT-REF", "REFID": "REF-PLANT"},
    )
    assert (answer["STATUS"], answer["REFUNDAMOUNT"]) == ("TXN_SUCCESS", "4.00")


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"api": "ledger", "status": "SUCCESS"}, "api"),
        ({"api": "wallet", "status": "EXPIRED"}, "status"),
        ({"api": "pg", "amount": "ten"}, "amount"),
        ({"api": "pg", "amount": "-1"}, "amount"),
        ({"api": "pg"}, "status, an amount"),
    ],
)
def test_a_bad_plant_is_400_naming_the_field(client: SimClient, body: dict[str, str], named: str) -> None:
    response = client.http.post("/_sim/orders/ORD-X/plant", json=body)
    assert response.status_code == 400
    assert named in response.json()["error"]
