"""Seed 000 pending credits settle as of their own deadline or month boundary, whatever the clock's
steps: one big advance and many small ones give the same outcome, ledger times and all."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from paytm_signing import MerchantCredentials
from tijori_local.sim.clock import SimClock
from tijori_local.sim.state import IST, CreditRequest, CreditStatus, SimState


def state_at(credentials: MerchantCredentials, start: datetime) -> SimState:
    """A state whose frozen clock reads `start`."""
    return SimState(credentials, SimClock(time_scale=0, real_time=lambda: start.timestamp()))


def request(
    credentials: MerchantCredentials,
    order_id: str,
    amount: str,
    *,
    phone: str = "7777777777",
    days: int | None = None,
    new_users: bool = False,
) -> CreditRequest:
    return CreditRequest(
        order_id=order_id,
        sales_wallet_guid=credentials.wallet.sales_wallet_guid,
        sales_wallet_name=None,
        payee_kind="phone",
        payee=phone,
        amount=Decimal(amount),
        applied_to_new_users=new_users,
        apply_verified_user=None,
        pending_days=days,
        metadata=None,
    )


def scenario(credentials: MerchantCredentials, steps: list[float]) -> SimState:
    """Two days before a month's end (IST): a limit-pending credit that the new month releases, a
    non-KYC credit that is never released, and a new-user credit with a 2-day window."""
    state = state_at(credentials, datetime(2024, 1, 30, 9, 0, tzinfo=IST))
    state.upsert_user({"phone": "7777777777", "limits": {"monthly_credit": "1000"}})
    state.upsert_user({"phone": "7777777778", "kyc": False})
    assert state.sales_to_user_credit(request(credentials, "L-1", "800")).status == CreditStatus.SUCCESS
    assert state.sales_to_user_credit(request(credentials, "L-2", "300")).code == "RWL_1001"
    assert state.sales_to_user_credit(request(credentials, "K-1", "50", phone="7777777778")).code == "GE_1026"
    new = request(credentials, "N-1", "20", phone="9123456789", days=2, new_users=True)
    assert state.sales_to_user_credit(new).code == "STUC_1001"
    for days in steps:
        state.clock.advance(days=days)
        state.resolve_pending()
    return state


def outcome(state: SimState) -> dict[str, Any]:
    return {
        "credits": {
            c.order_id: (c.status, c.code, c.is_limit_pending, c.resolved_at) for c in state.credits.values()
        },
        "ledger": [(e.at, e.order_id, e.amount, e.source, e.target, e.kind) for e in state.ledger],
        "balances": dict(state.balances),
    }


def test_one_six_day_advance_and_six_one_day_advances_settle_the_same(
    credentials: MerchantCredentials,
) -> None:
    one_step = scenario(credentials, [6])
    six_steps = scenario(credentials, [1, 1, 1, 1, 1, 1])
    hourly = scenario(credentials, [1 / 24] * (6 * 24))

    assert outcome(one_step) == outcome(six_steps) == outcome(hourly)
    assert one_step.conservation()["ok"] is True
    credits = one_step.credits
    assert (credits["L-2"].status, credits["K-1"].status, credits["N-1"].status) == (
        CreditStatus.SUCCESS,
        CreditStatus.FAILURE,
        CreditStatus.FAILURE,
    )


def test_the_refund_is_recorded_at_the_deadline_not_when_the_clock_is_next_read(
    credentials: MerchantCredentials,
) -> None:
    state = scenario(credentials, [10])

    for order_id in ("K-1", "N-1"):
        credit = state.credits[order_id]
        (refund,) = [e for e in state.ledger if e.order_id == order_id and e.kind == "refund"]
        assert refund.at == credit.deadline == credit.resolved_at
        assert refund.target == f"merchant:{credentials.wallet.sales_wallet_guid}"
    assert state.credits["N-1"].deadline - state.credits["N-1"].created_at == timedelta(days=2)


def test_a_monthly_limit_pending_credit_is_released_at_the_month_boundary_inside_its_window(
    credentials: MerchantCredentials,
) -> None:
    state = scenario(credentials, [6])

    credit = state.credits["L-2"]
    boundary = datetime(2024, 2, 1, tzinfo=IST)
    (entry,) = [e for e in state.ledger if e.order_id == "L-2" and e.kind == "credit"]
    assert credit.resolved_at == entry.at == boundary
    assert credit.is_limit_pending is False


def test_the_month_rolls_over_at_midnight_ist_not_utc(credentials: MerchantCredentials) -> None:
    # 20:00 IST on 31 Jan = 14:30 UTC; five hours later it is February in India, still January in UTC.
    state = state_at(credentials, datetime(2024, 1, 31, 20, 0, tzinfo=IST))
    state.upsert_user({"phone": "7777777777", "limits": {"monthly_txn_count": 1}})
    state.sales_to_user_credit(request(credentials, "C-1", "1"))
    assert state.sales_to_user_credit(request(credentials, "C-2", "1")).code == "RWL_0004"

    state.clock.advance(hours=5)
    state.resolve_pending()

    credit = state.credits["C-2"]
    assert state.clock.now().month == 1  # UTC
    assert credit.status == CreditStatus.SUCCESS
    assert credit.resolved_at == datetime(2024, 2, 1, tzinfo=IST)


def test_a_reason_that_goes_away_settles_at_the_time_it_went_away(credentials: MerchantCredentials) -> None:
    state = state_at(credentials, datetime(2024, 3, 10, 12, 0, tzinfo=IST))
    user = state.upsert_user({"phone": "7777777777", "kyc": False})
    state.sales_to_user_credit(request(credentials, "K-2", "10"))
    state.clock.advance(days=2)
    kyc_at = state.clock.now()

    state.upsert_user({"sso_id": user.sso_id, "kyc": True})
    state.clock.advance(days=4)
    state.resolve_pending()

    assert state.credits["K-2"].status == CreditStatus.SUCCESS
    assert state.credits["K-2"].resolved_at == kyc_at


@pytest.mark.parametrize(("given", "window_days"), [(9, 5), (5, 5), (3, 3)])
def test_pending_days_limit_above_5_is_treated_as_5(
    credentials: MerchantCredentials, given: int, window_days: int
) -> None:
    state = state_at(credentials, datetime(2024, 3, 10, 12, 0, tzinfo=IST))
    credit = state.sales_to_user_credit(
        request(credentials, "W-1", "10", phone="9123456789", days=given, new_users=True)
    )

    assert credit.deadline - credit.created_at == timedelta(days=window_days)
    state.clock.advance(days=window_days)
    state.resolve_pending()
    assert credit.status == CreditStatus.FAILURE


def test_the_pending_code_follows_the_current_blocking_reason(credentials: MerchantCredentials) -> None:
    state = state_at(credentials, datetime(2024, 3, 10, 12, 0, tzinfo=IST))
    user = state.upsert_user({"phone": "7777777777", "kyc": False, "limits": {"monthly_credit": "100"}})
    credit = state.sales_to_user_credit(request(credentials, "R-1", "300"))
    assert (credit.code, credit.is_limit_pending) == ("GE_1026", False)

    state.upsert_user({"sso_id": user.sso_id, "kyc": True})

    assert (credit.status, credit.code, credit.is_limit_pending) == (CreditStatus.PENDING, "RWL_1001", True)
    state.upsert_user({"sso_id": user.sso_id, "wallet_exists": False})
    assert (credit.code, credit.is_limit_pending) == ("WA_1004", False)
