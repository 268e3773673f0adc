"""What every route handler needs: the state, the clock, the faults and the callback sender."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from paytm_signing import DEFAULT_TOKEN_FORMAT, PRODUCTS, MerchantCredentials, TokenFormat
from tijori_local.sim.callbacks import CallbackSender
from tijori_local.sim.clock import SimClock
from tijori_local.sim.faults import FaultBook
from tijori_local.sim.request_log import RequestLog
from tijori_local.sim.state import SimState

__all__ = ["SimContext", "with_every_product"]


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


@dataclass
class SimContext:
    credentials: MerchantCredentials
    clock: SimClock
    state: SimState
    faults: FaultBook
    callbacks: CallbackSender
    prepaid_token_format: TokenFormat = DEFAULT_TOKEN_FORMAT
    requests: RequestLog = field(default_factory=RequestLog)

    # Each product's own key, as Paytm holds it: a call signed with another product's key is
    # refused (seed 000's AesKey is not the PG merchant key).
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
