"""Posting signed callbacks to merchants, with the callback faults applied.

Each callback is a `Callback` (URL, body, headers) built by the API that causes it, already
signed. Faults change what is delivered: `duplicate_callback` posts it twice,
`out_of_order_callback` posts the final callback and then a stale earlier one (e.g. PENDING after
SUCCESS), `forged_checksum_callback` first posts a copy with a checksum made under a wrong key
(and a status claiming success), then the genuine one, `drop_callback` posts nothing (a callback
lost on the way: the merchant must ask the status). Every attempt is recorded in `sent`, a dropped
one as kind "dropped" with no status.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tijori_local.sim.clock import SimClock
from tijori_local.sim.faults import CALLBACK_FAULTS, FaultBook

__all__ = ["Callback", "CallbackSender"]

_TIMEOUT = httpx.Timeout(5.0)


@dataclass
class Callback:
    """One callback ready to send. `content` is the exact body; `form` posts form fields."""

    url: str
    content: bytes
    headers: dict[str, str]
    kind: str = "final"
    # Builds the stale earlier callback for out_of_order, and the forged one.
    stale: Callable[[], Callback] | None = None
    forged: Callable[[], Callback] | None = None


@dataclass
class SentCallback:
    url: str
    kind: str
    status_code: int | None
    error: str | None
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "kind": self.kind,
            "statusCode": self.status_code,
            "error": self.error,
            "body": self.body,
            "headers": self.headers,
        }


class CallbackSender:
    """Sends callbacks from a background thread so API answers never wait on the merchant."""

    def __init__(self, faults: FaultBook, clock: SimClock) -> None:
        self._faults = faults
        self._clock = clock
        self._lock = threading.Lock()
        self.sent: list[SentCallback] = []
        self._threads: list[threading.Thread] = []
        # The last sending thread per order: callbacks of one order go out in dispatch order (as
        # Paytm's do; out-of-order delivery is a fault one asks for), other orders in parallel.
        self._last_for_order: dict[str, threading.Thread] = {}
        self._client = httpx.Client(timeout=_TIMEOUT)

    def dispatch(self, callback: Callback, *, path: str, order_id: str | None) -> None:
        """Work out the delivery plan now (so faults are consumed in request order), send later."""
        fault = self._faults.take(CALLBACK_FAULTS, path, order_id)
        plan: list[Callback] = [callback]
        if fault is not None:
            if fault.kind == "duplicate_callback":
                plan = [callback, _relabel(callback, "duplicate")]
            elif fault.kind == "out_of_order_callback" and callback.stale is not None:
                plan = [callback, _relabel(callback.stale(), "stale")]
            elif fault.kind == "forged_checksum_callback" and callback.forged is not None:
                plan = [_relabel(callback.forged(), "forged"), callback]
            elif fault.kind == "drop_callback":
                with self._lock:
                    self.sent.append(
                        SentCallback(
                            callback.url,
                            "dropped",
                            None,
                            "dropped by fault",
                            callback.content.decode("utf-8", "replace"),
                            dict(callback.headers),
                        )
                    )
                return
        with self._lock:
            previous = self._last_for_order.get(order_id) if order_id else None
            thread = threading.Thread(
                target=self._send_all, args=(plan, previous), daemon=True, name="sim-callback"
            )
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            self._last_for_order = {k: t for k, t in self._last_for_order.items() if t.is_alive()}
            if order_id:
                self._last_for_order[order_id] = thread
        thread.start()

    def _send_all(self, plan: list[Callback], after: threading.Thread | None = None) -> None:
        if after is not None:
            after.join()
        for callback in plan:
            status: int | None = None
            error: str | None = None
            try:
                response = self._client.post(callback.url, content=callback.content, headers=callback.headers)
                status = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.sent.append(
                    SentCallback(
                        callback.url,
                        callback.kind,
                        status,
                        error,
                        callback.content.decode("utf-8", "replace"),
                        dict(callback.headers),
                    )
                )

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until every dispatched callback has been attempted (tests and shutdown)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def close(self) -> None:
        self.wait_idle()
        self._client.close()


def _relabel(callback: Callback, kind: str) -> Callback:
    return Callback(callback.url, callback.content, dict(callback.headers), kind=kind)
