"""One pooled httpx.AsyncClient per event loop.

Lambda keeps one event loop across warm invocations (Powertools' AsyncBatchProcessor reuses it),
so the pool and its keep-alive connections survive between invocations; where each invocation
runs its own loop (tests), each gets a fresh client instead of one bound to a closed loop.
"""

from __future__ import annotations

import asyncio

import httpx

_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)


class LoopBoundHttpClient:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None

    def get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(limits=_LIMITS)
            self._loop = loop
        return self._client
