"""What the merchant API answers, as models: the OpenAPI document is generated from these.

`Payout.public_view()` builds the payout resource; `PayoutView` describes it (a test checks the
one against the other), open to fields added later. Every refusal is a `Problem`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import PayoutMode, PayoutRail


class _Described(BaseModel):
    # Only the OpenAPI document reads these (the handlers answer dicts): their schemas are built
    # when it is first generated, not at every cold start.
    model_config = ConfigDict(defer_build=True)


class ProblemDetail(_Described):
    field: str = Field(description="the field or key refused, dotted inside the body; `body` for the body")
    loc: list[str | int] = Field(description="where: `body`, `path`, ... then the path inside it")
    msg: str = Field(description="why, in words")
    type: str = Field(
        description="a stable name of the reason, e.g. `json_duplicate_key`, `string_pattern_mismatch`"
    )


class Problem(_Described):
    """Every answer that is not the resource: the status again, a message, what was refused."""

    statusCode: int  # noqa: N815 - the name the merchant reads
    message: str
    detail: list[ProblemDetail] = Field(default_factory=list, description="one entry per problem found")


class PayoutConflictProblem(Problem):
    """409: the order id exists with another request body, or the payee validation the payout
    names does not vouch for its payee."""

    order_id: str
    conflicting_fields: list[str] = Field(
        default_factory=list, description="the fields whose values differ from the stored request"
    )
    payee_validation_id: str | None = Field(default=None, description="the validation that refused it")
    reason: str | None = Field(
        default=None,
        description="why the validation refused it: `unknown_validation`, `validation_not_valid`, "
        "`validation_for_another_phone`, `payee_not_a_phone`",
    )


class GatewayRefusal(_Described):
    """Answered by API Gateway itself, before the function runs (IAM signature, 10 MB payload)."""

    message: str


class TransitionView(_Described):
    from_: PayoutStatus | None = Field(alias="from")
    to: PayoutStatus
    at: str = Field(description="ISO-8601 UTC")
    reason: str


class PayoutView(_Described):
    """The payout as the merchant sees it: payee masked, money as a decimal string."""

    # Open: fields added to the resource later do not break a client that validates with this.
    model_config = ConfigDict(extra="allow")

    order_id: str
    rail: PayoutRail = Field(description="`wallet` (seed 000) or `prepaid` (seed 003)")
    status: PayoutStatus
    amount: str = Field(pattern=r"^[1-9][0-9]{0,9}\.[0-9]{2}$", description="INR, always 2 decimals")
    currency: str
    payee: dict[str, str] = Field(
        description='the payee identifiers, masked, e.g. {"phone": "********10"} or, prepaid, '
        '{"urn": "*******0008", "subwallet_id": "MOB5378a27c_1"}'
    )
    mode: PayoutMode | None = Field(description="the wallet rail's mode; null for a prepaid load")
    pending_days_limit: int | None
    narration: str | None
    metadata: dict[str, str]
    paytm_txn_id: str | None
    last_status_code: str | None
    last_status_message: str | None
    attempts: int
    status_checks: int
    created_at: str = Field(description="ISO-8601 UTC")
    updated_at: str = Field(description="ISO-8601 UTC")
    history: list[TransitionView]
