"""Reconciliation's DynamoDB side: the items of a window (a scan of each kind's table, filtered
by `created_at`: an operator's and a daily job, not a hot path) and ReconciliationTable, which
keeps each run's record and its findings (key `run_id` + `entry`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from tijori.reconciliation.ports import RunRecord, RunState, RunTrigger, StoredFinding
from tijori.reconciliation.rules import ItemOnRecord, ReconciledKind

RUN_ENTRY = "run"
FINDING_PREFIX = "finding#"
# The scheduled runs' window end lives beside the runs, under a run id no run takes.
SCHEDULE_RUN_ID = "schedule"
SCHEDULE_ENTRY = "last-window"

_KEYS: dict[ReconciledKind, str] = {
    ReconciledKind.PAYOUTS: "order_id",
    ReconciledKind.PAYMENTS: "order_id",
    ReconciledKind.REFUNDS: "refund_id",
}
_READ = ["order_id", "refund_id", "#status", "amount", "created_at", "sweep_bucket", "next_check_at", "rail"]


def item_on_record(kind: ReconciledKind, item: Mapping[str, Any]) -> ItemOnRecord:
    """A stored item as reconciliation reads it (the due-index fields as tijori/lifecycle/store.py
    writes them: a `pending-` bucket files the item by its pending clock)."""
    bucket = item.get("sweep_bucket")
    next_check_at = item.get("next_check_at")
    pending_clock = isinstance(bucket, str) and bucket.startswith("pending-")
    due_at = (
        datetime.fromtimestamp(int(next_check_at), UTC)
        if next_check_at is not None and not pending_clock
        else None
    )
    return ItemOnRecord(
        kind=kind,
        item_id=str(item[_KEYS[kind]]),
        status=str(item["status"]),
        amount=Decimal(str(item["amount"])),
        created_at=datetime.fromisoformat(str(item["created_at"])),
        order_id=str(item["order_id"]),
        due_at=due_at,
        pending_clock=pending_clock,
        has_status_api=item.get("rail") != "prepaid",
    )


class DynamoDbItemWindow:
    def __init__(self, tables: Mapping[ReconciledKind, Any]) -> None:
        self._tables = tables

    def page(
        self,
        kind: ReconciledKind,
        *,
        since: datetime,
        until: datetime,
        cursor: str | None,
        page_size: int,
    ) -> tuple[Sequence[ItemOnRecord], str | None]:
        arguments: dict[str, Any] = {
            # Stored as UTC ISO 8601 text, so text order is time order.
            "FilterExpression": Attr("created_at").gte(since.isoformat())
            & Attr("created_at").lt(until.isoformat()),
            "ProjectionExpression": ", ".join(_READ),
            "ExpressionAttributeNames": {"#status": "status"},
            "Limit": page_size,
            "ConsistentRead": True,
        }
        if cursor is not None:
            arguments["ExclusiveStartKey"] = json.loads(cursor)
        page = self._tables[kind].scan(**arguments)
        items = [item_on_record(kind, item) for item in page.get("Items", [])]
        last_key = page.get("LastEvaluatedKey")
        return items, (json.dumps(last_key, sort_keys=True) if last_key else None)


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def run_to_item(run: RunRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "run_id": run.run_id,
        "entry": RUN_ENTRY,
        "kinds": [kind.value for kind in run.kinds],
        "since": run.since.isoformat(),
        "until": run.until.isoformat(),
        "started_at": run.started_at.isoformat(),
        "trigger": run.trigger.value,
        "state": run.state.value,
        "position": run.position,
        "counts": run.counts,
        "mismatches": run.mismatches,
    }
    if run.finished_at is not None:
        item["finished_at"] = run.finished_at.isoformat()
    if run.cursor is not None:
        item["cursor"] = run.cursor
    return item


def item_to_run(item: Mapping[str, Any]) -> RunRecord:
    return RunRecord(
        run_id=str(item["run_id"]),
        kinds=tuple(ReconciledKind(kind) for kind in item["kinds"]),
        since=datetime.fromisoformat(str(item["since"])),
        until=datetime.fromisoformat(str(item["until"])),
        started_at=datetime.fromisoformat(str(item["started_at"])),
        trigger=RunTrigger(str(item["trigger"])),
        state=RunState(str(item["state"])),
        finished_at=_time(item.get("finished_at")),
        position=int(item["position"]),
        cursor=None if item.get("cursor") is None else str(item["cursor"]),
        counts={
            str(kind): {str(verdict): int(count) for verdict, count in by_verdict.items()}
            for kind, by_verdict in item.get("counts", {}).items()
        },
    )


def finding_to_item(run_id: str, stored: StoredFinding) -> dict[str, Any]:
    item, paytm = stored.item, stored.paytm
    return {
        "run_id": run_id,
        "entry": f"{FINDING_PREFIX}{item.kind.value}#{item.item_id}",
        "kind": item.kind.value,
        "id": item.item_id,
        "order_id": item.order_id,
        "verdict": stored.finding.verdict.value,
        "mismatches": list(stored.finding.mismatches),
        "tijori": {
            "status": item.status,
            "amount": _money(item.amount),
            "created_at": item.created_at.isoformat(),
        },
        "paytm": {
            key: value
            for key, value in {
                "state": paytm.state.value,
                "status": paytm.status,
                "amount": _money(paytm.amount),
                "code": paytm.code,
                "message": paytm.message,
            }.items()
            if value is not None
        },
        "found_at": stored.found_at.isoformat(),
    }


class DynamoDbReconciliationStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    def create_run(self, run: RunRecord) -> None:
        self._table.put_item(Item=run_to_item(run), ConditionExpression="attribute_not_exists(run_id)")

    def get_run(self, run_id: str) -> RunRecord | None:
        item = self._table.get_item(Key={"run_id": run_id, "entry": RUN_ENTRY}, ConsistentRead=True).get(
            "Item"
        )
        return None if item is None else item_to_run(item)

    def save_progress(self, run: RunRecord) -> None:
        self._table.put_item(Item=run_to_item(run))

    def add_findings(self, run_id: str, findings: Sequence[StoredFinding]) -> None:
        with self._table.batch_writer() as batch:
            for stored in findings:
                batch.put_item(Item=finding_to_item(run_id, stored))

    def claim_scheduled_window(self, *, until: datetime) -> datetime | None:
        try:
            answer = self._table.update_item(
                Key={"run_id": SCHEDULE_RUN_ID, "entry": SCHEDULE_ENTRY},
                UpdateExpression="SET window_end = :until",
                # Two firings racing never move the window back.
                ConditionExpression="attribute_not_exists(window_end) OR window_end < :until",
                ExpressionAttributeValues={":until": until.isoformat()},
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleScheduleError(until) from error
            raise
        return _time(answer.get("Attributes", {}).get("window_end"))


class StaleScheduleError(Exception):
    """A later scheduled run already claimed the window."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"a scheduled run already covers windows up to after {until.isoformat()}")


def run_and_findings(table: Any, run_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """A run's stored record and every finding, in key order (for the operator's command)."""
    arguments: dict[str, Any] = {"KeyConditionExpression": Key("run_id").eq(run_id), "ConsistentRead": True}
    run: dict[str, Any] | None = None
    found: list[dict[str, Any]] = []
    while True:
        page = table.query(**arguments)
        for item in page.get("Items", []):
            if item["entry"] == RUN_ENTRY:
                run = item
            else:
                found.append(item)
        if "LastEvaluatedKey" not in page:
            return run, found
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
