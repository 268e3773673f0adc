"""The payee validation lifecycle as an explicit table (on tijori.lifecycle.states).

ACCEPTED: stored and queued, or sent and accepted by Paytm (DE_002) with the result still to come.
  An attempt in flight holds a lease on it (`lease_until`, wall-clock epoch seconds): a second
  delivery of the message never sends while the lease runs. `first_sent_at` says a validate call
  may have reached Paytm: every later attempt asks the status query first.
PENDING: Paytm holds it (DE_101, DE_0618); the pending loop asks until its deadline.
VALID: Paytm's record for this id and phone says the wallet took the penny (DE_001).
INVALID: a definitive answer that the wallet cannot take money (DE_1222, DE_1223, DE_702, DE_703).
FAILED: Paytm refused the request itself; nothing moved (DE_010..DE_013, DE_029, ...).
NEEDS_REVIEW: Paytm's record does not match the validation (another phone or order), or no final
  answer by the deadline; still asked daily until Paytm gives a final answer that matches.
"""

from __future__ import annotations

from enum import StrEnum

from tijori.lifecycle.states import StatusTable


class ValidationStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    PENDING = "PENDING"
    VALID = "VALID"
    INVALID = "INVALID"
    FAILED = "FAILED"
    NEEDS_REVIEW = "NEEDS_REVIEW"


_V = ValidationStatus
_DECIDED = frozenset({_V.VALID, _V.INVALID, _V.FAILED})
VALIDATION_LIFECYCLE: StatusTable[ValidationStatus] = StatusTable(
    "validation",
    {
        _V.ACCEPTED: _DECIDED | {_V.PENDING, _V.NEEDS_REVIEW},
        _V.PENDING: _DECIDED | {_V.NEEDS_REVIEW},
        # A later final answer that matches settles a review; one that does not is recorded.
        _V.NEEDS_REVIEW: _DECIDED | {_V.NEEDS_REVIEW},
        _V.VALID: frozenset(),
        _V.INVALID: frozenset(),
        _V.FAILED: frozenset(),
    },
)
# The statuses that keep a validation in the due index (still to be asked about).
VALIDATION_OPEN_STATUSES = frozenset(VALIDATION_LIFECYCLE.allowed) - VALIDATION_LIFECYCLE.finals
# The event announcing each final status to the merchant (tijori.lifecycle.announcements).
VALIDATION_EVENT_TYPES = {
    ValidationStatus.VALID: "PayeeValidationValid",
    ValidationStatus.INVALID: "PayeeValidationInvalid",
    ValidationStatus.FAILED: "PayeeValidationFailed",
}
