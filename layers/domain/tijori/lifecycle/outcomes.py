"""The shape of every Paytm API family's error catalogue: each code with its outcome.

Outcomes (what the answer says about the money, never more):
- SUCCESS: the operation took effect (money moved, or the request did what it asked).
- PENDING: Paytm accepted it and holds it; the outcome comes later (ask again).
- FINAL_FAILURE: Paytm refused or undid it; no money moved, none will.
- INVALID_REQUEST: Paytm rejected the request's content before accepting it; no money moved.
- CONFIGURATION_ERROR: our side is wrong (key, MID, account): fix, then redrive; never finalises.
- AMBIGUOUS: money may or may not have moved: ask the status API, never call it failed.
- NOT_FOUND: the status API knows no such order (only then may a send be repeated).

A code a catalogue does not list is AMBIGUOUS: a status check is always safe, a guess is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    SUCCESS = "success"
    PENDING = "pending"
    FINAL_FAILURE = "final_failure"
    INVALID_REQUEST = "invalid_request"
    CONFIGURATION_ERROR = "configuration_error"
    AMBIGUOUS = "ambiguous"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class CodeCatalogue:
    """One API family's codes: `outcomes[code]` and, where the documents give it, `meanings[code]`.

    Codes are compared stripped and upper-cased; unknown codes are AMBIGUOUS."""

    family: str
    outcomes: Mapping[str, Outcome]
    meanings: Mapping[str, str] = field(default_factory=dict)

    def outcome_of(self, code: str | None) -> Outcome:
        return self.outcomes.get(_normal(code), Outcome.AMBIGUOUS)

    def meaning_of(self, code: str | None) -> str | None:
        return self.meanings.get(_normal(code))

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and _normal(code) in self.outcomes


def _normal(code: str | None) -> str:
    return (code or "").strip().upper()
