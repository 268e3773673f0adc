"""Paytm: per-API request/response mapping (pure) and clients (the only code that does HTTP)."""
