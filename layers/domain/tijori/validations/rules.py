"""What Paytm Payouts' answers decide for a payee validation: the decision table, pure.

Validate call's answer (`decide(..., status_answer=False)`):

| answer                                            | validation                               |
|---------------------------------------------------|------------------------------------------|
| ACCEPTED DE_002                                   | stays ACCEPTED: callback or sweep asks   |
| PENDING DE_101 / DE_0618                          | PENDING                                  |
| DE_1222, DE_1223 (SUCCESS), DE_702, DE_703        | INVALID (nothing moved)                  |
| FAILURE, a refusal of the request (DE_010, DE_029) | FAILED (nothing moved)                  |
| SUCCESS DE_001                                    | (only the status query's record: VALID)  |
| ambiguous: timeout, 5xx, non-JSON, DE_500, DE_040 | status query first; resend on DE_039 only |
| configuration error (DE_019, DE_401..409, DE_704) | the message fails to the DLQ             |

Status query's answer (`status_answer=True`), only when it carries Paytm's record (`result`):

| record                                                  | validation    |
|---------------------------------------------------------|---------------|
| another orderId, phone or MID than the validation's     | NEEDS_REVIEW (with the reason; never VALID) |
| SUCCESS DE_001                                          | VALID (penny = `result.amount`) |
| SUCCESS DE_1222 / DE_1223, FAILURE DE_702 / DE_703      | INVALID       |
| FAILURE, any other final code                           | FAILED        |
| PENDING DE_101 / DE_0618                                | PENDING (from ACCEPTED) |
| ACCEPTED DE_002                                         | (still waiting) |
| no record: DE_039, a refusal of the status request, ambiguous | (nothing decided) |

Check ages and deadline (README, "Payee validations"): a validation Paytm accepted is first asked
about `ACCEPTED_FIRST_CHECK` after the send when no callback came, then every
`ACCEPTED_RECHECK`; a PENDING one at `VALIDATION_CHECK_AGES` from when it became pending. Either
is NEEDS_REVIEW when still not final `VALIDATION_DEADLINE` after the first send (ACCEPTED) or after
it became pending (PENDING), and then asked daily until Paytm gives a final answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tijori.lifecycle.outcomes import Outcome
from tijori.paytm.payouts_codes import ACCEPTED_CODES, PAYEE_INVALID_CODES
from tijori.paytm.payouts_mapping import PayoutsAnswer
from tijori.validations.lifecycle import ValidationStatus
from tijori.validations.models import PayeeValidation

# A validation still ACCEPTED and never sent this long after intake (its message was lost): queued again.
ACCEPTED_GRACE = timedelta(minutes=15)
# Accepted by Paytm (DE_002) and no callback yet: the sweep asks the status query.
ACCEPTED_FIRST_CHECK = timedelta(minutes=2)
ACCEPTED_RECHECK = timedelta(minutes=5)
# An answer the worker could not read (ambiguous, no status either): the sweep asks after this.
UNKNOWN_OUTCOME_FIRST_CHECK = timedelta(minutes=1)
# A penny drop settles in seconds; Paytm holds a validation (DE_101, DE_0618 approver) for hours.
VALIDATION_CHECK_AGES: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
# Still not final this long: NEEDS_REVIEW (a merchant waiting to pay wants a human on it).
VALIDATION_DEADLINE = VALIDATION_CHECK_AGES[-1]
REVIEW_CHECK_INTERVAL = timedelta(days=1)
CONFIGURATION_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class Decision:
    target: ValidationStatus  # ACCEPTED: stay, Paytm took it and the result comes later
    reason: str
    # Paytm's last word on another record: nothing more to ask, only a human.
    final_answer: bool = False


def said(answer: PayoutsAnswer) -> str:
    return f"{answer.status or 'no status'} {answer.code or 'no code'}: {answer.message or 'no message'}"


def record_mismatch(validation: PayeeValidation, answer: PayoutsAnswer, mid: str | None) -> str | None:
    """Why Paytm's record is not this validation's; None when orderId, phone and MID match (phone
    and MID where the record carries them)."""
    if answer.order_id != validation.validation_id:
        return f"Paytm's record is for orderId {answer.order_id!r}"
    if answer.phone is not None and answer.phone != validation.phone:
        return "Paytm's record is for another phone"
    if answer.mid is not None and mid is not None and answer.mid != mid:
        return "Paytm's record is for another MID"
    return None


def _final(answer: PayoutsAnswer, prefix: str) -> Decision:
    if (answer.code or "").strip().upper() in PAYEE_INVALID_CODES:
        return Decision(ValidationStatus.INVALID, f"{prefix}the wallet cannot take money ({said(answer)})")
    return Decision(ValidationStatus.FAILED, f"{prefix}Paytm refused the validation ({said(answer)})")


def decide(
    validation: PayeeValidation, answer: PayoutsAnswer, *, status_answer: bool, mid: str | None = None
) -> Decision | None:
    """The module's tables: what this answer does to the validation as it stands; None: nothing."""
    status = validation.status
    code = (answer.code or "").strip().upper()
    if not status_answer:
        if answer.outcome is Outcome.PENDING:
            if code in ACCEPTED_CODES:
                return Decision(ValidationStatus.ACCEPTED, f"accepted by Paytm ({said(answer)})")
            return Decision(ValidationStatus.PENDING, f"pending at Paytm ({said(answer)})")
        if answer.outcome in (Outcome.FINAL_FAILURE, Outcome.INVALID_REQUEST):
            return _final(answer, "")
        return None
    if answer.outcome not in (
        Outcome.SUCCESS,
        Outcome.PENDING,
        Outcome.FINAL_FAILURE,
        Outcome.INVALID_REQUEST,
    ):
        return None
    if not answer.has_record:
        return None
    mismatch = record_mismatch(validation, answer, mid)
    if mismatch is not None:
        if status is ValidationStatus.NEEDS_REVIEW:
            return None
        reason = f"status answer does not match the validation: {mismatch} ({said(answer)})"
        return Decision(ValidationStatus.NEEDS_REVIEW, reason, final_answer=True)
    if answer.outcome is Outcome.PENDING:
        if code in ACCEPTED_CODES or status is not ValidationStatus.ACCEPTED:
            return None
        return Decision(ValidationStatus.PENDING, f"pending at Paytm ({said(answer)})")
    after = "after review: " if status is ValidationStatus.NEEDS_REVIEW else ""
    if answer.outcome is Outcome.SUCCESS:
        return Decision(ValidationStatus.VALID, f"{after}the wallet took the penny ({said(answer)})")
    return _final(answer, after)
