"""An ASGI app served by uvicorn on 127.0.0.1 in a background thread."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn


class BackgroundServer:
    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, name: str = "asgi") -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._host = host
        self._thread = threading.Thread(target=self._server.run, name=name, daemon=True)

    @property
    def url(self) -> str:
        for server in getattr(self._server, "servers", []):
            for sock in server.sockets:
                return f"http://{self._host}:{int(sock.getsockname()[1])}"
        raise RuntimeError("the server is not listening")

    def start(self, timeout: float = 15.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"{self._thread.name} failed to start (is the port free?)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self._thread.name} did not start in {timeout} s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
