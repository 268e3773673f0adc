"""The prepaid gate: seed 003's own door to the simulator, a TCP forwarder on its own port.

Tijori's prepaid base URL points here (`SimServer.prepaid_url`); every byte is forwarded both
ways to the simulator's HTTP port. What it adds is a connection refusal that is real TCP:
`refuse_connections(S)` closes the listening socket (a new connection gets ECONNREFUSED, which
httpx raises as `httpx.ConnectError`) and the connections open through it, and listens again on
the same port S real seconds later. The provider being unreachable, not answering badly.

It runs its own asyncio loop in a daemon thread, so refusing never blocks the simulator's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from concurrent.futures import Future

__all__ = ["MAX_REFUSAL_SECONDS", "PrepaidGate"]

LOG = logging.getLogger(__name__)
MAX_REFUSAL_SECONDS = 60.0
_CHUNK = 65536
_REOPEN_ATTEMPTS = 50
_REOPEN_RETRY_SECONDS = 0.1


class PrepaidGate:
    """Forwards `host:port` (0 picks a free port, kept across refusals) to `target_host:target_port`."""

    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._target = (target_host, target_port)
        self._host = host
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._reopen: asyncio.TimerHandle | None = None
        self.refusals = 0
        """How many refusal windows were opened (a counter, for tests)."""

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the prepaid gate is not listening yet")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def listening(self) -> bool:
        return self._server is not None

    def start(self, timeout: float = 15.0) -> PrepaidGate:
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tijori-sim-prepaid-gate", daemon=True
        )
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout)
        return self

    def stop(self) -> None:
        if self._thread is None or not self._loop.is_running():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shut(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._thread = None
        self._loop.close()

    def refuse_connections(self, seconds: float) -> Future[None]:
        """Close the listening socket and the open connections now, listen again on the same port
        after `seconds` real seconds (0 < seconds <= 60; a refusal during another one restarts the
        window). The future is done once the socket is closed."""
        if not 0 < seconds <= MAX_REFUSAL_SECONDS:
            raise ValueError(f"seconds must be within (0, {MAX_REFUSAL_SECONDS:g}]")
        return asyncio.run_coroutine_threadsafe(self._refuse(seconds), self._loop)

    # -- in the gate's loop ---------------------------------------------------------------------

    async def _listen(self) -> None:
        server = await asyncio.start_server(self._forward, self._host, self._port, reuse_address=True)
        self._port = int(server.sockets[0].getsockname()[1])
        self._server = server

    async def _close_all(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _shut(self) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        await self._close_all()
        tasks = [task for task in self._tasks if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _refuse(self, seconds: float) -> None:
        self.refusals += 1
        await self._close_all()
        if self._reopen is not None:
            self._reopen.cancel()
        self._reopen = self._loop.call_later(seconds, lambda: self._loop.create_task(self._listen_again()))

    async def _listen_again(self) -> None:
        self._reopen = None
        for _ in range(_REOPEN_ATTEMPTS):
            try:
                await self._listen()
                return
            except OSError:  # the port is briefly not bindable; it is ours, so try again
                await asyncio.sleep(_REOPEN_RETRY_SECONDS)
        LOG.error("the prepaid gate could not listen again on port %s", self._port)

    async def _forward(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.close()
            return
        writers = (client_writer, upstream_writer)
        self._writers.update(writers)
        try:
            await asyncio.gather(
                _pump(client_reader, upstream_writer),
                _pump(upstream_reader, client_writer),
            )
        finally:
            for writer in writers:
                self._writers.discard(writer)
                writer.close()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until EOF, then half-close the other side (or stop when either side is gone)."""
    try:
        while chunk := await reader.read(_CHUNK):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()
