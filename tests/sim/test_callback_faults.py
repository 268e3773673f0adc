"""Callback faults: duplicated, out of order, forged checksum (on seed 001's callbacks)."""

from __future__ import annotations

from paytm_signing import verify_signature
from tijori_local.sim.client import SimClient
from tijori_local.sim.receiver import CallbackReceiver
from tijori_local.sim.wire import loads

VALIDATE = "/bpay/api/v1/beneficiary/validate"


def validate(client: SimClient, receiver: CallbackReceiver, order_id: str) -> None:
    client.user(phone="8001234891")
    client.validate_wallet(order_id, "8001234891", callbackUrl=receiver.url)


def test_duplicate_callback_delivers_the_same_signed_callback_twice(
    client: SimClient, receiver: CallbackReceiver
) -> None:
    client.fault("duplicate_callback", path=VALIDATE)
    validate(client, receiver, "CB-DUP")

    first, second = receiver.wait_for(2)

    assert first.body == second.body
    assert verify_signature(second.body, client.payouts_key, second.headers["x-checksum"])


def test_out_of_order_callback_sends_a_stale_pending_after_the_final_one(
    client: SimClient, receiver: CallbackReceiver
) -> None:
    client.fault("out_of_order_callback", path=VALIDATE, order_id="CB-OOO")
    validate(client, receiver, "CB-OOO")

    final, stale = receiver.wait_for(2)

    assert loads(final.body)["status"] == "SUCCESS"
    assert loads(stale.body)["status"] == "PENDING"
    assert verify_signature(stale.body, client.payouts_key, stale.headers["x-checksum"])


def test_forged_checksum_callback_comes_first_and_does_not_verify(
    client: SimClient, receiver: CallbackReceiver
) -> None:
    client.fault("forged_checksum_callback", path=VALIDATE)
    client.validate_wallet("CB-FORGED", "8001234899", callbackUrl=receiver.url)  # unknown user: FAILURE

    forged, genuine = receiver.wait_for(2)

    assert loads(forged.body)["status"] == "SUCCESS"
    assert not verify_signature(forged.body, client.payouts_key, forged.headers["x-checksum"])
    assert loads(genuine.body)["status"] == "FAILURE"
    assert verify_signature(genuine.body, client.payouts_key, genuine.headers["x-checksum"])


def test_callback_faults_leave_other_orders_alone(client: SimClient, receiver: CallbackReceiver) -> None:
    client.fault("duplicate_callback", path=VALIDATE, order_id="CB-OTHER")
    validate(client, receiver, "CB-PLAIN")
    client.validate_wallet("CB-PLAIN-2", "8001234891", callbackUrl=receiver.url)

    received = receiver.wait_for(2)

    assert len(received) == 2
    assert {loads(r.body)["result"]["orderId"] for r in received} == {"CB-PLAIN", "CB-PLAIN-2"}
    assert len(client.control("GET", "faults")) == 1
