"""Batch intake (tijori.batches.intake) over the in-memory repository, and a batch's progress
(tijori.batches.progress): each answer also read with its documented model."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fakes import InMemoryPayoutRepository
from tijori.batches.intake import BatchIntakeResult, submit_batch
from tijori.batches.progress import BatchMember, batch_progress
from tijori.batches.responses import BatchAccepted, BatchProgressView
from tijori.batches.rows import read_csv_batch
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import PrepaidLoadOptions

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DEFAULTS = PrepaidLoadOptions(
    source_type=0, sender="TIJORI", fund_flow_type="I", impl_id="I|70130", impl_type="P2M_A2W_I", fee="0.00"
)
FILE = "order_id,amount,phone\nB-1,10.50,9876543210\nB-2,0.50,9876543211\nB-3,25.00,9876543212\n"


class QueueRefusing:
    """BatchDispatcher whose queue refuses the order ids in `refused`."""

    def __init__(self, refused: frozenset[str] = frozenset()) -> None:
        self.refused = refused
        self.queued: list[str] = []

    def dispatch_many(self, order_ids: Sequence[str]) -> list[str]:
        self.queued += [order_id for order_id in order_ids if order_id not in self.refused]
        return [order_id for order_id in order_ids if order_id in self.refused]


class NoValidations:
    def get(self, validation_id: str) -> None:
        return None


def _submit(
    repository: InMemoryPayoutRepository, text: str, queue: QueueRefusing | None = None
) -> BatchIntakeResult:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return submit_batch(
            "BATCH-1",
            read_csv_batch(text),
            repository=lambda: repository,
            validations=NoValidations(),
            dispatcher=queue or QueueRefusing(),
            pool=pool,
            now=NOW,
            prepaid_defaults=DEFAULTS,
        )


def test_valid_rows_are_stored_with_the_batch_id_and_queued_and_the_answer_is_as_documented() -> None:
    repository, queue = InMemoryPayoutRepository(), QueueRefusing()
    result = _submit(repository, FILE, queue=queue)
    view = result.view()
    BatchAccepted.model_validate(view)
    assert view["accepted"] == {"count": 2, "new": 2, "order_ids": ["B-1", "B-3"]}
    assert [row["line"] for row in view["rejected"]["rows"]] == [3]
    assert {order_id: payout.batch_id for order_id, payout in repository.items.items()} == {
        "B-1": "BATCH-1",
        "B-3": "BATCH-1",
    }
    assert sorted(queue.queued) == ["B-1", "B-3"]


def test_a_payout_the_queue_refused_is_counted_and_stays_accepted_for_the_sweep() -> None:
    repository = InMemoryPayoutRepository()
    result = _submit(repository, FILE, queue=QueueRefusing(frozenset({"B-3"})))
    assert result.not_queued == 1
    assert repository.items["B-3"].status is PayoutStatus.ACCEPTED


def test_the_same_file_again_stores_nothing_new() -> None:
    repository = InMemoryPayoutRepository()
    _submit(repository, FILE)
    again = _submit(repository, FILE)
    assert (again.created, [row.payout.order_id for row in again.accepted]) == (0, ["B-1", "B-3"])
    assert len(repository.items) == 2


MEMBERS = [
    BatchMember("B-1", PayoutStatus.SUCCESS, Decimal("10.50"), paytm_txn_id="T1"),
    BatchMember("B-2", PayoutStatus.SUCCESS, Decimal("0.10") + Decimal("0.20") + Decimal("1.00")),
    BatchMember("B-3", PayoutStatus.PENDING, Decimal("25.00")),
    BatchMember("B-4", PayoutStatus.NEEDS_REVIEW, Decimal("3.00")),
    BatchMember("B-5", PayoutStatus.FAILED, Decimal("7.25"), last_status_code="STUC_1002"),
]


@pytest.mark.parametrize(
    ("members", "complete", "open_ids", "success_amount"),
    [
        (MEMBERS, False, ["B-3", "B-4"], "11.80"),
        ([m for m in MEMBERS if m.status in {PayoutStatus.SUCCESS, PayoutStatus.FAILED}], True, [], "11.80"),
        # NEEDS_REVIEW is not final: the batch is not complete while one waits for a person.
        ([MEMBERS[3]], False, ["B-4"], "0.00"),
    ],
)
def test_progress_counts_and_sums_exactly_and_is_complete_only_when_every_payout_is_final(
    members: list[BatchMember], complete: bool, open_ids: list[str], success_amount: str
) -> None:
    view = batch_progress("BATCH-1", members, with_rows=True)
    BatchProgressView.model_validate(view)
    assert (view["complete"], view["open_order_ids"]) == (complete, open_ids)
    assert view["amount_by_status"]["SUCCESS"] == success_amount
    assert sum(view["count_by_status"].values()) == len(members)
    assert set(view["count_by_status"]) == {status.value for status in PayoutStatus}
    assert len(view["payouts_detail"]) == len(members)


def test_progress_total_is_the_exact_sum_of_every_status() -> None:
    view = batch_progress("BATCH-1", MEMBERS, with_rows=False)
    assert view["total_amount"] == "47.05"
    assert "payouts_detail" not in view
