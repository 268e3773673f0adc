"""A reconciliation run with in-memory ports (tijori/reconciliation/run.py): bounded concurrency,
the calls-per-second cap (a fake clock, no timing), pages and the cursor, prepaid loads never
asked, the scheduled window, read-only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tijori.lifecycle.scheduled import CallBudget
from tijori.payouts.ports import NoMetrics
from tijori.reconciliation.ports import RunRecord, RunState, RunTrigger, StoredFinding
from tijori.reconciliation.rules import ItemOnRecord, PaytmRecord, PaytmState, ReconciledKind, Verdict
from tijori.reconciliation.run import DEFAULT_WINDOW, SCHEDULED_LAG, CallPacer, Reconciler

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def payout(n: int, *, prepaid: bool = False, status: str = "SUCCESS") -> ItemOnRecord:
    return ItemOnRecord(
        kind=ReconciledKind.PAYOUTS,
        item_id=f"PO-{n}",
        status=status,
        amount=Decimal("10.00"),
        created_at=NOW - timedelta(hours=1),
        order_id=f"PO-{n}",
        has_status_api=not prepaid,
    )


@dataclass
class MemoryWindow:
    items: list[ItemOnRecord]
    pages_read: list[str | None] = field(default_factory=list)

    def page(
        self, kind: ReconciledKind, *, since: datetime, until: datetime, cursor: str | None, page_size: int
    ) -> tuple[Sequence[ItemOnRecord], str | None]:
        self.pages_read.append(cursor)
        start = int(cursor or 0)
        mine = [item for item in self.items if item.kind is kind]
        end = start + page_size
        return mine[start:end], (str(end) if end < len(mine) else None)


@dataclass
class MemoryStore:
    runs: dict[str, RunRecord] = field(default_factory=dict)
    findings: list[StoredFinding] = field(default_factory=list)
    window_end: datetime | None = None

    def create_run(self, run: RunRecord) -> None:
        self.runs[run.run_id] = run

    def get_run(self, run_id: str) -> RunRecord | None:
        return self.runs.get(run_id)

    def save_progress(self, run: RunRecord) -> None:
        self.runs[run.run_id] = run

    def add_findings(self, run_id: str, findings: Sequence[StoredFinding]) -> None:
        self.findings += findings

    def claim_scheduled_window(self, *, until: datetime) -> datetime | None:
        previous, self.window_end = self.window_end, until
        return previous


@dataclass
class CountingAsker:
    """Paytm says PAID for every order but those in `not_paid`; counts calls and the most at once."""

    not_paid: frozenset[str] = frozenset()
    asked: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_at_once: int = 0
    # Hold the calls "at Paytm" until this many are in flight at once (0: no hold), so a test of
    # the concurrency bound does not rest on how fast the paced calls happen to start.
    hold_until: int = 0
    _all_in: asyncio.Event = field(default_factory=asyncio.Event)

    async def ask(self, item: ItemOnRecord, *, timeout: float) -> PaytmRecord:
        self.asked.append(item.item_id)
        self.in_flight += 1
        self.most_at_once = max(self.most_at_once, self.in_flight)
        if self.hold_until and self.in_flight >= self.hold_until:
            self._all_in.set()
        if self.hold_until:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._all_in.wait(), 5.0)
        await asyncio.sleep(0)  # let the others start while this one is "at Paytm"
        await asyncio.sleep(0)
        self.in_flight -= 1
        state = PaytmState.NOT_PAID if item.item_id in self.not_paid else PaytmState.PAID
        return PaytmRecord(state, item.amount)


def reconciler(
    store: MemoryStore, window: MemoryWindow, asker: CountingAsker, **settings: float
) -> Reconciler:
    return Reconciler(
        store=store,
        window=window,
        askers={ReconciledKind.PAYOUTS: asker},
        clock=lambda: NOW,
        metrics=NoMetrics(),
        concurrency=int(settings.get("concurrency", 8)),
        rate_per_second=settings.get("rate", 1000.0),
        page_size=int(settings.get("page_size", 100)),
    )


def plenty() -> CallBudget:
    return CallBudget(lambda: 30.0)


def test_no_more_status_calls_run_at_once_than_the_concurrency_setting() -> None:
    asker = CountingAsker(hold_until=3)
    store, window = MemoryStore(), MemoryWindow([payout(n) for n in range(40)])
    runner = reconciler(store, window, asker, concurrency=3)
    run = runner.start(kind="payouts", since=None, trigger=RunTrigger.OPERATOR)
    asyncio.run(runner.advance(run, plenty()))
    assert asker.most_at_once == 3
    assert sorted(asker.asked) == sorted(f"PO-{n}" for n in range(40))


def test_the_pacer_starts_no_more_calls_a_second_than_its_rate() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    pacer = CallPacer(4, clock=lambda: now[0], sleep=sleep)

    async def five_turns() -> None:
        for _ in range(5):
            await pacer.wait_turn()

    asyncio.run(five_turns())
    # The clock never moves here: the first call starts now, each next waits its quarter second more.
    assert slept == [0.25, 0.5, 0.75, 1.0]


def test_a_run_pages_through_the_window_asks_each_item_once_and_stores_only_what_is_not_a_match() -> None:
    asker = CountingAsker(not_paid=frozenset({"PO-3"}))
    items = [payout(n) for n in range(5)] + [payout(9, prepaid=True)]
    store, window = MemoryStore(), MemoryWindow(items)
    runner = reconciler(store, window, asker, page_size=2)
    run = asyncio.run(
        runner.advance(runner.start(kind="all", since=None, trigger=RunTrigger.OPERATOR), plenty())
    )
    assert run.state is RunState.FINISHED
    assert window.pages_read == [None, "2", "4"]
    assert sorted(asker.asked) == [f"PO-{n}" for n in range(5)]  # the prepaid load never asked
    assert run.counts == {"payouts": {"MATCH": 4, "MISMATCH": 1, "NO_STATUS_API": 1}}
    assert [(f.item.item_id, f.finding.verdict) for f in store.findings] == [("PO-3", Verdict.MISMATCH)]
    assert run.kinds == (ReconciledKind.PAYOUTS,)  # no PG product: payments and refunds left out


def test_an_invocation_out_of_time_saves_the_cursor_and_the_next_continues_there() -> None:
    asker = CountingAsker()
    store, window = MemoryStore(), MemoryWindow([payout(n) for n in range(6)])
    runner = reconciler(store, window, asker, page_size=2)
    run = runner.start(kind="payouts", since=None, trigger=RunTrigger.OPERATOR)
    run = asyncio.run(runner.advance(run, CallBudget(lambda: 5.0)))  # one page, then hand over
    assert (run.state, run.cursor, len(asker.asked)) == (RunState.RUNNING, "2", 2)
    run = asyncio.run(runner.advance(runner.get(run.run_id), plenty()))
    assert run.state is RunState.FINISHED
    assert sorted(asker.asked) == [f"PO-{n}" for n in range(6)]


def test_scheduled_runs_take_the_window_since_the_previous_scheduled_run() -> None:
    store = MemoryStore()
    first = reconciler(store, MemoryWindow([]), CountingAsker()).start(
        kind="all", since=None, trigger=RunTrigger.SCHEDULE
    )
    assert (first.since, first.until) == (NOW - SCHEDULED_LAG - DEFAULT_WINDOW, NOW - SCHEDULED_LAG)
    later = Reconciler(
        store=store,
        window=MemoryWindow([]),
        askers={ReconciledKind.PAYOUTS: CountingAsker()},
        clock=lambda: NOW + timedelta(days=1),
        metrics=NoMetrics(),
        concurrency=8,
        rate_per_second=10,
        page_size=100,
    ).start(kind="all", since=None, trigger=RunTrigger.SCHEDULE)
    assert (later.since, later.until) == (NOW - SCHEDULED_LAG, NOW + timedelta(days=1) - SCHEDULED_LAG)


@pytest.mark.parametrize("since", [None, NOW - timedelta(days=3)])
def test_an_operators_run_takes_its_since_or_the_last_day(since: datetime | None) -> None:
    run = reconciler(MemoryStore(), MemoryWindow([]), CountingAsker()).start(
        kind="payouts", since=since, trigger=RunTrigger.OPERATOR
    )
    assert (run.since, run.until) == (since or NOW - DEFAULT_WINDOW, NOW)
