"""How often pending payouts are checked, and how late a resolution is seen.

The real decision code (`PayoutSettler.run_scheduled_checks`, the pending-checks run's task) runs
once per simulated minute, as the schedule does in AWS, over an in-memory table (the fakes the
unit tests use, with the DynamoDB adapter's rules) and a Paytm stand-in whose answer for each
order changes at its resolution time. Nothing is timed: the figures are counts and simulated
times, so they do not depend on the machine.

Populations of 1,000 pending payouts each:
- resolving at uniformly random times within 5 days (the pipeline issue's figures):
  `polling.checks_per_pending`, `polling.naive_checks` (a fixed 5-minute poll until the same
  resolution), `polling.delay_p95_ratio`;
- resolving at times spread log-uniformly from 1 minute to 5 days (the cost issue's figure):
  `polling.detection_delay_p95_ratio` = (when Tijori saw it - when Paytm resolved it) / (when Paytm
  resolved it - the first send), 95th percentile;
- never resolving (rolled back by Paytm when the 5-day window closes):
  `polling.checks_per_pending_payout` = the checks over the full window, to the final status.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import random
import statistics
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from tests.fakes import Clock, InMemoryPayoutRepository, RecordingDispatcher
from tijori.payouts.lifecycle import PayoutStatus, is_final
from tijori.payouts.models import Payout, PayoutRequest
from tijori.payouts.settlement import CallBudget, PayoutSettler
from tijori.paytm.wallet_codes import WalletOutcome
from tijori.paytm.wallet_mapping import TxnStatus, WalletAnswer

POPULATION = 1_000
WINDOW = timedelta(days=5)
RUN_EVERY = timedelta(minutes=1)
NAIVE_POLL = timedelta(minutes=5)
SEED = 20261201


class IndexedRepository(InMemoryPayoutRepository):
    """The in-memory table with its pending part kept sorted, so a run's range queries over a
    few thousand pending payouts stay cheap (what the DynamoDB index does)."""

    def __init__(self) -> None:
        super().__init__()
        self._sorted: list[tuple[int, str]] | None = None

    def pending_since_within(
        self, windows: Sequence[tuple[datetime, datetime]], *, page_size: int
    ) -> Iterator[Sequence[str]]:
        with self._lock:
            snapshot = sorted((since, order_id) for order_id, since in self.pending_since.items())
        for after, up_to in windows:
            low, high = int(after.timestamp()) + 1, int(up_to.timestamp())
            start = bisect.bisect_left(snapshot, (low, ""))
            end = bisect.bisect_right(snapshot, (high, "\uffff"))
            found = [order_id for _, order_id in snapshot[start:end]]
            for first in range(0, len(found), page_size):
                yield found[first : first + page_size]


class TimedPaytm:
    """Paytm's checkStatus for orders that resolve at set times (None: rolled back when the
    window closes); every status call counted."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.resolves_at: dict[str, datetime | None] = {}
        self.sent_at: dict[str, datetime] = {}
        self.amounts: dict[str, Decimal] = {}
        self.status_calls: Counter[str] = Counter()

    async def credit(self, payout: Payout, *, verify_only: bool, timeout: float) -> WalletAnswer:
        raise AssertionError("no credit is sent in this bench: the payouts start pending")

    async def check_status(self, order_id: str, *, timeout: float) -> WalletAnswer:
        self.status_calls[order_id] += 1
        now, resolves_at = self._clock(), self.resolves_at[order_id]
        if resolves_at is not None and now >= resolves_at:
            status, message = TxnStatus.SUCCESS, "SUCCESS"
        elif resolves_at is None and now >= self.sent_at[order_id] + WINDOW:
            status, message = TxnStatus.FAILURE, "REFUNDED_BACK"
        else:
            status, message = TxnStatus.PENDING, "PENDING"
        outcome = {
            TxnStatus.SUCCESS: WalletOutcome.SUCCESS,
            TxnStatus.FAILURE: WalletOutcome.FINAL_FAILURE,
            TxnStatus.PENDING: WalletOutcome.PENDING,
        }[status]
        return WalletAnswer(
            outcome,
            "SS_001",
            message,
            wallet_txn_id=f"T-{order_id}",
            txn_status=status,
            refunded_back=message == "REFUNDED_BACK",
            txn_amount=self.amounts[order_id],
        )


def _pending_payout(repository: IndexedRepository, order_id: str, sent: datetime) -> Payout:
    request = PayoutRequest.model_validate(
        {"order_id": order_id, "amount": "25.00", "payee": {"phone": "9876543210"}, "mode": "any_user"}
    )
    repository.create(Payout.accept(request, sent), first_check_at=sent + timedelta(minutes=15))
    repository.transition(
        order_id,
        expected=PayoutStatus.ACCEPTED,
        target=PayoutStatus.PROCESSING,
        at=sent,
        reason="claimed",
        next_check_at=sent + timedelta(minutes=15),
        first_send_at=sent,
    )
    return repository.transition(
        order_id,
        expected=PayoutStatus.PROCESSING,
        target=PayoutStatus.PENDING,
        at=sent,
        reason="pending at Paytm",
        next_check_at=None,
        pending_since=sent,
    )


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


async def _simulate(
    resolution_ages: dict[str, timedelta | None],
) -> tuple[dict[str, int], dict[str, datetime], dict[str, datetime]]:
    """Run the scheduled checks every minute until every payout is final; (status calls per
    order, when each was first sent, when each became final)."""
    clock = Clock()
    repository = IndexedRepository()
    paytm = TimedPaytm(clock)
    settler = PayoutSettler(
        repository=repository,
        wallet=paytm,
        dispatcher=RecordingDispatcher(),
        clock=clock,
        wall_clock=clock.wall,
        check_delay_seconds=0,
    )
    start = clock()
    for index, (order_id, age) in enumerate(resolution_ages.items()):
        sent = start + timedelta(seconds=index % 60)  # sends spread over the first minute
        _pending_payout(repository, order_id, sent)
        paytm.sent_at[order_id] = sent
        paytm.amounts[order_id] = Decimal("25.00")
        paytm.resolves_at[order_id] = None if age is None else sent + age
    final_at: dict[str, datetime] = {}
    budget = CallBudget(lambda: 900.0)
    while len(final_at) < len(resolution_ages) and clock() - start < WINDOW + timedelta(days=2):
        clock.advance(seconds=RUN_EVERY.total_seconds())
        await settler.run_scheduled_checks(page_size=100, budget=budget)
        for order_id in resolution_ages.keys() - final_at.keys():
            payout = repository.items[order_id]
            if is_final(payout.status):
                final_at[order_id] = payout.updated_at
    return dict(paytm.status_calls), paytm.sent_at, final_at


def run() -> dict[str, float]:
    rng = random.Random(SEED)
    window_minutes = WINDOW.total_seconds() / 60
    uniform = {f"U-{n:04d}": timedelta(minutes=rng.uniform(1, window_minutes)) for n in range(POPULATION)}
    spread = {
        f"L-{n:04d}": timedelta(minutes=math.exp(rng.uniform(0, math.log(window_minutes))))
        for n in range(POPULATION)
    }
    never: dict[str, timedelta | None] = {f"N-{n:04d}": None for n in range(POPULATION)}
    population: dict[str, timedelta | None] = {**uniform, **spread, **never}
    calls, sent_at, final_at = asyncio.run(_simulate(population))
    unfinished = set(population) - set(final_at)
    if unfinished:
        raise RuntimeError(f"{len(unfinished)} payouts never became final: the figures would be a lie")

    def delay_ratios(ages: dict[str, timedelta]) -> list[float]:
        # (seen - resolved) / (resolved - first send), all measured from the first send.
        return [((final_at[order_id] - sent_at[order_id]) - age) / age for order_id, age in ages.items()]

    uniform_checks = [calls[o] for o in uniform]
    naive = [math.ceil(age / NAIVE_POLL) for age in uniform.values()]
    spread_ratios = delay_ratios(spread)
    return {
        "polling.population": float(len(population)),
        "polling.checks_per_pending": round(statistics.mean(uniform_checks), 2),
        "polling.checks_per_pending_max": float(max(uniform_checks)),
        "polling.naive_checks": round(statistics.mean(naive), 1),
        "polling.delay_p95_ratio": round(_percentile(delay_ratios(uniform), 0.95), 3),
        "polling.detection_delay_p95_ratio": round(_percentile(spread_ratios, 0.95), 3),
        "polling.detection_delay_p50_ratio": round(_percentile(spread_ratios, 0.50), 3),
        "polling.checks_per_pending_payout": float(max(calls[o] for o in never)),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
