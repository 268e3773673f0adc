"""JSON as Paytm puts it on the wire, and money as exact decimals.

Paytm's samples carry some amounts as JSON numbers (`"txnAmount":6223.75`). The simulator keeps
money as `Decimal` and writes such a number from the decimal's text, never through a float.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = [
    "ZERO",
    "InvalidAmountError",
    "dumps",
    "json_number",
    "loads",
    "parse_amount",
    "to_paise_amount",
]

ZERO = Decimal("0.00")
_CENT = Decimal("0.01")
_AMOUNT_TEXT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")

# A per-process marker: request text can never guess it, so it cannot forge a raw number.
_MARK = f"__sim_number_{secrets.token_hex(8)}__"
_MARKED = re.compile(rf'"{_MARK}(-?\d+(?:\.\d+)?)"')


class InvalidAmountError(ValueError):
    """Not a positive amount with at most 2 decimal places."""


def parse_amount(value: object, *, allow_zero: bool = False) -> Decimal:
    """An INR amount from a request: text or a JSON number, > 0, at most 2 decimal places."""
    if isinstance(value, bool) or value is None:
        raise InvalidAmountError("amount is missing")
    text = str(value).strip() if isinstance(value, str | int | Decimal) else None
    if text is None or not _AMOUNT_TEXT.match(text):
        raise InvalidAmountError(f"amount {value!r} is not a decimal with at most 2 places")
    try:
        amount = Decimal(text).quantize(_CENT)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes this
        raise InvalidAmountError(str(exc)) from exc
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidAmountError("amount must be positive")
    return amount


def to_paise_amount(amount: Decimal) -> int:
    """Amount with two implied decimals (seed 003: `transactionAmount` 210000 = 2100.00)."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class json_number:  # noqa: N801 - reads as a marker in payload literals
    """Wrap a Decimal that must be written as a JSON number (not a string)."""

    __slots__ = ("value",)

    def __init__(self, value: Decimal) -> None:
        self.value = value

    def text(self) -> str:
        normalized = self.value.normalize()
        # normalize() may give exponent form for whole numbers (1E+1): format plainly instead.
        return format(normalized, "f")


def _default(obj: object) -> Any:
    if isinstance(obj, json_number):
        return _MARK + obj.text()
    if isinstance(obj, Decimal):
        return format(obj.quantize(_CENT), "f")
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def dumps(payload: Any) -> bytes:
    """Compact JSON; `json_number` values become numbers, bare Decimals become "0.00" text."""
    text = json.dumps(payload, default=_default, separators=(",", ":"), ensure_ascii=False)
    if _MARK in text:
        text = _MARKED.sub(lambda match: match.group(1), text)
    return text.encode("utf-8")


def loads(raw: bytes | str) -> Any:
    """Parse JSON keeping every fractional number exact."""
    return json.loads(raw, parse_float=Decimal)
