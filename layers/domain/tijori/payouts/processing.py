"""Shared by intake, the payout function and the sweep."""

from __future__ import annotations

from datetime import timedelta

# A PROCESSING payout not heard of for this long is looked at again by the sweep.
PROCESSING_GRACE = timedelta(minutes=15)


class UnknownPayoutError(Exception):
    """A queued or polled order id that the table does not hold: the message is poison, not the payout."""
