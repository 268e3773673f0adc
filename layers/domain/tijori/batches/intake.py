"""Batch intake: each valid row taken in exactly as `POST /v1/payouts` takes a payout
(payouts.intake.submit_payout: payee validation, one payout per order id, replay or conflict),
many at once, then queued in batches.

A batch is its rows' payouts, each marked with the batch id (the `ByBatch` index lists them): there
is no batch item to keep in step, and no row list to outgrow DynamoDB's 400 KB item. Submitting
the same batch again accepts nothing twice: a row whose order id is stored in this batch with the
same body is that payout (queued again if still ACCEPTED, as a replay of POST /v1/payouts is); with
another body it is rejected as a conflict; an order id stored outside this batch is rejected too.
A batch id given to a second file takes that file's new rows into the same batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tijori.batches.rows import BatchRow, ReadBatch, RejectedRow, RowProblem
from tijori.payouts.intake import (
    PayeeNotValidatedError,
    PayeeValidationLookup,
    PayoutConflictError,
    PayoutInAnotherBatchError,
    submit_payout,
)
from tijori.payouts.models import Payout, PrepaidLoadOptions
from tijori.payouts.ports import PayoutRepository

# Order ids handed to one dispatch_many call: a few SQS batches per task of the pool.
DISPATCH_SLICE = 100


class BatchDispatcher(Protocol):
    def dispatch_many(self, order_ids: Sequence[str]) -> list[str]:
        """Queue these payouts for the payout function; the order ids the queue did not take."""


class _Collected:
    """submit_payout's dispatcher for a batch: remembers what to queue, queued after the writes."""

    def __init__(self) -> None:
        self.order_ids: list[str] = []
        self._lock = threading.Lock()

    def dispatch(self, order_id: str) -> None:
        with self._lock:
            self.order_ids.append(order_id)


@dataclass(frozen=True)
class AcceptedRow:
    line: int
    payout: Payout
    created: bool


@dataclass(frozen=True)
class BatchIntakeResult:
    batch_id: str
    accepted: list[AcceptedRow]
    rejected: list[RejectedRow]
    not_queued: int  # stored ACCEPTED, queued later by the sweep (PayoutQueue refused them now)

    @property
    def created(self) -> int:
        return sum(1 for row in self.accepted if row.created)

    def view(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "rows": len(self.accepted) + len(self.rejected),
            "accepted": {
                "count": len(self.accepted),
                "new": self.created,
                "order_ids": [row.payout.order_id for row in self.accepted],
            },
            "rejected": {"count": len(self.rejected), "rows": [row.view() for row in self.rejected]},
        }


def _rejection(line: int, error: Exception) -> RejectedRow:
    if isinstance(error, PayoutConflictError):
        problem = RowProblem("order_id", str(error), "order_id_conflict")
        return RejectedRow(line, error.order_id, (problem,))
    if isinstance(error, PayeeNotValidatedError):
        return RejectedRow(
            line, error.order_id, (RowProblem("payee_validation_id", str(error), error.reason),)
        )
    if isinstance(error, PayoutInAnotherBatchError):
        return RejectedRow(
            line, error.order_id, (RowProblem("order_id", str(error), "order_id_in_another_batch"),)
        )
    raise error


def _slices(order_ids: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(order_ids), size):
        yield order_ids[start : start + size]


def submit_batch(
    batch_id: str,
    read: ReadBatch,
    *,
    repository: Callable[[], PayoutRepository],
    validations: PayeeValidationLookup,
    dispatcher: BatchDispatcher,
    pool: Executor,
    now: datetime,
    prepaid_defaults: PrepaidLoadOptions,
) -> BatchIntakeResult:
    """Take in every valid row of `read` on `pool`'s threads, then queue the new ones.

    `repository` gives the calling thread's own (boto3 resources are not shared between threads),
    and `validations` must be safe to call from any of them. An AWS error on any row is raised:
    nothing is promised, and the merchant's resubmission of the same batch completes it (rows
    already stored are replays).
    """
    collected = _Collected()

    def take_in(row: BatchRow) -> AcceptedRow | RejectedRow:
        try:
            result = submit_payout(
                row.request,
                repository=repository(),
                dispatcher=collected,
                now=now,
                prepaid_defaults=prepaid_defaults,
                validations=validations,
                batch_id=batch_id,
            )
        except (PayoutConflictError, PayeeNotValidatedError, PayoutInAnotherBatchError) as error:
            return _rejection(row.line, error)
        return AcceptedRow(row.line, result.payout, result.created)

    accepted: list[AcceptedRow] = []
    rejected = list(read.rejected)
    for outcome in pool.map(take_in, read.rows):
        if isinstance(outcome, AcceptedRow):
            accepted.append(outcome)
        else:
            rejected.append(outcome)
    rejected.sort(key=lambda row: row.line)
    # A payout stored ACCEPTED and not queued is not lost: the sweep queues it after intake's grace.
    not_queued = sum(
        len(refused)
        for refused in pool.map(dispatcher.dispatch_many, _slices(collected.order_ids, DISPATCH_SLICE))
    )
    return BatchIntakeResult(batch_id, accepted, rejected, not_queued)
