"""Payout batches: many payouts in one request (POST /v1/payout-batches), and their progress."""
