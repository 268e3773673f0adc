"""What the payee validations API answers, as models for the OpenAPI document (the handlers answer
the dicts of `PayeeValidation.public_view`; a test checks the one against the other)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tijori.payouts.responses import Problem
from tijori.validations.lifecycle import ValidationStatus


class _View(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")


class ValidationStepView(_View):
    from_: str | None = Field(alias="from")
    to: str
    at: str = Field(description="ISO-8601 UTC")
    reason: str


class ValidationView(_View):
    validation_id: str
    status: ValidationStatus = Field(
        description=(
            "ACCEPTED (queued, or accepted by Paytm with DE_002: the result is awaited), PENDING "
            "(DE_101 / DE_0618), VALID (the wallet took the penny), INVALID (the wallet cannot take "
            "money: DE_1222, DE_1223, DE_702, DE_703), FAILED (Paytm refused the request; nothing "
            "moved), NEEDS_REVIEW (Paytm's record does not match, or no final answer in 24 h)"
        )
    )
    phone: str = Field(description="masked: the last 2 digits")
    paytm_code: str | None = Field(description="Paytm's last code (seed 001 DE_...)")
    paytm_message: str | None = Field(description="what the code means, as seed 001 gives it")
    reason: str | None = Field(description="why the validation is in its status")
    penny_amount: str | None = Field(
        pattern=r"^[0-9]{1,10}\.[0-9]{2}$", description="the penny Paytm's record shows moved (INR)"
    )
    paytm_order_id: str | None = Field(description="Paytm's paytmOrderId")
    attempts: int
    status_checks: int
    first_sent_at: str | None = Field(description="when a validate call first may have reached Paytm")
    created_at: str
    updated_at: str
    history: list[ValidationStepView]


class ValidationConflictProblem(Problem):
    """409: the validation_id exists with another body (its fields named)."""

    validation_id: str | None = None
    conflicting_fields: list[str] = Field(default_factory=list, description="the fields that differ")
