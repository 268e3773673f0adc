"""Events to the merchant against moto's EventBridge: the real handlers publish each final
transition once, with the GET view; a failed PutEvents leaves the item due and the scheduled run
publishes it later under the same event id; a redelivered message makes no second event id.

The events are read as a merchant would: a rule on the stack's bus (source `tijori`) targets a
queue of the test's."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import httpx
import pytest

from tests.conftest import REGION, FakeLambdaContext, LocalAccount, load_event
from tijori.adapters.event_bus import EventBridgePublisher
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.lifecycle.announcements import (
    EVENT_PENDING,
    EventNotPublishedError,
    MerchantEvent,
    MerchantEvents,
    event_id,
)
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest
from tijori_local.sim.server import SimServer


class BusReader:
    """A rule on the stack's bus for `source: tijori`, delivering to a queue read here."""

    def __init__(self, account: LocalAccount) -> None:
        events = boto3.client("events", region_name=REGION)
        bus = account.stack.ref("TijoriEventBus")
        self._sqs = account.sqs
        self._url = self._sqs.create_queue(QueueName="merchant-consumer")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="consumer", EventBusName=bus, EventPattern=json.dumps({"source": ["tijori"]}))
        events.put_targets(Rule="consumer", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
        self.received: list[dict[str, Any]] = []

    def read(self) -> list[dict[str, Any]]:
        """Every event delivered so far (the earlier ones too)."""
        while True:
            batch = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            if not batch.get("Messages"):
                return self.received
            for message in batch["Messages"]:
                self.received.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def bus(function_env: LocalAccount) -> BusReader:
    return BusReader(function_env)


def _get_payout_view(load_handler: Callable[[str], ModuleType], context: FakeLambdaContext) -> dict[str, Any]:
    answer = load_handler("initiate").lambda_handler(load_event("initiate_get_payout"), context)
    assert answer["statusCode"] == 200
    view: dict[str, Any] = json.loads(answer["body"])
    return view


def _pay_the_event_payout(
    load_handler: Callable[[str], ModuleType], context: FakeLambdaContext, paytm: SimServer
) -> dict[str, Any]:
    httpx.post(f"{paytm.url}/_sim/users", json={"phone": "9876543210"})
    initiate = load_handler("initiate")
    assert initiate.lambda_handler(load_event("initiate_create_payout"), context)["statusCode"] == 202
    batch = load_event("payout_sqs_batch")
    batch["Records"] = [batch["Records"][0]]
    assert load_handler("payout").lambda_handler(batch, context)["batchItemFailures"] == []
    return batch


def test_a_final_transition_is_published_once_with_the_payout_as_get_shows_it(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
    bus: BusReader,
) -> None:
    _pay_the_event_payout(load_handler, lambda_context, paytm)
    (event,) = bus.read()
    assert (event["source"], event["detail-type"]) == ("tijori", "PayoutSucceeded")
    view = _get_payout_view(load_handler, lambda_context)
    assert view["status"] == "SUCCESS"
    assert event["detail"] == {**view, "event_id": event_id("payout", "ORD-EVT-0001", "SUCCESS")}
    item = function_env.table.get_item(Key={"order_id": "ORD-EVT-0001"})["Item"]
    # Announced: the mark is cleared and the payout has left the due index, as before events.
    assert not {EVENT_PENDING, "sweep_bucket", "next_check_at"} & set(item)
    # A scheduled run afterwards finds nothing to announce.
    load_handler("status_poller").lambda_handler(load_event("pending_checks_run"), lambda_context)
    assert len(bus.read()) == 1


def test_a_redelivered_message_makes_no_second_event(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    paytm: SimServer,
    bus: BusReader,
) -> None:
    batch = _pay_the_event_payout(load_handler, lambda_context, paytm)
    redelivery = {"Records": [{**batch["Records"][0], "messageId": "redelivered"}]}
    assert load_handler("payout").lambda_handler(redelivery, lambda_context)["batchItemFailures"] == []
    events = bus.read()
    assert [e["detail"]["event_id"] for e in events] == [event_id("payout", "ORD-EVT-0001", "SUCCESS")]


def _processing_payout(account: LocalAccount, order_id: str, at: datetime) -> None:
    repository = DynamoDbPayoutRepository(account.table)
    request = PayoutRequest.model_validate(
        {"order_id": order_id, "amount": "10.00", "payee": {"phone": "9876543210"}}
    )
    repository.create(Payout.accept(request, at), first_check_at=at + timedelta(minutes=15))
    repository.transition(
        order_id,
        expected=PayoutStatus.ACCEPTED,
        target=PayoutStatus.PROCESSING,
        at=at,
        reason="claimed",
        next_check_at=at + timedelta(minutes=15),
    )


def _fail_it(account: LocalAccount, order_id: str, events: MerchantEvents) -> None:
    """A PROCESSING payout made FAILED sixteen minutes ago by a writer announcing through `events`:
    its event, if not out, is due for the scheduled run now (it carries the mark on the due entry
    it kept from intake, 15 minutes after `at`)."""
    at = datetime.now(UTC) - timedelta(minutes=16)
    _processing_payout(account, order_id, at)
    DynamoDbPayoutRepository(account.table, events).transition(
        order_id,
        expected=PayoutStatus.PROCESSING,
        target=PayoutStatus.FAILED,
        at=at,
        reason="Paytm refused it",
        next_check_at=None,
    )


def test_a_failed_put_events_leaves_the_item_due_and_the_sweep_publishes_it_with_the_same_id(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    bus: BusReader,
) -> None:
    unpublished: list[tuple[str, str]] = []
    # The writer's PutEvents fails for real: moto has no such bus.
    broken = EventBridgePublisher(boto3.client("events", region_name=REGION), "no-such-bus")
    _fail_it(function_env, "ORD-LOST-EVENT", MerchantEvents(broken, lambda i, p: unpublished.append((i, p))))
    assert [item_id for item_id, _ in unpublished] == ["ORD-LOST-EVENT"]
    assert bus.read() == []
    item = function_env.table.get_item(Key={"order_id": "ORD-LOST-EVENT"})["Item"]
    expected_id = event_id("payout", "ORD-LOST-EVENT", "FAILED")
    assert item["status"] == "FAILED"  # the transition stands
    assert item[EVENT_PENDING] == expected_id
    assert item["sweep_bucket"].startswith("due-")  # still due: the sweep will find it
    result = load_handler("status_poller").lambda_handler(load_event("pending_checks_run"), lambda_context)
    assert result["failed"] == []
    (event,) = bus.read()
    assert event["detail-type"] == "PayoutFailed"
    assert event["detail"]["event_id"] == expected_id
    assert event["detail"]["order_id"] == "ORD-LOST-EVENT"
    assert event["detail"]["status"] == "FAILED"
    item = function_env.table.get_item(Key={"order_id": "ORD-LOST-EVENT"})["Item"]
    assert not {EVENT_PENDING, "sweep_bucket", "next_check_at"} & set(item)


class _DiesAfterPutEvents:
    """A writer that put the event on the bus and died before clearing the mark."""

    def __init__(self, publisher: EventBridgePublisher) -> None:
        self._publisher = publisher

    def publish(self, event: MerchantEvent) -> None:
        self._publisher.publish(event)
        raise EventNotPublishedError("the writer's execution ended before it cleared the mark")


def test_an_event_published_again_by_the_sweep_carries_the_same_event_id(
    load_handler: Callable[[str], ModuleType],
    lambda_context: FakeLambdaContext,
    function_env: LocalAccount,
    bus: BusReader,
) -> None:
    real = EventBridgePublisher(
        boto3.client("events", region_name=REGION), function_env.stack.ref("TijoriEventBus")
    )
    _fail_it(function_env, "ORD-TWICE", MerchantEvents(_DiesAfterPutEvents(real)))
    load_handler("status_poller").lambda_handler(load_event("pending_checks_run"), lambda_context)
    events = bus.read()
    # Two deliveries (at least once), one event: the consumer deduplicates on detail.event_id.
    assert len(events) == 2
    assert {e["detail"]["event_id"] for e in events} == {event_id("payout", "ORD-TWICE", "FAILED")}
    assert events[0]["id"] != events[1]["id"]  # EventBridge's envelope id is per publish


def test_a_payout_made_final_from_processing_carries_its_event_mark_on_the_due_entry_it_kept(
    function_env: LocalAccount,
) -> None:
    at = datetime.now(UTC) - timedelta(minutes=2)
    _processing_payout(function_env, "ORD-KEPT-ENTRY", at)
    kept = function_env.table.get_item(Key={"order_id": "ORD-KEPT-ENTRY"})["Item"]
    broken = EventBridgePublisher(boto3.client("events", region_name=REGION), "no-such-bus")
    DynamoDbPayoutRepository(function_env.table, MerchantEvents(broken)).transition(
        "ORD-KEPT-ENTRY",
        expected=PayoutStatus.PROCESSING,
        target=PayoutStatus.SUCCESS,
        at=at,
        reason="Paytm credited it",
        next_check_at=None,
    )
    item = function_env.table.get_item(Key={"order_id": "ORD-KEPT-ENTRY"})["Item"]
    assert item[EVENT_PENDING] == event_id("payout", "ORD-KEPT-ENTRY", "SUCCESS")
    # The index key is the intake entry's (15 minutes after intake): the final write wrote no
    # index entry, and the sweep finds the item by then if the event is still not out.
    assert (item["sweep_bucket"], item["next_check_at"]) == (kept["sweep_bucket"], kept["next_check_at"])
