"""Builds the simulator's Starlette application: every seed API plus the control API."""

from __future__ import annotations

from decimal import Decimal

from starlette.applications import Starlette
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from paytm_signing import MerchantCredentials, TokenFormat
from tijori_local.sim import (
    autodebit_api,
    control_api,
    pg_api,
    pg_sdk_api,
    prepaid_api,
    validation_api,
    wallet_api,
)
from tijori_local.sim.callbacks import CallbackSender
from tijori_local.sim.clock import SimClock
from tijori_local.sim.context import (
    DEFAULT_PG_PENDING_STATUS,
    SimContext,
    pg_pending_status_named,
    with_every_product,
)
from tijori_local.sim.faults import FaultBook
from tijori_local.sim.state import DEFAULT_SUB_WALLET_BALANCE, SimState
from tijori_local.sim.token_formats import prepaid_token_format_for

__all__ = ["build_app", "build_context"]


def build_context(
    credentials: MerchantCredentials,
    *,
    time_scale: float = 1.0,
    sub_wallet_balance: Decimal = DEFAULT_SUB_WALLET_BALANCE,
    prepaid_token_format: TokenFormat | None = None,
    pg_pending_status: str = DEFAULT_PG_PENDING_STATUS,
) -> SimContext:
    """`prepaid_token_format` None: the provider's envelope with the credentials' `prepaid.iv`."""
    pending = pg_pending_status_named(pg_pending_status)
    if prepaid_token_format is None:
        prepaid_token_format = prepaid_token_format_for(credentials)
    credentials = with_every_product(credentials)
    clock = SimClock(time_scale=time_scale)
    faults = FaultBook()
    state = SimState(credentials, clock, sub_wallet_balance=sub_wallet_balance)
    ctx = SimContext(
        credentials,
        clock,
        state,
        faults,
        CallbackSender(faults, clock),
        prepaid_token_format,
        pg_pending_status=pending,
    )
    pg_api.install(ctx)
    return ctx


class _SettleFirst:
    """Settles what is due (pending credits past their deadline or released) before any request
    is handled, so every movement of the request is recorded after those of the past."""

    def __init__(self, app: ASGIApp, state: SimState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.state.resolve_pending()
        await self.app(scope, receive, send)


def build_app(ctx: SimContext) -> Starlette:
    routes: list[BaseRoute] = [
        *wallet_api.routes(),
        *validation_api.routes(),
        *prepaid_api.routes(),
        *pg_api.routes(),
        *pg_sdk_api.routes(),
        *autodebit_api.routes(),
        *control_api.routes(),
    ]
    app = Starlette(routes=routes)
    app.state.sim = ctx
    app.add_middleware(_SettleFirst, state=ctx.state)
    return app
