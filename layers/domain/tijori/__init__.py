"""Tijori's shared domain: payout models and lifecycle, adapters to AWS, settings, observability."""
