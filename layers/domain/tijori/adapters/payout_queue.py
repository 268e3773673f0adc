"""PayoutQueue in SQS: one message per item of money out, or per status check.

Body `{"order_id": ..., "intent": ...}` for a payout (as every older message carries), or
`{"kind": "refund" | "payment" | "validation", "id": ..., "intent": ...}` for the other kinds.

`intent` says what the payout function should do with the item (a payment's attempt is a charge
on a linked wallet; checkout payments only ever get checks):
- `attempt` (the default, and all that older messages carry): claim it and credit it;
- `check`: ask Paytm for its status now and apply the answer (a verified callback, or an operator's
  re-check, asks for this; it never sends money).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from tijori.payouts.models import OrderId

# SQS takes at most 10 messages in one SendMessageBatch.
SQS_BATCH_SIZE = 10


class PayoutIntent(StrEnum):
    ATTEMPT = "attempt"
    CHECK = "check"


class ItemKind(StrEnum):
    PAYOUT = "payout"
    PAYMENT = "payment"
    REFUND = "refund"
    VALIDATION = "validation"


class PayoutMessage(BaseModel):
    """The body of a PayoutQueue message. Anything else is a poison message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: OrderId | None = None
    kind: ItemKind = ItemKind.PAYOUT
    id: OrderId | None = None
    intent: PayoutIntent = PayoutIntent.ATTEMPT

    @model_validator(mode="after")
    def _names_one_item(self) -> PayoutMessage:
        if self.kind is ItemKind.PAYOUT and (self.order_id is None or self.id is not None):
            raise ValueError("a payout message names its payout by order_id")
        if self.kind is not ItemKind.PAYOUT and (self.id is None or self.order_id is not None):
            raise ValueError(f"a {self.kind.value} message names its item by id")
        return self

    @property
    def item_id(self) -> str:
        return str(self.order_id if self.kind is ItemKind.PAYOUT else self.id)


class SqsPayoutDispatcher:
    """PayoutDispatcher (and StatusCheckRequester) over a boto3 SQS client (injected)."""

    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._sqs = sqs_client
        self._queue_url = queue_url

    def _send(self, message: PayoutMessage) -> None:
        self._sqs.send_message(
            QueueUrl=self._queue_url, MessageBody=message.model_dump_json(exclude_defaults=True)
        )

    def dispatch(self, order_id: str) -> None:
        self._send(PayoutMessage(order_id=order_id))

    def dispatch_many(self, order_ids: Sequence[str]) -> list[str]:
        """Queue these payouts, SQS_BATCH_SIZE a call (SendMessageBatch); the order ids SQS did
        not take (its answer lists each failed entry)."""
        refused: list[str] = []
        for start in range(0, len(order_ids), SQS_BATCH_SIZE):
            chunk = order_ids[start : start + SQS_BATCH_SIZE]
            answer = self._sqs.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {
                        "Id": str(position),
                        "MessageBody": PayoutMessage(order_id=order_id).model_dump_json(
                            exclude_defaults=True
                        ),
                    }
                    for position, order_id in enumerate(chunk)
                ],
            )
            refused.extend(chunk[int(failed["Id"])] for failed in answer.get("Failed", []))
        return refused

    def request_check(self, order_id: str) -> None:
        """Ask the payout function to check this payout's status with Paytm (sends no money)."""
        self._send(PayoutMessage(order_id=order_id, intent=PayoutIntent.CHECK))

    def dispatch_item(self, kind: str, item_id: str) -> None:
        """Queue an attempt at an item of another kind (a refund)."""
        self._send(PayoutMessage(kind=ItemKind(kind), id=item_id))

    def request_item_check(self, kind: str, item_id: str) -> None:
        """Ask the payout function to check an item's status with Paytm (sends no money)."""
        self._send(PayoutMessage(kind=ItemKind(kind), id=item_id, intent=PayoutIntent.CHECK))


def parse_payout_message(body: str) -> PayoutMessage:
    return PayoutMessage.model_validate(json.loads(body))
