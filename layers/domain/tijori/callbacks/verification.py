"""Inbound Paytm callbacks: verified over the raw body before anything else (DESIGN.md rule 6).

Fixed steps, each failing closed: size limit -> decode (a repeated field is refused) -> find the
signature -> verify it with the current key, then the previous one (key rotation). Only a
verified callback is handed on; what it may change is decided later by re-checking the status
server to server, never by trusting the callback's own fields.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from urllib.parse import parse_qsl

from paytm_signing import SIGNATURE_FIELD, RotatingKey, verify_signature_current_or_previous
from tijori.callbacks.known_fields import CALLBACK_FIELDS, CallbackKind, field_value, unknown_field_names


class RejectionStatus(IntEnum):
    MALFORMED = 400
    UNAUTHENTICATED = 401
    TOO_LARGE = 413


class CallbackRejectedError(Exception):
    """Why a callback is refused. `reason` never holds a field's value, only names and sizes."""

    def __init__(self, status: RejectionStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class VerifiedCallback:
    kind: CallbackKind
    fields: dict[str, Any]

    def _text(self, path: str) -> str | None:
        value = field_value(self.fields, path)
        return value if isinstance(value, str) and value else None

    @property
    def order_id(self) -> str | None:
        """The order id under the kind's documented name only (PG `ORDERID`, Payouts
        `result.orderId`): a renamed field still verifies, so aliases are never read."""
        return self._text(CALLBACK_FIELDS[self.kind].order_id)

    @property
    def unknown_fields(self) -> list[str]:
        return unknown_field_names(self.kind, self.fields)

    @property
    def delivery_fingerprint(self) -> str:
        """Same kind, order id, status and Paytm id: the same news, however often it is delivered.

        A missing field hashes apart from an empty one, so a renamed field makes a new fingerprint
        (which at worst asks for one more status check, never for a change)."""
        names = CALLBACK_FIELDS[self.kind]
        identity = [
            self.kind.value,
            *(field_value(self.fields, path) for path in (names.order_id, names.status, names.paytm_id)),
        ]
        canonical = json.dumps(identity, separators=(",", ":"), sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check_size(raw_body: bytes, max_bytes: int) -> None:
    if len(raw_body) > max_bytes:
        raise CallbackRejectedError(RejectionStatus.TOO_LARGE, f"callback body over {max_bytes} bytes")
    if not raw_body:
        raise CallbackRejectedError(RejectionStatus.MALFORMED, "callback body is empty")


def _field_name_for_log(name: str) -> str:
    # The name comes from whoever posted: bound it so a rejection log line stays small.
    return name if len(name) <= 64 else f"{name[:64]}..."


def verify_pg_callback(raw_body: bytes, *, key: RotatingKey, max_bytes: int) -> VerifiedCallback:
    """A PG callback: form fields, signed as params, the signature in CHECKSUMHASH (seed 004)."""
    _check_size(raw_body, max_bytes)
    try:
        pairs = parse_qsl(raw_body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise CallbackRejectedError(RejectionStatus.MALFORMED, "callback is not a form body") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise CallbackRejectedError(
                RejectionStatus.MALFORMED, f"field {_field_name_for_log(name)} appears twice"
            )
        fields[name] = value
    signature = fields.get(SIGNATURE_FIELD)
    if not signature:
        raise CallbackRejectedError(RejectionStatus.UNAUTHENTICATED, f"{SIGNATURE_FIELD} is missing")
    if not verify_signature_current_or_previous(fields, key, signature):
        raise CallbackRejectedError(RejectionStatus.UNAUTHENTICATED, "checksum does not verify")
    del fields[SIGNATURE_FIELD]
    return VerifiedCallback(kind=CallbackKind.PG, fields=fields)


class _RepeatedKeyError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _object_without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys; what we store and what a reader of the stored
    # body sees could then differ, so a repeated key is refused, as a repeated form field is.
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise _RepeatedKeyError(name)
        document[name] = value
    return document


def verify_json_callback(
    raw_body: bytes, signature: str | None, *, key: RotatingKey, max_bytes: int, kind: CallbackKind
) -> VerifiedCallback:
    """A JSON callback (Payouts / wallet validation): the checksum of the exact body in a header."""
    _check_size(raw_body, max_bytes)
    if not signature:
        raise CallbackRejectedError(RejectionStatus.UNAUTHENTICATED, "x-checksum header is missing")
    if not verify_signature_current_or_previous(raw_body, key, signature):
        raise CallbackRejectedError(RejectionStatus.UNAUTHENTICATED, "checksum does not verify")
    try:
        document = json.loads(raw_body, object_pairs_hook=_object_without_repeated_keys)
    except _RepeatedKeyError as repeated:
        raise CallbackRejectedError(
            RejectionStatus.MALFORMED, f"field {_field_name_for_log(repeated.name)} appears twice"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CallbackRejectedError(RejectionStatus.MALFORMED, "callback is not JSON") from None
    if not isinstance(document, dict):
        raise CallbackRejectedError(RejectionStatus.MALFORMED, "callback is not a JSON object")
    return VerifiedCallback(kind=kind, fields=document)
