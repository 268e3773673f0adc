"""The stack's EventBridge bus (TijoriEventBus): events to the merchant, one PutEvents per event.

PutEvents answers 200 even when it refused an entry: `FailedEntryCount` (and the entry's
`ErrorCode`) says so, and is read as a failure like any error of the call itself. The detail is
the resource as its GET shows it (tens of KB at most, under EventBridge's 256 KB per entry).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tijori.adapters.aws_clients import aws_client
from tijori.lifecycle.announcements import EVENT_SOURCE, EventNotPublishedError, MerchantEvent, MerchantEvents


class EventBridgePublisher:
    """EventPublisher over a boto3 `events` client (injected) and the bus's name."""

    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus_name = bus_name

    def publish(self, event: MerchantEvent) -> None:
        entry = {
            "EventBusName": self._bus_name,
            "Source": EVENT_SOURCE,
            "DetailType": event.detail_type,
            "Detail": json.dumps(event.detail, separators=(",", ":")),
        }
        try:
            answer = self._client.put_events(Entries=[entry])
        except (ClientError, BotoCoreError) as error:
            raise EventNotPublishedError(f"{event.event_id}: PutEvents failed: {error}") from error
        if answer.get("FailedEntryCount"):
            refused = (answer.get("Entries") or [{}])[0]
            reason = f"{refused.get('ErrorCode')}: {refused.get('ErrorMessage')}"
            raise EventNotPublishedError(f"{event.event_id}: PutEvents refused it: {reason}")


def bus_events(bus_name: str, on_unpublished: Callable[[str, str], None]) -> MerchantEvents | None:
    """What a function announces final transitions through: None when the stack names no bus
    (EVENT_BUS_NAME empty: nothing is marked or published)."""
    if not bus_name:
        return None
    return MerchantEvents(EventBridgePublisher(aws_client("events"), bus_name), on_unpublished)
