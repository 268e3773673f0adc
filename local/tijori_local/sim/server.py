"""The simulator in-process: uvicorn on 127.0.0.1 in a background thread.

with SimServer(credentials) as sim:
    httpx.post(f"{sim.url}/wallet-web/salesToUserCredit", ...)
    sim.clock.advance(days=5)
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from types import TracebackType

from paytm_signing import DEFAULT_TOKEN_FORMAT, MerchantCredentials, TokenFormat
from tijori_local.asgi_server import AsgiServer
from tijori_local.sim.app import build_app, build_context
from tijori_local.sim.callbacks import CallbackSender
from tijori_local.sim.clock import SimClock
from tijori_local.sim.context import DEFAULT_PG_PENDING_STATUS, SimContext
from tijori_local.sim.faults import FaultBook
from tijori_local.sim.state import DEFAULT_SUB_WALLET_BALANCE, SimState

__all__ = ["PLAIN_CBC_DEFAULT_IV", "SimServer", "token_format_named"]

PLAIN_CBC_DEFAULT_IV = bytes(16)
"""The fixed IV of the `plain-cbc` prepaid token format unless one is given: 16 zero bytes."""


def token_format_named(name: str, fixed_iv: bytes | None = None) -> TokenFormat:
    """`tijori` (Tijori's convention: random IV in front + HMAC) or `plain-cbc` (bare AES-192-CBC
    with a fixed IV, `fixed_iv` or 16 zero bytes, and no MAC)."""
    if name == "tijori":
        if fixed_iv is not None:
            raise ValueError("a fixed IV only goes with the plain-cbc token format")
        return DEFAULT_TOKEN_FORMAT
    if name == "plain-cbc":
        return TokenFormat(
            fixed_iv=PLAIN_CBC_DEFAULT_IV if fixed_iv is None else fixed_iv, authenticated=False
        )
    raise ValueError(f"unknown prepaid token format {name!r} (tijori or plain-cbc)")


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
        prepaid_token_format: TokenFormat | str = DEFAULT_TOKEN_FORMAT,
        pg_pending_status: str = DEFAULT_PG_PENDING_STATUS,
    ) -> None:
        """`pg_pending_status`: how not-yet-final PG orders and pending refunds read, `TXN_PENDING`
        (seed 002, the default) or `PENDING` (Paytm's public docs and SDKs); ValueError otherwise."""
        token_format = (
            token_format_named(prepaid_token_format)
            if isinstance(prepaid_token_format, str)
            else prepaid_token_format
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

    def start(self) -> SimServer:
        self._http.start(timeout=_STARTUP_TIMEOUT_SECONDS)
        return self

    def serve_forever(self, *, announce: Callable[[str], None]) -> int:
        """Serve in the calling (main) thread until SIGINT/SIGTERM; `announce(url)` once listening."""
        started = self._http.serve_in_foreground(announce=announce)
        self.context.callbacks.close()
        return 0 if started else 1

    def stop(self) -> None:
        self._http.stop()
        self.context.callbacks.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
