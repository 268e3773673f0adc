"""What every route handler needs: the state, the clock, the faults and the callback sender."""

from __future__ import annotations

import secrets
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from paytm_signing import PRODUCTS, MerchantCredentials, TokenFormat
from tijori_local.sim.callbacks import CallbackSender
from tijori_local.sim.clock import SimClock
from tijori_local.sim.faults import FaultBook
from tijori_local.sim.request_log import RequestLog
from tijori_local.sim.state import SimState

__all__ = [
    "DEFAULT_PG_PENDING_STATUS",
    "PG_PENDING_STATUSES",
    "ConnectionGate",
    "ProductKeys",
    "SimContext",
    "pg_pending_status_named",
    "with_every_product",
]

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


class ConnectionGate(Protocol):
    """What the control API needs of the prepaid gate."""

    def refuse_connections(self, seconds: float) -> Future[None]:
        """Stop listening for `seconds` real seconds; the future is done once it stopped."""
        ...


def _unknowable(length: int) -> str:
    return secrets.token_hex(length)[:length]


def _not_onboarded() -> dict[str, dict[str, Any]]:
    """Keys and ids no caller holds, one set per product."""
    return {
        "wallet": {
            "aes_key": _unknowable(16),
            "merchant_guid": str(uuid.uuid4()),
            "sales_wallet_guid": str(uuid.uuid4()),
        },
        "payouts": {"merchant_key": _unknowable(16), "subwallet_guid": str(uuid.uuid4())},
        "pg": {"merchant_key": _unknowable(16), "website_name": "WEBSTAGING"},
        "auto_debit": {"client_id": _unknowable(16), "client_secret": _unknowable(32)},
        "prepaid": {"aes_key": _unknowable(24)},
    }


def with_every_product(credentials: MerchantCredentials) -> MerchantCredentials:
    """The merchant as Paytm knows it. A product the credentials leave out is one the merchant is
    not onboarded on: the simulator gives it keys and ids that no caller holds, so every call to
    that product is refused as Paytm refuses an unknown key (a checksum failure)."""
    missing = [name for name in PRODUCTS if name not in credentials.products]
    if not missing:
        return credentials
    stand_ins = _not_onboarded()
    data = credentials.model_dump(by_alias=True)
    data.update({name: stand_ins[name] for name in missing})
    return MerchantCredentials.model_validate(data)


class ProductKeys:
    """Each product's own key, as Paytm holds it: a call signed with another product's key is
    refused (seed 000's AesKey is not the PG merchant key). For whoever holds `credentials`."""

    credentials: MerchantCredentials

    @property
    def wallet_key(self) -> str:
        """Seed 000: the wallet team's AesKey."""
        return self.credentials.wallet.checksum_key.current

    @property
    def payouts_key(self) -> str:
        """Seed 001: Paytm Payouts' checksum key."""
        return self.credentials.payouts.checksum_key.current

    @property
    def pg_key(self) -> str:
        """Seeds 002 and 004: the PG merchant key (PG and auto-debit's payment calls)."""
        return self.credentials.pg.checksum_key.current

    @property
    def prepaid_key(self) -> str:
        """Seed 003: the AES-192 token key."""
        return self.credentials.prepaid.token_key.current


@dataclass
class SimContext(ProductKeys):
    credentials: MerchantCredentials
    clock: SimClock
    state: SimState
    faults: FaultBook
    callbacks: CallbackSender
    prepaid_token_format: TokenFormat = field(
        default_factory=lambda: TokenFormat(fixed_iv=bytes(16), authenticated=False)
    )
    """Seed 003's envelope (tijori_local.sim.token_formats): the provider's bare CBC by default."""
    pg_pending_status: str = DEFAULT_PG_PENDING_STATUS
    """The STATUS every not-yet-final PG order and pending refund carries on the wire."""
    requests: RequestLog = field(default_factory=RequestLog)
    prepaid_gate: ConnectionGate | None = None
    """Seed 003's own door (tijori_local.sim.gate.PrepaidGate), set by SimServer once it runs."""
