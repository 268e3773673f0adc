"""What every route handler needs: the state, the clock, the faults and the callback sender."""

from __future__ import annotations

from dataclasses import dataclass, field

from paytm_signing import DEFAULT_TOKEN_FORMAT, MerchantCredentials, TokenFormat
from tijori_local.sim.callbacks import CallbackSender
from tijori_local.sim.clock import SimClock
from tijori_local.sim.faults import FaultBook
from tijori_local.sim.request_log import RequestLog
from tijori_local.sim.state import SimState

__all__ = ["SimContext"]


@dataclass
class SimContext:
    credentials: MerchantCredentials
    clock: SimClock
    state: SimState
    faults: FaultBook
    callbacks: CallbackSender
    prepaid_token_format: TokenFormat = DEFAULT_TOKEN_FORMAT
    requests: RequestLog = field(default_factory=RequestLog)

    @property
    def merchant_key(self) -> str:
        return self.credentials.merchant_key.get_secret_value()
