"""The simulator in-process: uvicorn on 127.0.0.1 in a background thread.

with SimServer(credentials) as sim:
    httpx.post(f"{sim.url}/wallet-web/salesToUserCredit", ...)
    sim.clock.advance(days=5)
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from types import TracebackType

from paytm_signing import MerchantCredentials, TokenFormat
from tijori_local.asgi_server import AsgiServer
from tijori_local.sim.app import build_app, build_context
from tijori_local.sim.callbacks import CallbackSender
from tijori_local.sim.clock import SimClock
from tijori_local.sim.context import DEFAULT_PG_PENDING_STATUS, SimContext
from tijori_local.sim.faults import FaultBook
from tijori_local.sim.gate import PrepaidGate
from tijori_local.sim.state import DEFAULT_SUB_WALLET_BALANCE, SimState
from tijori_local.sim.token_formats import (
    DEFAULT_PREPAID_TOKEN_FORMAT_NAME,
    PLAIN_CBC_DEFAULT_IV,
    PREPAID_TOKEN_FORMAT_NAMES,
    prepaid_token_format_for,
    token_format_named,
)

__all__ = [
    "DEFAULT_PREPAID_TOKEN_FORMAT_NAME",
    "PLAIN_CBC_DEFAULT_IV",
    "PREPAID_TOKEN_FORMAT_NAMES",
    "SimServer",
    "prepaid_token_format_for",
    "token_format_named",
]

_STARTUP_TIMEOUT_SECONDS = 15.0


class SimServer:
    """Starts on `start()` (or entering the context), serves until `stop()`."""

    def __init__(
        self,
        credentials: MerchantCredentials,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        time_scale: float = 1.0,
        sub_wallet_balance: Decimal = DEFAULT_SUB_WALLET_BALANCE,
        log_level: str = "warning",
        prepaid_token_format: TokenFormat | str | None = None,
        pg_pending_status: str = DEFAULT_PG_PENDING_STATUS,
        prepaid_gate_port: int = 0,
    ) -> None:
        """`prepaid_token_format`: seed 003's envelope, a `TokenFormat` or a name
        (`prepaid_token_format_for`); None is `provider` with the credentials' `prepaid.iv` (16
        zero bytes without one). `pg_pending_status`: how not-yet-final PG orders and pending
        refunds read, `TXN_PENDING` (seed 002, the default) or `PENDING` (Paytm's public docs and
        SDKs); ValueError otherwise. `prepaid_gate_port`: the prepaid gate's port on 127.0.0.1
        (0 picks a free one), `prepaid_url` once started."""
        token_format = (
            prepaid_token_format
            if isinstance(prepaid_token_format, TokenFormat)
            else prepaid_token_format_for(
                credentials, prepaid_token_format or DEFAULT_PREPAID_TOKEN_FORMAT_NAME
            )
        )
        self.context: SimContext = build_context(
            credentials,
            time_scale=time_scale,
            sub_wallet_balance=sub_wallet_balance,
            prepaid_token_format=token_format,
            pg_pending_status=pg_pending_status,
        )
        self.app = build_app(self.context)
        self._http = AsgiServer(self.app, host=host, port=port, name="tijori-sim", log_level=log_level)
        self._host = host
        self._prepaid_gate_port = prepaid_gate_port
        self.prepaid_gate: PrepaidGate | None = None

    @property
    def state(self) -> SimState:
        return self.context.state

    @property
    def clock(self) -> SimClock:
        return self.context.clock

    @property
    def faults(self) -> FaultBook:
        return self.context.faults

    @property
    def callbacks(self) -> CallbackSender:
        return self.context.callbacks

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def url(self) -> str:
        return self._http.url

    @property
    def prepaid_url(self) -> str:
        """The prepaid gate (seed 003's base URL): forwards to `url`, and can refuse connections
        (`POST /_sim/prepaid/refuse-connections`)."""
        if self.prepaid_gate is None:
            raise RuntimeError("the simulator is not running")
        return self.prepaid_gate.url

    def _start_gate(self) -> PrepaidGate:
        # The gate listens on 127.0.0.1 and reaches the simulator where it listens (a wildcard
        # bind is reached through the loopback).
        target = "127.0.0.1" if self._host in ("0.0.0.0", "::", "") else self._host  # noqa: S104
        gate = PrepaidGate(target, self.port, port=self._prepaid_gate_port).start(
            timeout=_STARTUP_TIMEOUT_SECONDS
        )
        self.prepaid_gate = gate
        self.context.prepaid_gate = gate
        return gate

    def start(self) -> SimServer:
        self._http.start(timeout=_STARTUP_TIMEOUT_SECONDS)
        try:
            self._start_gate()
        except BaseException:
            self._http.stop()
            raise
        return self

    def serve_forever(
        self, *, announce: Callable[[str], None], announce_prepaid: Callable[[str], None] | None = None
    ) -> int:
        """Serve in the calling (main) thread until SIGINT/SIGTERM; once listening, start the
        prepaid gate, then `announce(url)` and `announce_prepaid(prepaid_url)`."""

        def listening(url: str) -> None:
            gate = self._start_gate()
            announce(url)
            if announce_prepaid is not None:
                announce_prepaid(gate.url)

        started = self._http.serve_in_foreground(announce=listening)
        self._stop_gate()
        self.context.callbacks.close()
        return 0 if started else 1

    def _stop_gate(self) -> None:
        gate, self.prepaid_gate = self.prepaid_gate, None
        self.context.prepaid_gate = None
        if gate is not None:
            gate.stop()

    def stop(self) -> None:
        self._stop_gate()
        self._http.stop()
        self.context.callbacks.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
