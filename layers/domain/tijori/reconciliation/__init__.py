"""Reconciliation: Paytm's record of every item in a window against Tijori's, read-only."""
