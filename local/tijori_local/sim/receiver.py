"""A callback sink: records every POST it receives (raw body and headers). For tests and demos."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="callback-receiver")

    async def _record(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append(ReceivedCallback(request.url.path, body, dict(request.headers)))
        return Response("OK")

    @property
    def url(self) -> str:
        for server in self._server.servers:
            for sock in server.sockets:
                return f"http://127.0.0.1:{sock.getsockname()[1]}"
        raise RuntimeError("the receiver is not listening")

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
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(10)
