"""A batch's progress (`GET /v1/payout-batches/{batch_id}`): its payouts counted and summed by
status, the order ids still open, and `complete` once every one is final."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from tijori.payouts.lifecycle import PayoutStatus, is_final


@dataclass(frozen=True)
class BatchMember:
    """What the batch index holds of one payout of a batch."""

    order_id: str
    status: PayoutStatus
    amount: Decimal
    paytm_txn_id: str | None = None
    last_status_code: str | None = None
    last_status_message: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "status": self.status.value,
            "amount": f"{self.amount:.2f}",
            "paytm_txn_id": self.paytm_txn_id,
            "last_status_code": self.last_status_code,
            "last_status_message": self.last_status_message,
        }


class BatchMembers(Protocol):
    def members_of_batch(self, batch_id: str) -> list[BatchMember]:
        """Every payout stored with this batch id, in order id order."""


def batch_progress(batch_id: str, members: Sequence[BatchMember], *, with_rows: bool) -> dict[str, Any]:
    """The batch resource; every status is named, with 0 and "0.00" where it has no payout."""
    counts = dict.fromkeys(PayoutStatus, 0)
    amounts = dict.fromkeys(PayoutStatus, Decimal("0.00"))
    for member in members:
        counts[member.status] += 1
        amounts[member.status] += member.amount
    still_open = [member.order_id for member in members if not is_final(member.status)]
    view: dict[str, Any] = {
        "batch_id": batch_id,
        "payouts": len(members),
        "complete": not still_open,
        "count_by_status": {status.value: count for status, count in counts.items()},
        "amount_by_status": {status.value: f"{amount:.2f}" for status, amount in amounts.items()},
        "total_amount": f"{sum(amounts.values(), Decimal('0.00')):.2f}",
        "open_order_ids": still_open,
    }
    if with_rows:
        view["payouts_detail"] = [member.view() for member in members]
    return view
