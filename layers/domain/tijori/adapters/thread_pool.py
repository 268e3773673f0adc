"""The threads that run a batch's blocking AWS calls (boto3 through `asyncio.to_thread`).

`asyncio.to_thread` runs on the event loop's default executor, whose size is
min(32, os.cpu_count() + 4): 6 threads on a 2-vCPU Lambda. PayoutFunction takes 10 records a batch
and each record has at most one blocking call in flight at a time, so with the default pool the
last records' table writes wait for a thread while the first ones' are on the network. One thread
per record of a full batch lets every record's call go out at once.
"""

from __future__ import annotations

import asyncio
import weakref
from concurrent.futures import ThreadPoolExecutor


class LoopBoundThreadPool:
    """Gives each event loop it is used on a default executor of `max_workers` threads.

    Lambda keeps one loop across warm invocations (so the pool, like the HTTP pool, is built once);
    where each invocation runs a new loop (tests), each gets its own. Threads start on demand.
    """

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    def install(self) -> None:
        """Call from a coroutine before its first `asyncio.to_thread` on this loop."""
        loop = asyncio.get_running_loop()
        if loop in self._loops:
            return
        loop.set_default_executor(
            ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="tijori-blocking")
        )
        self._loops.add(loop)
