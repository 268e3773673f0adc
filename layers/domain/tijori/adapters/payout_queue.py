"""PayoutQueue in SQS: one message per payout, body `{"order_id": ..., "intent": ...}`.

`intent` says what the payout function should do with the payout:
- `attempt` (the default, and all that older messages carry): claim it and credit it;
- `check`: ask Paytm for its status now and apply the answer (a verified callback, or an operator's
  re-check, asks for this; it never sends money).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from tijori.payouts.models import OrderId


class PayoutIntent(StrEnum):
    ATTEMPT = "attempt"
    CHECK = "check"


class PayoutMessage(BaseModel):
    """The body of a PayoutQueue message. Anything else is a poison message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: OrderId
    intent: PayoutIntent = PayoutIntent.ATTEMPT


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

    def request_check(self, order_id: str) -> None:
        """Ask the payout function to check this payout's status with Paytm (sends no money)."""
        self._send(PayoutMessage(order_id=order_id, intent=PayoutIntent.CHECK))


def parse_payout_message(body: str) -> PayoutMessage:
    return PayoutMessage.model_validate(json.loads(body))
