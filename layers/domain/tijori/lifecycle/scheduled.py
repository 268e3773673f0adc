"""The scheduled run of status checks, one for every kind of money movement.

Every minute an Express execution of the pending-checks state machine asks StatusPollerFunction
for a round; a round runs `run_checks` for each kind in turn, while the Lambda's time lasts:
1. everything the kind's due index says is overdue, every shard and page (`ScheduledKind.sweep_due`
   decides what to do with each: queue it again, check it, postpone it);
2. every item in the kind's pending status that reached one of the kind's fixed check ages since
   the kind's cursor (`ScheduledKind.check_pending`): the cursor moves on in steps as each step's
   checks are done, so a run that died or ran out of time is caught up by the next.
Each item on its own: a failure is logged and counted, the item postponed, the run goes on (a
pending one that cannot even be postponed keeps the cursor before its step).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

MAX_CALL_TIMEOUT_SECONDS = 10.0
# Kept back from every call's timeout for the state writes that follow it.
WRITE_RESERVE_SECONDS = 3.0
# An item the run could not handle (unreadable, or a dependency failed) is tried again after this.
SWEEP_FAILURE_BACKOFF = timedelta(hours=1)
# How many due items a run handles at once (each is a few table calls and a Paytm call).
SWEEP_CONCURRENCY = 16
# A scheduled run moves a pending-check cursor on by at most this much per step, so that a run
# catching up after an outage saves its progress step by step and the next resumes from the last.
# In the steady state a step is the minute since the last run; the size only matters after a gap.
CURSOR_STEP = timedelta(hours=6)
# Where a cursor starts when no run has recorded one.
FIRST_RUN_LOOKBACK = timedelta(minutes=1)


@dataclass(frozen=True)
class CallBudget:
    """Timeouts derived from the Lambda's remaining time."""

    remaining_seconds: Callable[[], float]

    def call_timeout(self) -> float:
        return max(0.5, min(MAX_CALL_TIMEOUT_SECONDS, self.remaining_seconds() - WRITE_RESERVE_SECONDS))

    def allows(self, seconds: float) -> bool:
        return self.remaining_seconds() - WRITE_RESERVE_SECONDS > seconds + 1.0


class ScheduledKind(Protocol):
    """What the scheduled run needs of one kind: its index, and what to do with an item."""

    @property
    def kind(self) -> str: ...

    @property
    def check_ages(self) -> Sequence[timedelta]: ...

    def due_for_check(self, now: datetime, *, page_size: int) -> Iterator[Sequence[str]]: ...

    def pending_since_within(
        self, windows: Sequence[tuple[datetime, datetime]], *, page_size: int
    ) -> Iterator[Sequence[str]]: ...

    def check_cursor(self) -> datetime | None: ...

    def advance_check_cursor(self, *, expected: datetime | None, to: datetime) -> bool: ...

    def postpone_check(self, item_id: str, *, until: datetime) -> None: ...

    async def sweep_due(self, item_id: str, now: datetime, budget: CallBudget) -> list[str]:
        """Handle one overdue item; the actions taken ("requeued", "checked")."""

    async def check_pending(self, item_id: str, budget: CallBudget) -> list[str]:
        """Check one pending item that reached a check age; the actions taken."""


class IndexedKind:
    """The index half of a ScheduledKind, bound to a kind's repository (its due index, pending
    buckets and cursor); a kind adds `kind`, `check_ages`, `sweep_due` and `check_pending`."""

    def __init__(self, repository: Any) -> None:
        self.due_for_check: Callable[..., Iterator[Sequence[str]]] = repository.due_for_check
        self.pending_since_within: Callable[..., Iterator[Sequence[str]]] = repository.pending_since_within
        self.check_cursor: Callable[[], datetime | None] = repository.check_cursor
        self.advance_check_cursor: Callable[..., bool] = repository.advance_check_cursor
        self.postpone_check: Callable[..., None] = repository.postpone_check


class Counter(Protocol):
    def count(self, name: str, value: int = 1) -> None: ...


async def run_checks(
    kind: ScheduledKind,
    *,
    now: datetime,
    page_size: int,
    budget: CallBudget,
    metrics: Counter,
    log_failure: Callable[[str, str], None],
) -> dict[str, Any]:
    """One round of one kind: `{"requeued", "checked", "failed": [ids], "more": bool, "cursor"}`;
    `more` says the cursor did not reach now (time ran out, or an item held it back)."""
    done: dict[str, list[str]] = {"requeued": [], "checked": [], "failed": []}
    limit = asyncio.Semaphore(SWEEP_CONCURRENCY)
    seen: set[str] = set()
    # Pending items that could neither be checked nor postponed: the cursor must not pass them.
    unfinished: set[str] = set()

    async def one(item_id: str, handle: Callable[[str], Any]) -> None:
        if item_id in seen:
            return
        seen.add(item_id)
        async with limit:
            try:
                for action in await handle(item_id):
                    done[action].append(item_id)
            except Exception as error:  # one bad item never stops the run
                done["failed"].append(item_id)
                metrics.count("SweepItemFailures")
                log_failure(item_id, f"{type(error).__name__}: {error}")
                try:
                    await asyncio.to_thread(kind.postpone_check, item_id, until=now + SWEEP_FAILURE_BACKOFF)
                except Exception as postpone_error:
                    unfinished.add(item_id)
                    log_failure(item_id, f"could not postpone: {type(postpone_error).__name__}")

    async def due(item_id: str) -> list[str]:
        return await kind.sweep_due(item_id, now, budget)

    async def pending(item_id: str) -> list[str]:
        return await kind.check_pending(item_id, budget)

    async def drain(pages: Iterator[Sequence[str]], handle: Callable[[str], Any]) -> bool:
        while budget.allows(MAX_CALL_TIMEOUT_SECONDS):
            page = await asyncio.to_thread(next, pages, None)
            if page is None:
                return True
            await asyncio.gather(*(one(item_id, handle) for item_id in page))
        return False

    finished = await drain(kind.due_for_check(now, page_size=page_size), due)
    unfinished.clear()  # a due item that was not postponed is still due: the next run sees it
    stored = await asyncio.to_thread(kind.check_cursor)
    cursor = stored or now - FIRST_RUN_LOOKBACK
    while finished and cursor < now:
        upto = min(now, cursor + CURSOR_STEP)
        windows = [(cursor - age, upto - age) for age in kind.check_ages]
        pages = kind.pending_since_within(windows, page_size=page_size)
        if not await drain(pages, pending) or unfinished:
            break  # the next run does this step again
        if not await asyncio.to_thread(kind.advance_check_cursor, expected=stored, to=upto):
            break  # another run moved it: that run carries on
        stored = cursor = upto
    return {**done, "more": cursor < now, "cursor": cursor.isoformat()}
