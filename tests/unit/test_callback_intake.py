"""Callback intake against the real CallbacksTable adapter (moto): the known-fields table, the
delivery fingerprint, and what happens when a status check cannot be requested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.conftest import LocalAccount
from tijori.adapters.callback_table import DynamoDbCallbackStore
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.callbacks import CallbackKind, CallbackOutcome, VerifiedCallback, receive_callback
from tijori.payouts.models import Payout, PayoutRequest

RECEIVED_AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


def _payouts_callback(status: str = "SUCCESS", **result: object) -> VerifiedCallback:
    fields = {"mid": "M", "orderId": "VAL-1", "paytmOrderId": "P-1", "amount": "1.00", **result}
    return VerifiedCallback(
        kind=CallbackKind.PAYOUTS,
        fields={"status": status, "statusCode": "DE_001", "statusMessage": "ok", "result": fields},
    )


def test_unknown_fields_are_named_by_dotted_path_and_unknown_objects_are_not_looked_into() -> None:
    callback = _payouts_callback(beneficiaryName="X", extra={"deep": 1})
    callback.fields["udf1"] = "top-level names are per kind"
    assert callback.unknown_fields == ["result.beneficiaryName", "result.extra", "udf1"]
    assert VerifiedCallback(kind=CallbackKind.PG, fields={"udf1": "a", "ORDERID": "O"}).unknown_fields == []


def test_payouts_order_id_is_read_only_from_result_order_id() -> None:
    assert _payouts_callback().order_id == "VAL-1"
    top_level = VerifiedCallback(kind=CallbackKind.PAYOUTS, fields={"orderId": "VAL-1", "status": "SUCCESS"})
    assert top_level.order_id is None


def test_fingerprint_is_kind_order_status_and_paytm_id_only() -> None:
    same = _payouts_callback(amount="2.00").delivery_fingerprint
    assert _payouts_callback().delivery_fingerprint == same
    assert _payouts_callback(status="FAILURE").delivery_fingerprint != same
    assert _payouts_callback(paytmOrderId="P-2").delivery_fingerprint != same
    renamed = _payouts_callback()
    renamed.fields["result"]["paytmOrderID"] = renamed.fields["result"].pop("paytmOrderId")
    assert renamed.delivery_fingerprint != same


class _QueueDownOnce:
    """A StatusCheckRequester whose first send fails, as SQS might; later ones go through."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        self.failed = False

    def request_check(self, order_id: str) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("queue unreachable")
        self.requested.append(order_id)


def test_a_failed_check_request_frees_the_delivery_so_paytms_retry_triggers_the_check(
    aws_account: LocalAccount,
) -> None:
    request = PayoutRequest.model_validate(
        {"order_id": "VAL-1", "amount": "1.00", "payee": {"phone": "9876543210"}}
    )
    payouts = DynamoDbPayoutRepository(aws_account.table)
    payouts.create(Payout.accept(request, RECEIVED_AT), first_check_at=RECEIVED_AT + timedelta(minutes=15))
    store = DynamoDbCallbackStore(aws_account.callbacks_table)
    queue = _QueueDownOnce()

    def deliver() -> CallbackOutcome:
        return receive_callback(
            _payouts_callback(),
            raw_body=b"{}",
            headers={"x-checksum": "sig"},
            received_at=RECEIVED_AT,
            store=store,
            payouts=payouts,
            status_checks=queue,
        ).outcome

    with pytest.raises(ConnectionError):
        deliver()
    assert deliver() is CallbackOutcome.CHECK_REQUESTED
    assert deliver() is CallbackOutcome.DUPLICATE
    assert queue.requested == ["VAL-1"]
    items = aws_account.callbacks_table.scan(ConsistentRead=True)["Items"]
    outcomes = sorted(item["outcome"] for item in items if item["item_type"] == "callback")
    assert outcomes == ["check_request_failed", "check_requested", "duplicate"]
    assert {item["expires_at"] for item in items} == {
        Decimal(int((RECEIVED_AT + timedelta(days=90)).timestamp()))
    }
