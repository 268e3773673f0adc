"""The ledger's own checks and the clock, without HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paytm_signing import MerchantCredentials
from tijori_local.sim.clock import SimClock
from tijori_local.sim.state import HOLD, CreditRequest, SimState
from tijori_local.sim.wire import dumps, json_number, parse_amount


@pytest.fixture
def state(credentials: MerchantCredentials) -> SimState:
    return SimState(credentials, SimClock(time_scale=0))


def credit_request(credentials: MerchantCredentials, order_id: str, amount: str = "10") -> CreditRequest:
    return CreditRequest(
        order_id=order_id,
        sales_wallet_guid=credentials.wallet.sales_wallet_guid,
        sales_wallet_name=None,
        payee_kind="phone",
        payee="7777777777",
        amount=Decimal(amount),
        applied_to_new_users=False,
        apply_verified_user=None,
        pending_days=None,
        metadata=None,
    )


def test_conservation_holds_on_a_fresh_state(state: SimState) -> None:
    report = state.conservation()
    assert report["ok"] is True
    assert report["total"] == Decimal("20000000.00")


def test_conservation_detects_money_created_outside_the_ledger(state: SimState) -> None:
    state.balances["user:ghost"] = Decimal("1.00")
    report = state.conservation()
    assert report["ok"] is False
    assert any("user:ghost" in problem for problem in report["problems"])


def test_conservation_detects_an_order_credited_twice(
    state: SimState, credentials: MerchantCredentials
) -> None:
    state.upsert_user({"phone": "7777777777"})
    credit = state.sales_to_user_credit(credit_request(credentials, "TWICE"))
    state.move(credit.sub_wallet.account, HOLD, credit.amount, order_id="TWICE", kind="debit")
    state.move(HOLD, "user:190000001", credit.amount, order_id="TWICE", kind="credit")
    report = state.conservation()
    assert report["ok"] is False
    assert "order TWICE credited 2 times" in report["problems"]


def test_external_top_ups_count_as_money_from_outside(
    state: SimState, credentials: MerchantCredentials
) -> None:
    state.set_balance(f"merchant:{credentials.wallet.sales_wallet_guid}", Decimal("10000500.00"))
    report = state.conservation()
    assert report["ok"] is True
    assert report["externalNet"] == Decimal("500.00")


def test_a_movement_never_takes_an_account_below_zero(state: SimState) -> None:
    with pytest.raises(ValueError, match="negative"):
        state.move("user:nobody", HOLD, Decimal("1.00"), order_id=None, kind="debit")


def test_clock_advances_by_hours_and_days_and_never_back() -> None:
    clock = SimClock(time_scale=0)
    start = clock.now()
    clock.advance(days=1, hours=2)
    assert (clock.now() - start).total_seconds() == 26 * 3600
    with pytest.raises(ValueError, match="forward"):
        clock.advance(hours=-1)


def test_clock_time_scale_compresses_real_time() -> None:
    real = [1000.0]
    clock = SimClock(time_scale=7200, real_time=lambda: real[0])
    start = clock.timestamp()
    real[0] += 60
    assert clock.timestamp() - start == 5 * 86400


@pytest.mark.parametrize(
    ("text", "expected"), [("1", "1.00"), ("6223.75", "6223.75"), (10, "10.00"), ("0.5", "0.50")]
)
def test_parse_amount_keeps_two_exact_places(text: object, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["0", "-1", "1.234", "abc", "", None, True, "1e3"])
def test_parse_amount_refuses_what_is_not_a_positive_two_place_amount(text: object) -> None:
    with pytest.raises(ValueError, match="amount"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("value", "text"), [("6223.75", "6223.75"), ("10.00", "10"), ("100", "100"), ("0.10", "0.1")]
)
def test_json_number_writes_the_decimal_text_as_a_number(value: str, text: str) -> None:
    assert dumps({"n": json_number(Decimal(value))}) == f'{{"n":{text}}}'.encode()


def test_a_string_that_looks_like_the_number_marker_stays_a_string() -> None:
    assert dumps({"s": "__sim_number_0000000000000000__1"}) == b'{"s":"__sim_number_0000000000000000__1"}'
