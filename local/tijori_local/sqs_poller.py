"""Polls a queue that triggers a function, as Lambda's SQS event source mapping does.

Receives up to the template's BatchSize within its MaximumBatchingWindowInSeconds, invokes the
handler with a real SQS batch event, and deletes only the records the handler did not list in
`batchItemFailures` (nothing at all if the invocation failed). Failed records stay on the queue:
they come back after the visibility timeout and the queue's own redrive policy moves them to the
DLQ after maxReceiveCount receives. Under time compression the visibility timeout of a failed
record is compressed too, so that five receives do not take 15 real minutes, and so is the
batching window.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LOG = logging.getLogger(__name__)

# (function logical id, event) -> handler result
Invoker = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class QueueTrigger:
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window_seconds: float
    visibility_timeout: int
    reports_batch_item_failures: bool


def _record(message: dict[str, Any], trigger: QueueTrigger, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": trigger.queue_arn,
        "awsRegion": region,
    }


class SqsPoller:
    def __init__(
        self, trigger: QueueTrigger, *, sqs: Any, invoke: Invoker, region: str, time_scale: float
    ) -> None:
        self._trigger = trigger
        self._sqs = sqs
        self._invoke = invoke
        self._region = region
        self._time_scale = time_scale
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sqs-{trigger.function}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _receive_batch(self) -> list[dict[str, Any]]:
        trigger = self._trigger
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self._real_seconds(trigger.batching_window_seconds)
        while len(messages) < trigger.batch_size and not self._stop.is_set():
            wanted = min(10, trigger.batch_size - len(messages))
            answer = self._sqs.receive_message(
                QueueUrl=trigger.queue_url,
                MaxNumberOfMessages=wanted,
                WaitTimeSeconds=0 if messages else 1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = answer.get("Messages", [])
            messages += received
            if not messages:
                return []
            if not received and time.monotonic() >= deadline:
                break
            if time.monotonic() >= deadline:
                break
            if not received:
                time.sleep(0.05)
        return messages

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._receive_batch()
                if messages:
                    self._process(messages)
            except Exception:  # keep polling, as the managed poller does
                LOG.exception("SQS poller for %s failed; continuing", self._trigger.function)
                self._stop.wait(1)

    def _process(self, messages: list[dict[str, Any]]) -> None:
        trigger = self._trigger
        event = {"Records": [_record(message, trigger, self._region) for message in messages]}
        try:
            result = self._invoke(trigger.function, event)
        except Exception:
            LOG.exception("%s failed on a batch of %d; all records stay", trigger.function, len(messages))
            self._retry_later(messages)
            return
        failed: set[str] = set()
        if trigger.reports_batch_item_failures and isinstance(result, dict):
            failed = {str(item["itemIdentifier"]) for item in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=trigger.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        self._retry_later([m for m in messages if m["MessageId"] in failed])

    def _real_seconds(self, seconds: float) -> float:
        """An AWS timer of the event source mapping in real seconds: compressed with the clock, so
        a 1 s batching window does not become 50 simulated minutes at 3000x (longer than intake's
        15-minute due entry, which would requeue a payout still waiting in the batch)."""
        return seconds if self._time_scale <= 1 else seconds / self._time_scale

    def _retry_later(self, messages: list[dict[str, Any]]) -> None:
        if self._time_scale <= 1:
            return  # the queue's own visibility timeout applies unchanged
        compressed = max(0, math.ceil(self._trigger.visibility_timeout / self._time_scale))
        for message in messages:
            self._sqs.change_message_visibility(
                QueueUrl=self._trigger.queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=compressed,
            )
