"""Fault injection: what goes wrong for the next N requests (or callbacks) that match.

Request faults act on the answer to an API call; callback faults act on the callbacks an API
call causes; refund faults act on the outcome of a refund the simulator accepts (it stays pending,
or fails at once, instead of succeeding). A rule matches by request path (exact, or "*" for any)
and optionally by order id.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = [
    "CALLBACK_FAULTS",
    "REFUND_FAULTS",
    "REQUEST_FAULTS",
    "DroppedConnectionResponse",
    "Fault",
    "FaultBook",
    "apply_request_fault",
]

REQUEST_FAULTS = frozenset({"latency", "timeout_after_commit", "http_500", "non_json", "error_text"})
CALLBACK_FAULTS = frozenset(
    {"duplicate_callback", "out_of_order_callback", "forged_checksum_callback", "drop_callback"}
)
REFUND_FAULTS = frozenset({"refund_pending", "refund_failure"})
"""Taken by a refund only once it is accepted (a refused refund leaves the fault armed)."""
MAX_DELAY_SECONDS = 600.0


@dataclass
class Fault:
    kind: str
    path: str = "*"
    order_id: str | None = None
    remaining: int = 1
    latency_ms: int = 0
    delay_seconds: float = 30.0
    drop: bool = False
    commit: bool = False
    seq: int = 0
    fired: int = field(default=0)

    def matches(self, kind_set: frozenset[str], path: str, order_id: str | None) -> bool:
        return (
            self.kind in kind_set
            and self.remaining > 0
            and self.path in ("*", path)
            and (self.order_id is None or self.order_id == order_id)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.seq,
            "kind": self.kind,
            "path": self.path,
            "orderId": self.order_id,
            "remaining": self.remaining,
            "fired": self.fired,
            "latencyMs": self.latency_ms,
            "delaySeconds": self.delay_seconds,
            "drop": self.drop,
            "commit": self.commit,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Fault:
        kind = str(body.get("kind", ""))
        if kind not in REQUEST_FAULTS | CALLBACK_FAULTS | REFUND_FAULTS:
            raise ValueError(f"unknown fault kind {kind!r}")
        count = int(body.get("count", 1))
        if count < 1:
            raise ValueError("count must be >= 1")
        delay = float(body.get("delay_seconds", 30.0))
        if not 0 <= delay <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay_seconds must be within 0..{MAX_DELAY_SECONDS}")
        latency = int(body.get("latency_ms", 0))
        if not 0 <= latency <= MAX_DELAY_SECONDS * 1000:
            raise ValueError("latency_ms out of range")
        order_id = body.get("order_id")
        return cls(
            kind=kind,
            path=str(body.get("path", "*")),
            order_id=None if order_id is None else str(order_id),
            remaining=count,
            latency_ms=latency,
            delay_seconds=delay,
            drop=bool(body.get("drop", False)),
            commit=bool(body.get("commit", False)),
        )


class FaultBook:
    """The armed faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._seq = 0

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._seq += 1
            fault.seq = self._seq
            self._faults.append(fault)
            return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, kinds: frozenset[str], path: str, order_id: str | None) -> Fault | None:
        """Consume one firing of the first matching fault."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(kinds, path, order_id):
                    fault.remaining -= 1
                    fault.fired += 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
            return None


class DroppedConnectionResponse(Response):
    """Sends headers promising a body, then nothing: the server closes the connection and the
    client sees it dropped mid-response (the work behind it is already committed)."""

    def __init__(self) -> None:
        super().__init__(content=b"", status_code=200, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")],
            }
        )
        # Ending short of Content-Length makes the server abort the connection.
        await send({"type": "http.response.body", "body": b"{", "more_body": False})


def _broken_answer(fault: Fault) -> Response:
    if fault.kind == "http_500":
        return Response("Internal Server Error", status_code=500, media_type="text/plain")
    if fault.kind == "non_json":
        return Response(
            "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>",
            status_code=200,
            media_type="text/html",
        )
    # error_text: HTTP 200 carrying an error sentence instead of JSON.
    return Response(
        "Error: service temporarily unavailable, please retry", status_code=200, media_type="text/plain"
    )


async def apply_request_fault(
    faults: FaultBook, path: str, order_id: str | None, handle: Callable[[], Awaitable[Response]]
) -> Response:
    """Run `handle` (which commits the work) under whatever fault is armed for this request.

    http_500 / non_json / error_text answer without doing the work unless the fault says
    `commit: true`; timeout_after_commit always does the work, then delays or drops the answer.
    """
    fault = faults.take(REQUEST_FAULTS, path, order_id)
    if fault is None:
        return await handle()
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_ms / 1000)
        return await handle()
    if fault.kind in ("http_500", "non_json", "error_text"):
        if fault.commit:
            await handle()
        return _broken_answer(fault)
    # timeout_after_commit
    response = await handle()
    if fault.drop:
        return DroppedConnectionResponse()
    await asyncio.sleep(fault.delay_seconds)
    return response
