"""CallbacksTable in DynamoDB: every verified callback, and one first-delivery marker per news.

One table, partition key `record_id`, two kinds of item (`item_type`):
- `callback#<uuid>`: one verified callback as received: `kind`, `order_id`, `body` (the raw body
  as text; `body_base64` if it is not UTF-8), `headers` (including Paytm's `x-checksum`, which is
  Paytm's signature, not our key), `received_at` (ISO-8601 UTC), `delivery_fingerprint`,
  `unknown_fields`, then `outcome` and, for a repeat, `duplicate_of`;
- `first-delivery#<sha256>`: written only if absent (or released), so of two concurrent deliveries
  of the same news exactly one claims it and triggers a check; `first_callback_id` names it.
Both carry `expires_at` (epoch seconds), the table's TTL attribute: 90 days after receipt.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tijori.callbacks.intake import CallbackOutcome, StoredCallback

CALLBACK_ITEM = "callback"
FIRST_DELIVERY_ITEM = "first_delivery"


def callback_record_id(callback_id: str) -> str:
    return f"callback#{callback_id}"


def first_delivery_record_id(fingerprint: str) -> str:
    return f"first-delivery#{fingerprint}"


def callback_to_item(callback: StoredCallback) -> dict[str, Any]:
    item: dict[str, Any] = {
        "record_id": callback_record_id(callback.callback_id),
        "item_type": CALLBACK_ITEM,
        "callback_id": callback.callback_id,
        "kind": callback.kind.value,
        "headers": dict(callback.headers),
        "received_at": callback.received_at.isoformat(),
        "expires_at": int(callback.expires_at.timestamp()),
        "delivery_fingerprint": callback.delivery_fingerprint,
        "unknown_fields": list(callback.unknown_fields),
        "outcome": CallbackOutcome.RECEIVED.value,
    }
    try:
        item["body"] = callback.raw_body.decode("utf-8")
    except UnicodeDecodeError:
        item["body_base64"] = callback.raw_body
    if callback.order_id is not None:
        item["order_id"] = callback.order_id
    return item


def _is_condition_failure(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class DynamoDbCallbackStore:
    """CallbackStore over a boto3 DynamoDB Table resource (injected)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def save(self, callback: StoredCallback) -> None:
        self._table.put_item(
            Item=callback_to_item(callback), ConditionExpression="attribute_not_exists(record_id)"
        )

    def claim_first_delivery(self, callback: StoredCallback) -> str | None:
        record_id = first_delivery_record_id(callback.delivery_fingerprint)
        try:
            self._table.put_item(
                Item={
                    "record_id": record_id,
                    "item_type": FIRST_DELIVERY_ITEM,
                    "first_callback_id": callback.callback_id,
                    "kind": callback.kind.value,
                    "claimed_at": callback.received_at.isoformat(),
                    "expires_at": int(callback.expires_at.timestamp()),
                },
                ConditionExpression="attribute_not_exists(record_id) OR released = :released",
                ExpressionAttributeValues={":released": True},
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            marker = self._table.get_item(Key={"record_id": record_id}, ConsistentRead=True).get("Item", {})
            return str(marker.get("first_callback_id", "unknown"))
        return None

    def release_first_delivery(self, callback: StoredCallback) -> None:
        self._table.update_item(
            Key={"record_id": first_delivery_record_id(callback.delivery_fingerprint)},
            UpdateExpression="SET released = :released",
            ConditionExpression="first_callback_id = :mine",
            ExpressionAttributeValues={":released": True, ":mine": callback.callback_id},
        )

    def record_outcome(self, callback_id: str, outcome: CallbackOutcome, *, duplicate_of: str | None) -> None:
        names = {"#outcome": "outcome"}
        values: dict[str, Any] = {":outcome": outcome.value}
        update = "SET #outcome = :outcome"
        if duplicate_of is not None:
            update += ", duplicate_of = :duplicate_of"
            values[":duplicate_of"] = duplicate_of
        self._table.update_item(
            Key={"record_id": callback_record_id(callback_id)},
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def get_callback(self, callback_id: str) -> dict[str, Any] | None:
        """The stored item of one callback (for operators and tests)."""
        item: dict[str, Any] | None = self._table.get_item(
            Key={"record_id": callback_record_id(callback_id)}, ConsistentRead=True
        ).get("Item")
        return item
