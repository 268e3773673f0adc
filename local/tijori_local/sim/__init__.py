"""Paytm sandbox simulator: the seed APIs with real checksums, stateful wallets and faults."""

from tijori_local.sim.app import build_app, build_context
from tijori_local.sim.server import SimServer

__all__ = ["SimServer", "build_app", "build_context"]
