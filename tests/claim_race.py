"""Many deliveries claiming one payout at once, against a real DynamoDB adapter: exactly one wins."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest
from tijori.payouts.ports import StaleTransitionError


def assert_concurrent_claims_let_exactly_one_through(
    repository: DynamoDbPayoutRepository, *, prefix: str, payouts: int, claimants: int = 8
) -> None:
    """For each of `payouts` new payouts, `claimants` threads claim it (ACCEPTED -> PROCESSING,
    counting an attempt) at once: one claim passes, and the payout records one attempt."""
    now = datetime.now(UTC)
    for index in range(payouts):
        order_id = f"{prefix}-{index}"
        request = PayoutRequest.model_validate(
            {"order_id": order_id, "amount": "1.00", "payee": {"phone": "9876543210"}}
        )
        repository.create(Payout.accept(request, now), first_check_at=now + timedelta(minutes=15))

        def claim(_: int, order_id: str = order_id) -> bool:
            try:
                repository.transition(
                    order_id,
                    expected=PayoutStatus.ACCEPTED,
                    target=PayoutStatus.PROCESSING,
                    at=now,
                    reason="race",
                    next_check_at=now,
                    count_attempt=True,
                )
                return True
            except StaleTransitionError:
                return False

        with ThreadPoolExecutor(max_workers=claimants) as pool:
            assert sum(pool.map(claim, range(claimants))) == 1
        stored = repository.get(order_id)
        assert stored is not None
        assert stored.attempts == 1
