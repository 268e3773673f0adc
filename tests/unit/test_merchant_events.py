"""Events to the merchant: each kind's table of final status -> detail-type, the event id, the view
an event carries, and the EventBridge adapter's reading of PutEvents' answer."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tijori.adapters.event_bus import EventBridgePublisher
from tijori.adapters.payment_table import PAYMENT_EVENTS, REFUND_EVENTS
from tijori.adapters.payout_table import PAYOUT_EVENTS, payout_to_item
from tijori.adapters.validation_table import VALIDATION_EVENTS
from tijori.adapters.wallet_link_table import WALLET_LINK_EVENTS
from tijori.lifecycle.announcements import (
    EVENT_PENDING,
    EventNotPublishedError,
    KindEvents,
    MerchantEvent,
    event_id,
)
from tijori.lifecycle.states import StatusTable
from tijori.payments.lifecycle import PAYMENT_LIFECYCLE, REFUND_LIFECYCLE
from tijori.payouts.lifecycle import PAYOUT_LIFECYCLE, PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest
from tijori.validations.lifecycle import VALIDATION_LIFECYCLE
from tijori.wallet_links.lifecycle import WALLET_LINK_LIFECYCLE

KINDS: list[tuple[KindEvents[Any], StatusTable[Any], dict[str, str]]] = [
    (
        PAYOUT_EVENTS,
        PAYOUT_LIFECYCLE,
        {"SUCCESS": "PayoutSucceeded", "FAILED": "PayoutFailed", "REVERSED": "PayoutReversed"},
    ),
    (
        PAYMENT_EVENTS,
        PAYMENT_LIFECYCLE,
        {"PAID": "PaymentPaid", "FAILED": "PaymentFailed", "EXPIRED": "PaymentExpired"},
    ),
    (REFUND_EVENTS, REFUND_LIFECYCLE, {"SUCCESS": "RefundSucceeded", "FAILED": "RefundFailed"}),
    (
        VALIDATION_EVENTS,
        VALIDATION_LIFECYCLE,
        {
            "VALID": "PayeeValidationValid",
            "INVALID": "PayeeValidationInvalid",
            "FAILED": "PayeeValidationFailed",
        },
    ),
    (
        WALLET_LINK_EVENTS,
        WALLET_LINK_LIFECYCLE,
        {"EXPIRED": "WalletLinkExpired", "REVOKED": "WalletLinkRevoked", "FAILED": "WalletLinkFailed"},
    ),
]


@pytest.mark.parametrize(("events", "lifecycle", "expected"), KINDS, ids=[k[0].kind for k in KINDS])
def test_each_final_status_has_its_detail_type_and_nothing_else_is_announced(
    events: KindEvents[Any], lifecycle: StatusTable[Any], expected: dict[str, str]
) -> None:
    assert {status.value: detail_type for status, detail_type in events.detail_types.items()} == expected
    events.check_covers(lifecycle)  # every final status, and only those
    for status in lifecycle.allowed:
        assert events.announces(status) is lifecycle.is_final(status), status
    assert not any(events.announces(s) for s in lifecycle.allowed if s.value == "NEEDS_REVIEW")


def test_a_table_that_misses_a_final_status_is_refused_when_the_kind_plugs_in() -> None:
    partial = KindEvents("payout", {PayoutStatus.SUCCESS: "PayoutSucceeded"}, lambda item: dict(item))
    with pytest.raises(ValueError, match="every final status"):
        partial.check_covers(PAYOUT_LIFECYCLE)
    too_many = KindEvents(
        "payout",
        {**PAYOUT_EVENTS.detail_types, PayoutStatus.NEEDS_REVIEW: "PayoutNeedsReview"},
        lambda item: dict(item),
    )
    with pytest.raises(ValueError, match="only those"):
        too_many.check_covers(PAYOUT_LIFECYCLE)


class _Status(StrEnum):
    DONE = "DONE"


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        (("payout", "ORD-1", "SUCCESS"), ("payout", "ORD-1", "SUCCESS"), True),
        (("payout", "ORD-1", PayoutStatus.SUCCESS), ("payout", "ORD-1", "SUCCESS"), True),
        (("payout", "ORD-1", "SUCCESS"), ("payout", "ORD-1", "FAILED"), False),
        (("payout", "ORD-1", "SUCCESS"), ("payout", "ORD-2", "SUCCESS"), False),
        (("payout", "ORD-1", "FAILED"), ("refund", "ORD-1", "FAILED"), False),
        (("payment", "ORD-1", _Status.DONE), ("payment", "ORD-1", "DONE"), True),
    ],
)
def test_the_event_id_is_derived_from_kind_id_and_final_status(
    first: tuple[str, str, Any], second: tuple[str, str, Any], same: bool
) -> None:
    assert (event_id(*first) == event_id(*second)) is same


def test_the_event_id_is_a_uuid_fixed_for_ever() -> None:
    # Ids already published derive from this: a change of the namespace would re-announce history.
    assert event_id("payout", "ORD-1", "SUCCESS") == str(
        uuid.uuid5(uuid.UUID("6f1d3c2e-5b7a-4e8f-9a0b-74696a6f7269"), "payout/ORD-1/SUCCESS")
    )
    assert uuid.UUID(event_id("refund", "REF-9", "FAILED")).version == 5


def _final_payout_item() -> dict[str, Any]:
    at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    request = PayoutRequest.model_validate(
        {"order_id": "ORD-1", "amount": "10.50", "payee": {"phone": "9876543210"}}
    )
    payout = Payout.accept(request, at).model_copy(update={"status": PayoutStatus.SUCCESS})
    return payout_to_item(payout)


def test_an_event_carries_the_get_view_and_the_id_it_was_marked_with() -> None:
    item = _final_payout_item()
    item[EVENT_PENDING] = event_id("payout", "ORD-1", "SUCCESS")
    event = PAYOUT_EVENTS.event_of(item, "ORD-1")
    assert event.detail_type == "PayoutSucceeded"
    view = PAYOUT_EVENTS.view(item)
    assert event.detail == {**view, "event_id": item[EVENT_PENDING]}
    assert "9876543210" not in json.dumps(event.detail)  # the payee masked, as GET shows it
    assert event.detail["amount"] == "10.50"
    # An item marked before a change of the derivation keeps the id it was marked with.
    item[EVENT_PENDING] = "marked-earlier"
    assert PAYOUT_EVENTS.event_of(item, "ORD-1").event_id == "marked-earlier"


class _FakeEvents:
    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        self.answer = answer
        self.entries: list[dict[str, Any]] = []

    def put_events(self, *, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.entries += Entries
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


_EVENT = MerchantEvent("PayoutSucceeded", {"order_id": "ORD-1", "amount": "10.50", "event_id": "e-1"})


def test_publisher_puts_one_entry_from_tijori_on_the_stack_bus() -> None:
    client = _FakeEvents({"FailedEntryCount": 0, "Entries": [{"EventId": "x"}]})
    EventBridgePublisher(client, "tijori-events").publish(_EVENT)
    (entry,) = client.entries
    assert entry["EventBusName"] == "tijori-events"
    assert entry["Source"] == "tijori"
    assert entry["DetailType"] == "PayoutSucceeded"
    assert json.loads(entry["Detail"], parse_float=Decimal) == _EVENT.detail


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]},
            id="entry-refused-in-a-200",
        ),
        pytest.param(
            ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no bus"}}, "PutEvents"),
            id="call-failed",
        ),
    ],
)
def test_publisher_reads_a_refused_entry_or_a_failed_call_as_not_published(
    answer: dict[str, Any] | Exception,
) -> None:
    with pytest.raises(EventNotPublishedError, match="e-1"):
        EventBridgePublisher(_FakeEvents(answer), "tijori-events").publish(_EVENT)
