"""A yardstick, not product code: the POST /v1/payouts a merchant writes by hand in an afternoon.

boto3 + json only: store the payout unless the order id exists, queue it, answer 202. No body
validation beyond JSON, no idempotent replay, no fingerprint, no logging or metrics. The API bench
serves it beside Tijori's InitiateFunction so the two are timed under the same conditions.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

TABLE_NAME = os.environ["PLAIN_TABLE_NAME"]
QUEUE_URL = os.environ["PLAIN_QUEUE_URL"]
dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = json.loads(event.get("body") or "{}")
    order_id = str(body["order_id"])
    try:
        dynamodb.put_item(
            TableName=TABLE_NAME,
            Item={
                "order_id": {"S": order_id},
                "amount": {"S": str(body["amount"])},
                "payee_phone": {"S": str(body["payee"]["phone"])},
                "status": {"S": "ACCEPTED"},
            },
            ConditionExpression="attribute_not_exists(order_id)",
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return {"statusCode": 409, "body": json.dumps({"message": "order_id exists"})}
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps({"order_id": order_id}))
    return {
        "statusCode": 202,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"order_id": order_id, "status": "ACCEPTED"}),
    }
