"""Request bodies shared by the intake tests."""

from __future__ import annotations

from typing import Any

from tijori.payouts.models import (
    MAX_EMAIL_LENGTH,
    MAX_METADATA_ENTRIES,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_VALUE_LENGTH,
    MAX_NARRATION_LENGTH,
)

# Four bytes in UTF-8, and 12 bytes as the \\u surrogate pair json.dumps writes.
WIDE_CHARACTER = "\U0001f600"


def largest_valid_payout_body() -> dict[str, Any]:
    """Every field of POST /v1/payouts at its limit, every text character as wide as it gets."""
    wide = WIDE_CHARACTER
    return {
        "order_id": "O" * 50,
        "amount": "9999999999.99",
        "currency": "INR",
        "payee": {"email": wide * (MAX_EMAIL_LENGTH - 4) + "@a.b"},
        "mode": "verified_user",
        "pending_days_limit": 5,
        "narration": wide * MAX_NARRATION_LENGTH,
        "metadata": {
            f"{index:02d}" + wide * (MAX_METADATA_KEY_LENGTH - 2): wide * MAX_METADATA_VALUE_LENGTH
            for index in range(MAX_METADATA_ENTRIES)
        },
    }
