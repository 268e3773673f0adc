"""Wallet payouts (seed 000): models, the lifecycle table, intake and the ports they need."""
