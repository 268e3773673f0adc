"""Masking of customer identifiers for logs and API answers (DESIGN.md rule 8)."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """Keep the last 2 digits: enough for support to match, too little to contact anyone."""
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def mask_email(email: str) -> str:
    """Keep the first character of the local part and the domain."""
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"
