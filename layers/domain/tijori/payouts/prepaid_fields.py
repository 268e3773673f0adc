"""Seed 003 load fields' rules, shared by the request model (tijori.payouts.models) and the
stack's defaults for them (tijori.settings.PrepaidLoadDefaults): one definition of each."""

from __future__ import annotations

from typing import Literal

FundFlowType = Literal["O", "I", "IO", "OR", "IR", "IOR"]
IMPL_ID_PATTERN = r"^[A-Za-z0-9|_-]{1,30}$"
IMPL_TYPE_PATTERN = r"^[A-Z0-9_]{1,30}$"
MAX_SENDER_LENGTH = 50
