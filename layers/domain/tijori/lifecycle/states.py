"""Status tables: which status may follow which, for each kind of money movement.

A kind's table lists, for every status, the statuses it may move to. A status with nowhere to go
is final. Every status write goes through `StatusTable.check`, and the store makes the write
conditional on the expected previous status, so two writers never both finalise and nothing moves
backwards or out of a final status.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Generic, TypeVar

StatusT = TypeVar("StatusT", bound=StrEnum)


class IllegalTransitionError(ValueError):
    """A status change the kind's table does not allow."""


class StatusTable(Generic[StatusT]):
    """One kind's lifecycle: `allowed[status]` is where `status` may go; no targets = final."""

    def __init__(self, kind: str, allowed: Mapping[StatusT, frozenset[StatusT]]) -> None:
        statuses = set(allowed)
        strays = {target for targets in allowed.values() for target in targets} - statuses
        if strays:
            raise ValueError(f"{kind}: targets without a row of their own: {sorted(strays)}")
        self.kind = kind
        self.allowed: Mapping[StatusT, frozenset[StatusT]] = dict(allowed)
        self.finals: frozenset[StatusT] = frozenset(s for s, targets in allowed.items() if not targets)

    def is_final(self, status: StatusT) -> bool:
        return status in self.finals

    def may_move(self, current: StatusT, target: StatusT) -> bool:
        return target in self.allowed[current]

    def check(self, current: StatusT, target: StatusT) -> None:
        if not self.may_move(current, target):
            raise IllegalTransitionError(f"{current} -> {target} is not an allowed {self.kind} transition")
