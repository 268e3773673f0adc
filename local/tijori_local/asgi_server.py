"""An ASGI app served by uvicorn on 127.0.0.1: in a background thread, or in the foreground.

One implementation for everything that serves HTTP locally: the runtime's HTTP API, the Paytm
simulator (in-process and `tijori-sim`) and the test callback receiver.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn


class AsgiServer:
    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "asgi",
        log_level: str = "warning",
    ) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._host = host
        self._name = name
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        for server in getattr(self._server, "servers", []):
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        raise RuntimeError(f"{self._name} is not listening")

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self, timeout: float = 15.0) -> AsgiServer:
        """Serve in a background thread; return once listening."""
        self._thread = threading.Thread(target=self._server.run, name=self._name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"{self._name} failed to start (is the port free?)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self._name} did not start in {timeout} s")
            time.sleep(0.01)
        return self

    def serve_in_foreground(self, *, announce: Callable[[str], None]) -> bool:
        """Serve in the calling (main) thread until SIGINT/SIGTERM, calling `announce(url)` once
        listening. False if it never started (a port in use, say)."""

        def watch() -> None:
            while not self._server.started and not self._server.should_exit:
                time.sleep(0.01)
            if self._server.started:
                announce(self.url)

        threading.Thread(target=watch, name=f"{self._name}-announce", daemon=True).start()
        self._server.run()
        return bool(self._server.started)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
