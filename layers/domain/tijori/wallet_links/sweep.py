"""Wallet links as a kind of the scheduled run: nothing about a link is asked of Paytm on a
schedule, so the only links in the due index are final ones whose event is not out yet (the
writer's publish failed or it died); the sweep publishes them (`leave_due_index` announces first).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from tijori.lifecycle.scheduled import CallBudget, IndexedKind


class WalletLinkAnnouncements(IndexedKind):
    kind = "wallet_link"
    check_ages: Sequence[timedelta] = ()

    def __init__(self, repository: Any) -> None:
        super().__init__(repository)
        self._leave_due_index: Callable[[str], None] = repository.leave_due_index

    async def sweep_due(self, item_id: str, now: datetime, budget: CallBudget) -> list[str]:
        await asyncio.to_thread(self._leave_due_index, item_id)
        return ["announced"]

    async def check_pending(self, item_id: str, budget: CallBudget) -> list[str]:
        return []
