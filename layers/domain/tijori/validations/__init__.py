"""Payee validations (seed 001, Paytm Payouts' Wallet Validation API): a kind of money movement
(a penny) on the lifecycle engine, sent from PayoutQueue like a payout."""
