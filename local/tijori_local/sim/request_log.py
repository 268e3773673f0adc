"""Every API request the simulator received, counted by path and order id.

Lets a test prove how many times a client really called Paytm for an order (for example: one
salesToUserCredit call despite a duplicated delivery), whatever faults then did to the answer.
"""

from __future__ import annotations

import threading
from collections import Counter


class RequestLog:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._by_order: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def record(self, path: str, order_id: str | None) -> None:
        with self._lock:
            self._counts[(path, order_id or "")] += 1
            if order_id:
                self._by_order.setdefault(order_id, []).append(path)

    def sequence(self, order_id: str) -> list[str]:
        """The paths requested for one order id, in the order they arrived."""
        with self._lock:
            return list(self._by_order.get(order_id, []))

    def count(self, *, path: str | None = None, order_id: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (seen_path, seen_order), n in self._counts.items()
                if (path is None or seen_path == path) and (order_id is None or seen_order == order_id)
            )

    def entries(self) -> list[dict[str, str | int]]:
        with self._lock:
            return [
                {"path": path, "orderId": order_id, "count": n}
                for (path, order_id), n in sorted(self._counts.items())
            ]
