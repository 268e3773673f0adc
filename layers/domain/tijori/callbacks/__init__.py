"""Paytm callbacks: verification over the raw body, the known fields of each kind, and intake
(store, de-duplicate, request a status check)."""

from tijori.callbacks.intake import (
    CALLBACK_RETENTION,
    CallbackOutcome,
    CallbackReceipt,
    CallbackStore,
    StoredCallback,
    receive_callback,
)
from tijori.callbacks.known_fields import CALLBACK_FIELDS, CallbackKind
from tijori.callbacks.verification import (
    CallbackRejectedError,
    RejectionStatus,
    VerifiedCallback,
    verify_json_callback,
    verify_pg_callback,
)

__all__ = [
    "CALLBACK_FIELDS",
    "CALLBACK_RETENTION",
    "CallbackKind",
    "CallbackOutcome",
    "CallbackReceipt",
    "CallbackRejectedError",
    "CallbackStore",
    "RejectionStatus",
    "StoredCallback",
    "VerifiedCallback",
    "receive_callback",
    "verify_json_callback",
    "verify_pg_callback",
]
