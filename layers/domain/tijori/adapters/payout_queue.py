"""PayoutQueue in SQS: one message per payout, body `{"order_id": ...}`."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from tijori.payouts.models import OrderId


class PayoutMessage(BaseModel):
    """The body of a PayoutQueue message. Anything else is a poison message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: OrderId


class SqsPayoutDispatcher:
    """PayoutDispatcher over a boto3 SQS client (injected)."""

    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._sqs = sqs_client
        self._queue_url = queue_url

    def dispatch(self, order_id: str) -> None:
        body = PayoutMessage(order_id=order_id).model_dump_json()
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=body)


def parse_payout_message(body: str) -> PayoutMessage:
    return PayoutMessage.model_validate(json.loads(body))
