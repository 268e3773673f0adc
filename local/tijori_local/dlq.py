"""Move every message from PayoutDLQ back to PayoutQueue (after fixing what sent them there).

The payouts they name resume where they stopped: an attempt that is not the first checks status
with Paytm before sending anything, so a redrive never pays twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RedriveResult:
    moved: int


def redrive(sqs: Any, *, dlq_url: str, queue_url: str, max_messages: int = 100_000) -> RedriveResult:
    moved = 0
    while moved < max_messages:
        batch = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            arguments: dict[str, Any] = {"QueueUrl": queue_url, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                arguments["MessageAttributes"] = message["MessageAttributes"]
            # Send first, then delete: a crash in between duplicates a message (harmless: the
            # payout function claims conditionally), never loses one.
            sqs.send_message(**arguments)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return RedriveResult(moved=moved)


def queue_urls_from_stack(cloudformation: Any, stack_name: str) -> tuple[str, str]:
    """(PayoutDLQUrl, PayoutQueueUrl) from a deployed stack's outputs."""
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    return outputs["PayoutDLQUrl"], outputs["PayoutQueueUrl"]
