"""`tijori report`: the operators' report with charts, one self-contained HTML file.

Reads a stack's tables (PayoutsTable with its prepaid loads, PaymentsTable, RefundsTable,
PayeeValidationsTable, each where the stack has it) and the depth of PayoutDLQ, with the
operator's AWS credentials (or the local runtime's endpoint), maps every item to a plain record
(report_records), and renders the page (report_page). A table scan: an operator's tool run now
and then, not a hot path.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tijori.lifecycle.store import CHECK_CURSOR_KEY
from tijori_local.operators.report_page import render_report
from tijori_local.operators.report_records import (
    ItemRecord,
    Kind,
    QueueDepth,
    StackSnapshot,
    kind_of_payouts_item,
    record_of,
    since_filter,
)

# The tables the report reads, by the template's logical id: their key, and what their items are.
TABLES: dict[str, tuple[str, Callable[[dict[str, Any]], Kind]]] = {
    "PayoutsTable": ("order_id", kind_of_payouts_item),
    "PaymentsTable": ("order_id", lambda _: Kind.PAYMENT),
    "RefundsTable": ("refund_id", lambda _: Kind.REFUND),
    "PayeeValidationsTable": ("validation_id", lambda _: Kind.VALIDATION),
}
DLQ_LOGICAL_ID = "PayoutDLQ"
# Only what the report shows: no payee, customer or metadata leaves the table.
ATTRIBUTES = (
    "order_id", "refund_id", "validation_id", "rail", "status", "amount", "penny_amount", "created_at",
    "history", "status_checks", "pending_since", "first_sent_at", "pending_days_limit",
    "last_status_code", "last_status_message", "paytm_code", "paytm_status",
)  # fmt: skip
# Control items' ids start like the cursor's, which no valid id of any kind can.
CONTROL_ITEM_PREFIX = CHECK_CURSOR_KEY[0]
_MISSING = frozenset({"ResourceNotFoundException", "ValidationError"})


def scan_items(table: Any) -> list[dict[str, Any]]:
    names = {f"#a{n}": attribute for n, attribute in enumerate(ATTRIBUTES)}
    arguments: dict[str, Any] = {
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
    }
    items: list[dict[str, Any]] = []
    while True:
        page = table.scan(**arguments)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dlq_depth(sqs: Any, queue: str) -> QueueDepth:
    """`queue` is the queue's URL (a stack's physical id) or, in the local runtime, its name."""
    try:
        url = queue if queue.startswith("http") else sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
    except ClientError as error:
        return QueueDepth(name=DLQ_LOGICAL_ID, error=str(error.response.get("Error", {}).get("Code")))
    return QueueDepth(
        name=DLQ_LOGICAL_ID,
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
    )


def read_stack(
    *, label: str, dynamodb: Any, sqs: Any, resource: Callable[[str], str], as_of: datetime
) -> StackSnapshot:
    """One stack's records. `resource(logical_id)` is the physical name (or queue URL) of one of
    its resources; a table the stack does not have (or the operator may not read) is left out and
    named on the page."""
    records: list[ItemRecord] = []
    unreadable = 0
    missing: list[str] = []
    for logical_id, (key, kind_of) in TABLES.items():
        try:
            items = scan_items(dynamodb.Table(resource(logical_id)))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _MISSING:
                raise
            missing.append(logical_id)
            continue
        for item in items:
            if str(item.get(key, "")).startswith(CONTROL_ITEM_PREFIX):
                continue  # a control item (the pending-checks cursor), not a money movement
            record = record_of(kind_of(item), item)
            if record is None:
                unreadable += 1
            else:
                records.append(record)
    try:
        queue = resource(DLQ_LOGICAL_ID)
    except ClientError:
        depth = None
    else:
        depth = dlq_depth(sqs, queue)
    return StackSnapshot(
        label=label,
        as_of=as_of,
        items=tuple(records),
        dlq=depth,
        unreadable=unreadable,
        missing_tables=tuple(missing),
    )


def snapshot_of_runtime(runtime: Any, *, label: str) -> StackSnapshot:
    """A local runtime's stack, as of its own (possibly compressed) clock: what `make demo` reads
    before each of its runtimes stops."""
    import boto3

    from tijori_local.runtime import REGION

    def resource(logical_id: str) -> str:
        return str(runtime.stack.ref(logical_id))

    return read_stack(
        label=label,
        dynamodb=boto3.resource("dynamodb", region_name=REGION, endpoint_url=runtime.aws_endpoint_url),
        sqs=runtime.client("sqs"),
        resource=resource,
        as_of=runtime.clock.now(),
    )


def write_report(
    snapshots: Sequence[StackSnapshot], out: Path, *, since: datetime | None = None, generated_at: datetime
) -> Path:
    if since is not None:
        snapshots = [
            StackSnapshot(
                label=s.label,
                as_of=s.as_of,
                items=since_filter(s.items, since),
                dlq=s.dlq,
                unreadable=s.unreadable,
                missing_tables=s.missing_tables,
            )
            for s in snapshots
        ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(snapshots, generated_at=generated_at, since=since), encoding="utf-8")
    return out


def moment(text: str) -> datetime:
    """A date or an ISO-8601 time; without a zone, UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or ISO-8601 time: {text!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", type=moment, help="items created on or after this date or time (UTC); open items always"
    )
    parser.add_argument(
        "--as-of",
        type=moment,
        help="the moment ages are measured at (default: now; for a local runtime that compresses time, "
        "its clock)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("reports/report.html"), help="the HTML file to write"
    )


def report_command(args: argparse.Namespace, *, resource: Callable[[str], str]) -> int:
    import boto3

    now = datetime.now(UTC)
    snapshot = read_stack(
        label=args.stack_name,
        dynamodb=boto3.resource("dynamodb", endpoint_url=args.endpoint_url),
        sqs=boto3.client("sqs", endpoint_url=args.endpoint_url),
        resource=resource,
        as_of=args.as_of or now,
    )
    path = write_report([snapshot], args.out, since=args.since, generated_at=now)
    print(f"report written to {path} ({len(snapshot.items)} items)")
    return 0
