"""A callback sink: records every POST it receives (raw body and headers). For tests and demos."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tijori_local.asgi_server import AsgiServer

__all__ = ["CallbackReceiver", "ReceivedCallback"]


@dataclass(frozen=True)
class ReceivedCallback:
    path: str
    body: bytes
    headers: dict[str, str]


class CallbackReceiver:
    def __init__(self) -> None:
        self.received: list[ReceivedCallback] = []
        self._lock = threading.Lock()
        app = Starlette(routes=[Route("/{path:path}", self._record, methods=["POST"])])
        self._http = AsgiServer(app, name="callback-receiver")

    async def _record(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append(ReceivedCallback(request.url.path, body, dict(request.headers)))
        return Response("OK")

    @property
    def url(self) -> str:
        return self._http.url

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedCallback]:
        """The callbacks received once at least `count` arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        with self._lock:
            return list(self.received)

    def __enter__(self) -> CallbackReceiver:
        self._http.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._http.stop()
