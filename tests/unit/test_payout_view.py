"""The documented payout resource (PayoutView) is what Payout.public_view() answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest, Transition
from tijori.payouts.responses import PayoutView

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _accepted(payee: dict[str, str], **fields: Any) -> Payout:
    request = PayoutRequest.model_validate(
        {"order_id": "ORD-VIEW-1", "amount": "10.5", "payee": payee, **fields}
    )
    return Payout.accept(request, now=NOW)


def _settled(payout: Payout) -> Payout:
    later = NOW + timedelta(minutes=3)
    return payout.model_copy(
        update={
            "status": PayoutStatus.SUCCESS,
            "paytm_txn_id": "20260101111212800110168",
            "last_status_code": "SUCCESS",
            "last_status_message": "Transaction successful",
            "attempts": 1,
            "status_checks": 2,
            "updated_at": later,
            "history": (
                *payout.history,
                Transition(
                    from_status=PayoutStatus.ACCEPTED,
                    to_status=PayoutStatus.PROCESSING,
                    at=later,
                    reason="claimed",
                ),
                Transition(
                    from_status=PayoutStatus.PROCESSING,
                    to_status=PayoutStatus.SUCCESS,
                    at=later,
                    reason="SUCCESS",
                ),
            ),
        }
    )


@pytest.mark.parametrize(
    "payout",
    [
        _accepted({"phone": "9876543210"}),
        _accepted(
            {"email": "asha@example.in"}, narration="Cashback", metadata={"k": "v"}, pending_days_limit=2
        ),
        _settled(_accepted({"sso_id": "1107195733"}, mode="any_user")),
    ],
)
def test_public_view_is_a_valid_payout_view_and_nothing_is_lost(payout: Payout) -> None:
    view = payout.public_view()
    assert PayoutView.model_validate(view).model_dump(mode="json", by_alias=True) == view
