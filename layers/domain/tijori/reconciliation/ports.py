"""What a reconciliation run needs from the outside: the items of a window, Paytm's status APIs,
and a place for runs and findings (tijori/adapters/reconciliation_table.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from tijori.reconciliation.rules import Finding, ItemOnRecord, PaytmRecord, ReconciledKind


class RunState(StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"


class RunTrigger(StrEnum):
    OPERATOR = "operator"
    SCHEDULE = "schedule"


@dataclass
class RunRecord:
    """One run: its window [since, until) by the items' created_at, the kinds in order, and where
    it stands (`position` in `kinds`, the table `cursor` within that kind), so a run continues
    page by page across invocations."""

    run_id: str
    kinds: tuple[ReconciledKind, ...]
    since: datetime
    until: datetime
    started_at: datetime
    trigger: RunTrigger
    state: RunState = RunState.RUNNING
    finished_at: datetime | None = None
    position: int = 0
    cursor: str | None = None
    # counts[kind][verdict]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def mismatches(self) -> int:
        return sum(by_verdict.get("MISMATCH", 0) for by_verdict in self.counts.values())


@dataclass(frozen=True)
class StoredFinding:
    """A finding worth keeping (anything but a plain match), with both sides."""

    item: ItemOnRecord
    paytm: PaytmRecord
    finding: Finding
    found_at: datetime


class ItemWindow(Protocol):
    def page(
        self,
        kind: ReconciledKind,
        *,
        since: datetime,
        until: datetime,
        cursor: str | None,
        page_size: int,
    ) -> tuple[Sequence[ItemOnRecord], str | None]:
        """Items created in [since, until), one page from `cursor`, and the cursor after it
        (None: the kind is done)."""
        ...


class StatusAsker(Protocol):
    async def ask(self, item: ItemOnRecord, *, timeout: float) -> PaytmRecord: ...


class ReconciliationStore(Protocol):
    def create_run(self, run: RunRecord) -> None: ...

    def get_run(self, run_id: str) -> RunRecord | None: ...

    def save_progress(self, run: RunRecord) -> None: ...

    def add_findings(self, run_id: str, findings: Sequence[StoredFinding]) -> None: ...

    def claim_scheduled_window(self, *, until: datetime) -> datetime | None:
        """Record `until` as the end of the scheduled runs' windows; answer the previous end
        (None for the first scheduled run)."""
        ...
