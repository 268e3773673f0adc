"""What every route handler needs: the state, the clock, the faults and the callback sender."""

from __future__ import annotations

from dataclasses import dataclass, field

from paytm_signing import DEFAULT_TOKEN_FORMAT, MerchantCredentials, TokenFormat
from tijori_local.sim.callbacks import CallbackSender
from tijori_local.sim.clock import SimClock
from tijori_local.sim.faults import FaultBook
from tijori_local.sim.request_log import RequestLog
from tijori_local.sim.state import SimState

__all__ = ["DEFAULT_PG_PENDING_STATUS", "PG_PENDING_STATUSES", "SimContext", "pg_pending_status_named"]

DEFAULT_PG_PENDING_STATUS = "TXN_PENDING"
"""How a not-yet-final PG order (payment, add money, withdrawal) and a pending refund read unless
set otherwise: seed 002's own spelling (add money: "only three values: TXN_SUCCESS, TXN_FAILURE,
TXN_PENDING")."""

PG_PENDING_STATUSES = ("TXN_PENDING", "PENDING")
"""The two spellings of "not final yet": seed 002's `TXN_PENDING`, and `PENDING`, what Paytm's
public PG documentation and SDKs use. Which one the simulator speaks is a setting
(`SimServer(pg_pending_status=...)`, `tijori-sim --pg-pending-status`)."""


def pg_pending_status_named(name: str) -> str:
    """The pending literal `name`, or ValueError if it is not one of `PG_PENDING_STATUSES`."""
    if name not in PG_PENDING_STATUSES:
        raise ValueError(f"pg pending status must be one of {', '.join(PG_PENDING_STATUSES)}, got {name!r}")
    return name


@dataclass
class SimContext:
    credentials: MerchantCredentials
    clock: SimClock
    state: SimState
    faults: FaultBook
    callbacks: CallbackSender
    prepaid_token_format: TokenFormat = DEFAULT_TOKEN_FORMAT
    pg_pending_status: str = DEFAULT_PG_PENDING_STATUS
    """The STATUS every not-yet-final PG order and pending refund carries on the wire."""
    requests: RequestLog = field(default_factory=RequestLog)

    @property
    def merchant_key(self) -> str:
        return self.credentials.merchant_key.get_secret_value()
