"""What the payout-batch routes answer, as models for the OpenAPI document (the handlers answer
the dicts of BatchIntakeResult.view and progress.batch_progress; a test checks one against the
other)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tijori.payouts.lifecycle import PayoutStatus


class _Described(BaseModel):
    model_config = ConfigDict(defer_build=True)


class RowError(_Described):
    field: str = Field(
        description="the CSV column (`phone`, `amount`, ...) or, in a JSON row, the dotted path"
    )
    reason: str
    type: str = Field(
        description="a stable name of the reason: the model's (`string_pattern_mismatch`, `missing`,"
        " ...), or `order_id_conflict`, `order_id_in_another_batch`, `order_id_repeated`,"
        " `csv_cell_count`, or a payee validation's refusal (`validation_not_valid`, ...)"
    )


class RejectedRowView(_Described):
    line: int = Field(
        description="the CSV line the row starts on (the header is line 1), or the JSON array position from 1"
    )
    order_id: str | None
    errors: list[RowError]


class AcceptedRows(_Described):
    count: int
    new: int = Field(description="rows stored by this request; the others were in this batch already")
    order_ids: list[str]


class RejectedRows(_Described):
    count: int
    rows: list[RejectedRowView]


class BatchAccepted(_Described):
    """202: every row accepted or rejected, on its own."""

    model_config = ConfigDict(
        defer_build=True,
        json_schema_extra={
            "examples": [
                {
                    "batch_id": "cashback-2026-12-01",
                    "rows": 3,
                    "accepted": {"count": 2, "new": 2, "order_ids": ["CB-1001", "CB-1002"]},
                    "rejected": {
                        "count": 1,
                        "rows": [
                            {
                                "line": 4,
                                "order_id": "CB-1003",
                                "errors": [
                                    {
                                        "field": "amount",
                                        "reason": "Value error, must be at least 1.00",
                                        "type": "value_error",
                                    }
                                ],
                            }
                        ],
                    },
                }
            ]
        },
    )

    batch_id: str
    rows: int
    accepted: AcceptedRows
    rejected: RejectedRows


class BatchPayoutView(_Described):
    order_id: str
    status: PayoutStatus
    amount: str
    paytm_txn_id: str | None
    last_status_code: str | None
    last_status_message: str | None


class BatchProgressView(_Described):
    """A batch's payouts by status; `complete` once every one is final."""

    model_config = ConfigDict(
        defer_build=True,
        json_schema_extra={
            "examples": [
                {
                    "batch_id": "cashback-2026-12-01",
                    "payouts": 2,
                    "complete": False,
                    "count_by_status": {
                        "ACCEPTED": 0,
                        "PROCESSING": 0,
                        "PENDING": 1,
                        "SUCCESS": 1,
                        "FAILED": 0,
                        "REVERSED": 0,
                        "NEEDS_REVIEW": 0,
                    },
                    "amount_by_status": {
                        "ACCEPTED": "0.00",
                        "PROCESSING": "0.00",
                        "PENDING": "25.00",
                        "SUCCESS": "10.50",
                        "FAILED": "0.00",
                        "REVERSED": "0.00",
                        "NEEDS_REVIEW": "0.00",
                    },
                    "total_amount": "35.50",
                    "open_order_ids": ["CB-1002"],
                }
            ]
        },
    )

    batch_id: str
    payouts: int = Field(description="payouts taken in under this batch id, by every submission of it")
    complete: bool = Field(description="every payout of the batch is in a final status")
    count_by_status: dict[str, int]
    amount_by_status: dict[str, str] = Field(description="INR per status, exact, 2 decimals")
    total_amount: str
    open_order_ids: list[str] = Field(description="payouts not final yet")
    payouts_detail: list[BatchPayoutView] | None = Field(
        default=None, description="with `?detail=true`: each payout's status, Paytm's id and last code"
    )
