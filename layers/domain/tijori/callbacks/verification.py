"""Inbound Paytm callbacks: verified over the raw body before anything else (DESIGN.md rule 6).

Fixed steps, each failing closed: size limit -> decode -> find the signature -> verify it. Only a
verified callback is handed on; what it may change is decided later by re-checking the status
server to server, never by trusting the callback's own fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from urllib.parse import parse_qsl

from paytm_signing import SIGNATURE_FIELD, verify_signature


class RejectionStatus(IntEnum):
    MALFORMED = 400
    UNAUTHENTICATED = 401
    TOO_LARGE = 413


class CallbackRejectedError(Exception):
    def __init__(self, status: RejectionStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class VerifiedCallback:
    kind: str
    fields: dict[str, Any]

    @property
    def order_id(self) -> str | None:
        """PG forms carry ORDERID; Payouts JSON carries orderId at the top or under `result`."""
        nested = self.fields.get("result")
        for scope in (self.fields, nested if isinstance(nested, dict) else {}):
            for name in ("ORDERID", "orderId", "ORDER_ID"):
                value = scope.get(name)
                if isinstance(value, str) and value:
                    return value
        return None


def _check_size(raw_body: bytes, max_bytes: int) -> None:
    if len(raw_body) > max_bytes:
        raise CallbackRejectedError(RejectionStatus.TOO_LARGE, f"callback body over {max_bytes} bytes")
    if not raw_body:
        raise CallbackRejectedError(RejectionStatus.MALFORMED, "callback body is empty")


def verify_pg_callback(raw_body: bytes, *, merchant_key: str, max_bytes: int) -> VerifiedCallback:
    """A PG callback: form fields, signed as params, the signature in CHECKSUMHASH (seed 004)."""
    _check_size(raw_body, max_bytes)
    try:
        pairs = parse_qsl(raw_body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise CallbackRejectedError(RejectionStatus.MALFORMED, "callback is not a form body") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise CallbackRejectedError(RejectionStatus.MALFORMED, f"field {name} appears twice")
        fields[name] = value
    signature = fields.get(SIGNATURE_FIELD)
    if not signature:
        raise CallbackRejectedError(RejectionStatus.UNAUTHENTICATED, f"{SIGNATURE_FIELD} is missing")
    if not verify_signature(fields, merchant_key, signature):
        raise CallbackRejectedError(RejectionStatus.UNAUTHENTICATED, "checksum does not verify")
    del fields[SIGNATURE_FIELD]
    return VerifiedCallback(kind="pg", fields=fields)


def verify_json_callback(
    raw_body: bytes, signature: str | None, *, merchant_key: str, max_bytes: int, kind: str
) -> VerifiedCallback:
    """A JSON callback (Payouts / wallet validation): the checksum of the exact body in a header."""
    _check_size(raw_body, max_bytes)
    if not signature:
        raise CallbackRejectedError(RejectionStatus.UNAUTHENTICATED, "x-checksum header is missing")
    if not verify_signature(raw_body, merchant_key, signature):
        raise CallbackRejectedError(RejectionStatus.UNAUTHENTICATED, "checksum does not verify")
    try:
        document = json.loads(raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CallbackRejectedError(RejectionStatus.MALFORMED, "callback is not JSON") from None
    if not isinstance(document, dict):
        raise CallbackRejectedError(RejectionStatus.MALFORMED, "callback is not a JSON object")
    return VerifiedCallback(kind=kind, fields=document)
