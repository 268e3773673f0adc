"""`make demo`'s merchant consumer: an HTTP server given to each runtime as its `--events-url`,
and the audit that every final item of the run was announced exactly once by event id.

The receiver counts every POST (a redelivery too). The audit reads the final items from the
stack's own tables when a phase ends, and passes when the distinct event ids are exactly the
final items: one id per item, its detail-type the one of the item's final status, no event for
an item that is not final (NEEDS_REVIEW is not announced), none missing.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tijori.adapters.payment_table import PAYMENT_EVENTS, REFUND_EVENTS
from tijori.adapters.payout_table import PAYOUT_EVENTS
from tijori.adapters.validation_table import VALIDATION_EVENTS
from tijori.adapters.wallet_link_table import WALLET_LINK_EVENTS
from tijori.lifecycle.announcements import KindEvents
from tijori_local.metering import unmetered_client


@dataclass(frozen=True)
class AnnouncedKind:
    events: KindEvents[Any]
    table: str  # the template's logical id
    key: str  # the item id, in the table and in the event's detail


KINDS = (
    AnnouncedKind(PAYOUT_EVENTS, "PayoutsTable", "order_id"),
    AnnouncedKind(PAYMENT_EVENTS, "PaymentsTable", "order_id"),
    AnnouncedKind(REFUND_EVENTS, "RefundsTable", "refund_id"),
    AnnouncedKind(VALIDATION_EVENTS, "PayeeValidationsTable", "validation_id"),
    AnnouncedKind(WALLET_LINK_EVENTS, "WalletLinksTable", "link_id"),
)
# How long a phase waits, in real seconds, for the events of its last final items (the writer
# publishes at once; one it could not is published by the next scheduled run).
ANNOUNCE_WAIT_SECONDS = 30.0


class EventReceiver:
    """Takes the runtime's POSTs on 127.0.0.1 (any free port) and keeps every event;
    `refuse_first`: answer that many POSTs 503 first (kept apart in `refused`), as a consumer that
    is down would."""

    def __init__(self, *, refuse_first: int = 0) -> None:
        self.events: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        lock = threading.Lock()
        received, refused = self.events, self.refused

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    refuse = len(refused) < refuse_first
                    (refused if refuse else received).append(json.loads(body))
                self.send_response(HTTPStatus.SERVICE_UNAVAILABLE if refuse else HTTPStatus.NO_CONTENT)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}/events"
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-events", daemon=True)

    def __enter__(self) -> EventReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[dict[str, Any]]:
        return list(self.events)


def final_items(runtime: Any) -> dict[tuple[str, str], str]:
    """(kind, id) -> final status of every final item in the runtime's tables."""
    assert runtime.stack is not None
    dynamodb = unmetered_client("dynamodb", endpoint_url=runtime.aws_endpoint_url, region="ap-south-1")
    finals: dict[tuple[str, str], str] = {}
    for kind in KINDS:
        final_statuses = {status.value for status in kind.events.detail_types}
        arguments: dict[str, Any] = {"TableName": runtime.stack.ref(kind.table)}
        while True:
            page = dynamodb.scan(**arguments)
            for item in page.get("Items", []):
                status = item.get("status", {}).get("S")
                if status in final_statuses:
                    finals[(kind.events.kind, item[kind.key]["S"])] = status
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return finals


def audit(events: list[dict[str, Any]], finals: dict[tuple[str, str], str]) -> dict[str, Any]:
    """Every final item announced once by event id, with its final status's detail-type."""
    kinds = {
        detail_type: (announced_kind.events.kind, status.value)
        for announced_kind in KINDS
        for status, detail_type in announced_kind.events.detail_types.items()
    }
    keys = {announced_kind.events.kind: announced_kind.key for announced_kind in KINDS}
    by_id: dict[str, set[tuple[str, str, str]]] = {}
    unknown_detail_types: list[str] = []
    for event in events:
        detail_type = str(event.get("detail-type"))
        if event.get("source") != "tijori" or detail_type not in kinds:
            unknown_detail_types.append(detail_type)
            continue
        kind, status = kinds[detail_type]
        detail = event["detail"]
        by_id.setdefault(str(detail["event_id"]), set()).add((kind, str(detail[keys[kind]]), status))
    # An event id naming two items, or one item in two statuses, would break deduplication.
    ambiguous_ids = sorted(event_id for event_id, named in by_id.items() if len(named) != 1)
    announced: Counter[tuple[str, str]] = Counter()
    wrong_status: list[str] = []
    for named in by_id.values():
        for kind, item_id, status in named:
            announced[(kind, item_id)] += 1
            if finals.get((kind, item_id), status) != status:
                wrong_status.append(f"{kind} {item_id}: announced {status}, stored {finals[(kind, item_id)]}")
    missing = sorted(f"{kind} {item_id}" for kind, item_id in set(finals) - set(announced))
    not_final = sorted(f"{kind} {item_id}" for kind, item_id in set(announced) - set(finals))
    more_than_once = sorted(f"{kind} {item_id}" for (kind, item_id), n in announced.items() if n > 1)
    return {
        "posts": len(events),
        "distinct_event_ids": len(by_id),
        "final_items": len(finals),
        "redeliveries": len(events) - len(unknown_detail_types) - len(by_id),
        "by_detail_type": dict(sorted(Counter(str(e.get("detail-type")) for e in events).items())),
        "missing": missing,
        "announced_but_not_final": not_final,
        "announced_more_than_once": more_than_once,
        "wrong_status": wrong_status,
        "ambiguous_event_ids": ambiguous_ids,
        "unknown_detail_types": unknown_detail_types,
        "announced_once": bool(
            len(by_id) == len(finals)
            and not (missing or not_final or more_than_once or wrong_status or ambiguous_ids)
            and not unknown_detail_types
        ),
    }


def audit_phase(runtime: Any, receiver: EventReceiver) -> dict[str, Any]:
    """At the end of a phase: wait for the last final items' events, then audit."""
    deadline = time.monotonic() + ANNOUNCE_WAIT_SECONDS
    while True:
        finals = final_items(runtime)
        result = audit(receiver.snapshot(), finals)
        if result["announced_once"] or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def summary(phases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The demo's `events` section: the phases' audits and their totals."""
    by_detail_type: Counter[str] = Counter()
    for phase in phases.values():
        by_detail_type.update(phase["by_detail_type"])
    return {
        "announced_once": all(phase["announced_once"] for phase in phases.values()),
        **{
            name: sum(phase[name] for phase in phases.values())
            for name in ("final_items", "distinct_event_ids", "posts", "redeliveries")
        },
        "by_detail_type": dict(sorted(by_detail_type.items())),
        "phases": phases,
    }
