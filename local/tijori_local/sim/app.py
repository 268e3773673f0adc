"""Builds the simulator's Starlette application: every seed API plus the control API."""

from __future__ import annotations

from decimal import Decimal

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from paytm_signing import MerchantCredentials
from tijori_local.sim import autodebit_api, control_api, pg_api, prepaid_api, validation_api, wallet_api
from tijori_local.sim.callbacks import CallbackSender
from tijori_local.sim.clock import SimClock
from tijori_local.sim.context import SimContext
from tijori_local.sim.faults import FaultBook
from tijori_local.sim.state import DEFAULT_SUB_WALLET_BALANCE, SimState

__all__ = ["build_app", "build_context"]


def build_context(
    credentials: MerchantCredentials,
    *,
    time_scale: float = 1.0,
    sub_wallet_balance: Decimal = DEFAULT_SUB_WALLET_BALANCE,
) -> SimContext:
    clock = SimClock(time_scale=time_scale)
    faults = FaultBook()
    state = SimState(credentials, clock, sub_wallet_balance=sub_wallet_balance)
    ctx = SimContext(credentials, clock, state, faults, CallbackSender(faults, clock))
    pg_api.install(ctx)
    return ctx


def build_app(ctx: SimContext) -> Starlette:
    routes: list[BaseRoute] = [
        *wallet_api.routes(),
        *validation_api.routes(),
        *prepaid_api.routes(),
        *pg_api.routes(),
        *autodebit_api.routes(),
        *control_api.routes(),
    ]
    app = Starlette(routes=routes)
    app.state.sim = ctx
    return app
