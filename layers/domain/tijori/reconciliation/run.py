"""A reconciliation run: every item of a window, asked of Paytm and compared (rules.compare),
page by page, within the Lambda's time, with bounded concurrency and a cap on calls per second.

Read-only: nothing here writes an item or sends money; findings go to the reconciliation store
for an operator to decide. The run record holds the cursor, so a window longer than one
invocation continues in the next (the reconciliation state machine loops while `more`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from tijori.lifecycle.scheduled import MAX_CALL_TIMEOUT_SECONDS, CallBudget
from tijori.payouts.ports import MetricsPort
from tijori.reconciliation.ports import (
    ItemWindow,
    ReconciliationStore,
    RunRecord,
    RunState,
    RunTrigger,
    StatusAsker,
    StoredFinding,
)
from tijori.reconciliation.rules import (
    Finding,
    ItemOnRecord,
    PaytmRecord,
    PaytmState,
    ReconciledKind,
    Verdict,
    compare,
)

DEFAULT_WINDOW = timedelta(hours=24)
# A scheduled window ends this long before the run: an item is reconciled once, so one still in
# its first attempt (seconds to minutes) is left to the next run rather than counted as catching up
# and never asked again.
SCHEDULED_LAG = timedelta(hours=1)
KIND_ORDER = (ReconciledKind.PAYOUTS, ReconciledKind.PAYMENTS, ReconciledKind.REFUNDS)
# Verdicts not stored item by item (counted only): a match says nothing, and prepaid loads are
# never asked (seed 003 has no status API).
_COUNTED_ONLY = frozenset({Verdict.MATCH, Verdict.NO_STATUS_API})
_NOT_ASKED = PaytmRecord(PaytmState.NO_ANSWER, message="not asked: seed 003 has no status API")


class UnknownRunError(Exception):
    """No reconciliation run has that id."""


class CallPacer:
    """At most `rate` call starts per second: each call takes the next free start slot."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    async def wait_turn(self) -> None:
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)


def kinds_of(kind: str) -> tuple[ReconciledKind, ...]:
    return KIND_ORDER if kind == "all" else (ReconciledKind(kind),)


class Reconciler:
    def __init__(
        self,
        *,
        store: ReconciliationStore,
        window: ItemWindow,
        askers: Mapping[ReconciledKind, StatusAsker],
        clock: Callable[[], datetime],
        metrics: MetricsPort,
        concurrency: int,
        rate_per_second: float,
        page_size: int,
    ) -> None:
        self._store = store
        self._window = window
        self._askers = askers
        self._clock = clock
        self._metrics = metrics
        self._concurrency = concurrency
        self._rate = rate_per_second
        # A page is asked within one invocation: never more than ten seconds of calls at the cap.
        self._page_size = max(1, min(page_size, int(rate_per_second * 10)))

    def start(self, *, kind: str, since: datetime | None, trigger: RunTrigger) -> RunRecord:
        """A new run over [since, now). A scheduled run's window ends SCHEDULED_LAG before now and
        starts where the previous scheduled run's window ended (DEFAULT_WINDOW before its end for
        the first), so no item is asked twice by the schedule and none while it is just being
        sent; an operator's run takes `since` (default: the last DEFAULT_WINDOW) up to now."""
        now = until = self._clock()
        if trigger is RunTrigger.SCHEDULE:
            until = now - SCHEDULED_LAG
            previous_end = self._store.claim_scheduled_window(until=until)
            since = previous_end if previous_end is not None else until - DEFAULT_WINDOW
        elif since is None:
            since = now - DEFAULT_WINDOW
        # A kind whose product the merchant secret does not hold has no status API to ask.
        kinds = tuple(k for k in kinds_of(kind) if k in self._askers)
        run = RunRecord(
            run_id=f"{now.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}",
            kinds=kinds,
            since=since,
            until=until,
            started_at=now,
            trigger=trigger,
            counts={k.value: {} for k in kinds},
        )
        self._store.create_run(run)
        return run

    def get(self, run_id: str) -> RunRecord:
        run = self._store.get_run(run_id)
        if run is None:
            raise UnknownRunError(run_id)
        return run

    async def advance(self, run: RunRecord, budget: CallBudget) -> RunRecord:
        """Reconcile page after page while time lasts (at least one page, so every invocation
        moves the run on); the progress is saved after each page."""
        seconds_per_page = self._page_size / self._rate + MAX_CALL_TIMEOUT_SECONDS
        pages = 0
        pacer = CallPacer(self._rate)
        while run.state is RunState.RUNNING:
            if pages and not budget.allows(seconds_per_page):
                return run
            if run.position >= len(run.kinds):
                run.state = RunState.FINISHED
                run.finished_at = self._clock()
                self._store.save_progress(run)
                self._metrics.count("ReconciliationMismatches", run.mismatches)
                return run
            kind = run.kinds[run.position]
            items, cursor = await asyncio.to_thread(
                self._window.page,
                kind,
                since=run.since,
                until=run.until,
                cursor=run.cursor,
                page_size=self._page_size,
            )
            found = await self._reconcile(items, budget, pacer)
            kept = [entry for entry in found if entry.finding.verdict not in _COUNTED_ONLY]
            if kept:
                await asyncio.to_thread(self._store.add_findings, run.run_id, kept)
            by_verdict = run.counts.setdefault(kind.value, {})
            for entry in found:
                verdict = entry.finding.verdict.value
                by_verdict[verdict] = by_verdict.get(verdict, 0) + 1
            if cursor is None:
                run.position += 1
            run.cursor = cursor
            await asyncio.to_thread(self._store.save_progress, run)
            pages += 1
        return run

    async def _reconcile(
        self, items: Sequence[ItemOnRecord], budget: CallBudget, pacer: CallPacer
    ) -> list[StoredFinding]:
        gate = asyncio.Semaphore(self._concurrency)

        async def one(item: ItemOnRecord) -> StoredFinding:
            if not item.has_status_api:
                return StoredFinding(item, _NOT_ASKED, Finding(Verdict.NO_STATUS_API), self._clock())
            async with gate:
                await pacer.wait_turn()
                paytm = await self._askers[item.kind].ask(item, timeout=budget.call_timeout())
            return StoredFinding(item, paytm, compare(item, paytm, self._clock()), self._clock())

        return list(await asyncio.gather(*(one(item) for item in items)))
