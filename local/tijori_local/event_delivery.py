"""Deliver the stack's bus to a merchant's URL (`tijori local up --events-url URL`).

What the functions PutEvents on TijoriEventBus reaches the URL through moto's own EventBridge: a
rule on the bus (`source` tijori) targets a queue of the runtime's, and a thread here receives from
that queue and POSTs each event, as EventBridge built it (`id`, `source`, `detail-type`, `time`,
`detail`, ...), as JSON. Nothing here knows Tijori's code: only the bus. An event the URL does not
take (a connection error or an answer other than 2xx) stays on the queue and is posted again after
the visibility timeout, so delivery is at least once, like EventBridge's retries; the consumer
deduplicates on `detail.event_id`. The machinery is the merchant's side of the bus, not Tijori's:
its AWS calls are not metered.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

import httpx

from tijori_local.metering import unmetered_client

LOG = logging.getLogger(__name__)
EVENT_SOURCE = "tijori"
# Real seconds before an event the URL refused is posted again.
REDELIVERY_SECONDS = 2


@dataclass
class DeliveryCounts:
    posted: int = 0  # POSTs the URL answered 2xx
    refused: int = 0  # POSTs that failed or were answered otherwise (each retried)


class EventDelivery:
    """A rule on the bus, its queue, and a thread posting what arrives to `url`."""

    def __init__(self, *, bus_name: str, url: str, endpoint_url: str, region: str, name: str) -> None:
        self.url = url
        self.counts = DeliveryCounts()
        self._bus_name = bus_name
        self._name = name
        self._events = unmetered_client("events", endpoint_url=endpoint_url, region=region)
        self._sqs = unmetered_client("sqs", endpoint_url=endpoint_url, region=region)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue_url = ""

    def start(self) -> EventDelivery:
        self._queue_url = self._sqs.create_queue(
            QueueName=self._name, Attributes={"VisibilityTimeout": str(REDELIVERY_SECONDS)}
        )["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._events.put_rule(
            Name=self._name,
            EventBusName=self._bus_name,
            EventPattern=json.dumps({"source": [EVENT_SOURCE]}),
            State="ENABLED",
        )
        self._events.put_targets(
            Rule=self._name, EventBusName=self._bus_name, Targets=[{"Id": "events-url", "Arn": queue_arn}]
        )
        self._thread = threading.Thread(target=self._run, name="event-delivery", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        with httpx.Client(timeout=10.0) as http:
            while not self._stop.is_set():
                try:
                    answer = self._sqs.receive_message(
                        QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                    )
                except Exception:  # the runtime is stopping (moto gone); or a hiccup: try again
                    if not self._stop.wait(0.2):
                        LOG.exception("receiving events to deliver failed")
                    continue
                for message in answer.get("Messages", []):
                    if self._post(http, message["Body"]):
                        receipt = message["ReceiptHandle"]
                        self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt)

    def _post(self, http: httpx.Client, body: str) -> bool:
        try:
            event: dict[str, Any] = json.loads(body)
            answer = http.post(self.url, json=event)
        except (httpx.HTTPError, ValueError) as error:
            LOG.warning("event not delivered to %s (%s): posted again later", self.url, error)
            self.counts.refused += 1
            return False
        if not answer.is_success:
            LOG.warning("%s answered %s to an event: posted again later", self.url, answer.status_code)
            self.counts.refused += 1
            return False
        self.counts.posted += 1
        return True
