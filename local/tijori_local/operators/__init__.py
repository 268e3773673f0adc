"""Operators' commands of `tijori` that are more than a few lines (cli.py wires them): bulk payout
files, reconciliation and the report with charts."""
