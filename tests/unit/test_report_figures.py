"""The operators' report's figures, from plain records: tables of cases for each aggregation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tijori_local.operators.report_figures import (
    PENDING_AGE_BUCKETS,
    TIME_TO_FINAL_BUCKETS,
    bucket_of,
    checks_made,
    checks_per_pending_item,
    failures_by_code,
    finals_per_day,
    meaning_of,
    needs_review,
    pending_payouts_by_age,
    time_to_final,
)
from tijori_local.operators.report_records import (
    ItemRecord,
    Kind,
    StackSnapshot,
    Step,
    record_of,
    since_filter,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


def record(
    kind: Kind = Kind.PAYOUT,
    *,
    item_id: str = "O-1",
    steps: tuple[tuple[str, timedelta, str], ...] = (("SUCCESS", HOUR, "credited"),),
    created_at: datetime = T0,
    **fields: Any,
) -> ItemRecord:
    """An item accepted at `created_at`, then through `steps` (status, after intake, reason)."""
    later = (Step(status, created_at + after, reason) for status, after, reason in steps)
    history = (Step("ACCEPTED", created_at, "accepted"), *later)
    fields.setdefault("amount", Decimal("100.00"))
    return ItemRecord(
        kind=kind,
        item_id=item_id,
        status=history[-1].to_status,
        created_at=created_at,
        history=history,
        **fields,
    )


def snapshot(*records: ItemRecord, as_of: datetime) -> StackSnapshot:
    return StackSnapshot(label="test", as_of=as_of, items=records, dlq=None)


# ---- buckets -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("elapsed", "bucket"),
    [
        (timedelta(seconds=0), "< 1 min"),
        (timedelta(seconds=59), "< 1 min"),
        (MIN, "1-5 min"),
        (14 * MIN, "5-15 min"),
        (HOUR, "1-6 h"),
        (23 * HOUR, "6-24 h"),
        (DAY, "1-2 d"),
        (4 * DAY + 23 * HOUR, "2-5 d"),
        (5 * DAY, "5-6 d"),
        (6 * DAY, ">= 6 d"),
        (40 * DAY, ">= 6 d"),
    ],
)
def test_time_to_final_bucket(elapsed: timedelta, bucket: str) -> None:
    assert bucket_of(elapsed, TIME_TO_FINAL_BUCKETS) == bucket


@pytest.mark.parametrize(
    ("age", "bucket"),
    [
        (timedelta(0), "< 1 d"),
        (DAY - MIN, "< 1 d"),
        (DAY, "1-2 d"),
        (4 * DAY + 23 * HOUR, "4-5 d"),
        (5 * DAY, "5-6 d"),  # the seed's window has closed
        (6 * DAY, ">= 6 d"),  # past the deadline: NEEDS_REVIEW at the next check
    ],
)
def test_pending_age_bucket_against_the_five_day_window(age: timedelta, bucket: str) -> None:
    assert bucket_of(age, PENDING_AGE_BUCKETS) == bucket


# ---- final statuses per day --------------------------------------------------------------------
def test_finals_per_day_count_each_item_on_the_day_it_became_final_with_empty_days_kept() -> None:
    records = [
        record(item_id="A", steps=(("SUCCESS", HOUR, "credited"),)),
        record(item_id="B", steps=(("PENDING", MIN, "kyc"), ("SUCCESS", 2 * DAY, "kyc done"))),
        record(item_id="C", steps=(("FAILED", MIN, "STUC_1002"),)),
        record(item_id="D", steps=(("PENDING", MIN, "kyc"),)),  # not final: not counted
        record(Kind.PAYMENT, item_id="P", steps=(("PAID", MIN, "paid"),)),
    ]
    payouts, payments = finals_per_day(records)
    assert payouts.kind is Kind.PAYOUT
    assert payouts.days == (date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3))
    assert payouts.counts == {"FAILED": (1, 0, 0), "SUCCESS": (1, 0, 1)}
    assert payouts.total == 3
    assert payments.kind is Kind.PAYMENT
    assert payments.counts == {"PAID": (1,)}


def test_finals_per_day_leave_out_kinds_without_final_items() -> None:
    assert finals_per_day([record(steps=(("PENDING", MIN, "kyc"),))]) == []
    assert finals_per_day([]) == []


# ---- time to final status ----------------------------------------------------------------------
def test_time_to_final_counts_buckets_and_gives_median_p90_and_longest() -> None:
    took = [30 * timedelta(seconds=1), 3 * MIN, 3 * MIN, 2 * HOUR, 3 * DAY]
    records = [record(item_id=f"O-{n}", steps=(("SUCCESS", t, "ok"),)) for n, t in enumerate(took)]
    records.append(record(item_id="open", steps=(("PENDING", MIN, "kyc"),)))
    (figure,) = time_to_final(records)
    counts = dict(zip([label for label, _ in TIME_TO_FINAL_BUCKETS], figure.counts, strict=True))
    assert counts == {
        "< 1 min": 1,
        "1-5 min": 2,
        "5-15 min": 0,
        "15-60 min": 0,
        "1-6 h": 1,
        "6-24 h": 0,
        "1-2 d": 0,
        "2-5 d": 1,
        "5-6 d": 0,
        ">= 6 d": 0,
    }
    assert (figure.median, figure.p90, figure.longest) == (3 * MIN, 3 * DAY, 3 * DAY)


# ---- pending payouts by age --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pending_for", "limit", "bucket", "past_window"),
    [
        (2 * HOUR, None, "< 1 d", False),
        (3 * DAY, None, "3-4 d", False),
        (5 * DAY + HOUR, None, "5-6 d", True),
        (3 * DAY, 2, "3-4 d", True),  # its own pendingDaysLimit of 2 days has passed
        (7 * DAY, None, ">= 6 d", True),
    ],
)
def test_pending_payouts_by_age_against_their_window(
    pending_for: timedelta, limit: int | None, bucket: str, past_window: bool
) -> None:
    sent = T0 + MIN  # the pending clock: the first send that may have reached Paytm
    pending = record(
        steps=(("PROCESSING", MIN, "claimed"), ("PENDING", 2 * MIN, "RWL_0003")),
        pending_clock_start=sent,
        pending_days_limit=limit,
    )
    ages = pending_payouts_by_age([snapshot(pending, as_of=sent + pending_for)])
    (payout,) = ages.payouts
    assert payout.age == pending_for
    assert payout.past_window is past_window
    index = [label for label, _ in PENDING_AGE_BUCKETS].index(bucket)
    expected = [0] * len(PENDING_AGE_BUCKETS)
    expected[index] = 1
    assert list(ages.past_window if past_window else ages.within_window) == expected
    assert sum(ages.within_window if past_window else ages.past_window) == 0


def test_only_pending_wallet_payouts_are_aged_each_at_its_own_stack_s_clock() -> None:
    early = record(item_id="EARLY", steps=(("PENDING", MIN, "kyc"),), pending_clock_start=T0)
    settled = record(
        item_id="DONE", steps=(("PENDING", MIN, "kyc"), ("SUCCESS", DAY, "ok")), pending_clock_start=T0
    )
    payment = record(Kind.PAYMENT, item_id="PAY", steps=(("PENDING", MIN, "402"),), pending_clock_start=T0)
    later = record(item_id="LATER", steps=(("PENDING", MIN, "kyc"),), pending_clock_start=T0)
    ages = pending_payouts_by_age(
        [snapshot(early, settled, payment, as_of=T0 + DAY), snapshot(later, as_of=T0 + 4 * DAY)]
    )
    assert [(p.order_id, p.age) for p in ages.payouts] == [("LATER", 4 * DAY), ("EARLY", DAY)]


# ---- status checks per pending item ------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "steps", "recorded", "as_of_after", "checks"),
    [
        # Still pending 30 minutes after its clock: check ages 1, 2, 5, 11, 25 min have passed.
        (Kind.PAYOUT, (("PENDING", timedelta(0), "kyc"),), 0, 30 * MIN, 5),
        # Two checks recorded while its outcome was unknown, then pending for 3 days.
        (Kind.PAYOUT, (("PENDING", timedelta(0), "kyc"),), 2, 3 * DAY, 2 + 12),
        # Settled 1 hour into its pending spell: only the ages before then count, not as_of's.
        (Kind.PAYOUT, (("PENDING", timedelta(0), "kyc"), ("SUCCESS", HOUR, "ok")), 0, 9 * DAY, 6),
        # In review after the window: the daily review checks are recorded on the item.
        (
            Kind.PAYOUT,
            (("PENDING", timedelta(0), "kyc"), ("NEEDS_REVIEW", 6 * DAY, "deadline")),
            3,
            9 * DAY,
            18,
        ),
        # A pending payment counts the payments' own ages (seed 002: 10 over 3 days).
        (Kind.PAYMENT, (("PENDING", timedelta(0), "402"),), 0, 4 * DAY, 10),
    ],
)
def test_checks_made_count_recorded_checks_and_the_check_ages_of_the_pending_spell(
    kind: Kind,
    steps: tuple[tuple[str, timedelta, str], ...],
    recorded: int,
    as_of_after: timedelta,
    checks: int,
) -> None:
    item = record(kind, steps=steps, status_checks=recorded, pending_clock_start=T0)
    assert checks_made(item, T0 + as_of_after) == checks


def test_checks_per_pending_item_split_still_pending_and_settled_and_skip_never_pending() -> None:
    still = record(item_id="S", steps=(("PENDING", timedelta(0), "kyc"),), pending_clock_start=T0)
    done = record(
        item_id="D", steps=(("PENDING", timedelta(0), "kyc"), ("SUCCESS", HOUR, "ok")), pending_clock_start=T0
    )
    never = record(item_id="N", steps=(("SUCCESS", MIN, "ok"),), status_checks=1)
    checks = checks_per_pending_item([snapshot(still, done, never, as_of=T0 + 30 * MIN)])
    assert checks.still_pending == {Kind.PAYOUT: Counter({5: 1})}
    assert checks.settled == {Kind.PAYOUT: Counter({6: 1})}
    assert checks.items == 2


# ---- failures by code --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "code", "meaning"),
    [
        (Kind.PAYOUT, "MWL_2001", "Exceeds allowed maximum debit throughput"),
        (Kind.PAYOUT, "STUC_1009", "sales to user credit txn not found."),
        (Kind.PREPAID_LOAD, "1009", "CARD_CANCELLED_CLOSED_EXPIRED"),
        (Kind.PAYMENT, "227", "Your payment has been declined by your bank."),
        (Kind.VALIDATION, "DE_1222", "Invalid wallet detail"),
        (Kind.PAYOUT, "1009", None),  # a prepaid code means nothing for a wallet payout
    ],
)
def test_meaning_of_a_code_comes_from_the_kind_s_catalogue(
    kind: Kind, code: str, meaning: str | None
) -> None:
    assert meaning_of(kind, code) == meaning


def test_failures_by_code_group_by_kind_and_code_with_the_meaning_most_frequent_first() -> None:
    records = [
        record(item_id="F1", steps=(("FAILED", MIN, "refused"),), paytm_code="MWL_2001"),
        record(item_id="F2", steps=(("FAILED", MIN, "refused"),), paytm_code="mwl_2001 "),
        record(
            item_id="R1",
            steps=(("PENDING", MIN, "x"), ("REVERSED", 5 * DAY, "rolled back")),
            paytm_code="RWL_0003",
        ),
        record(
            item_id="R2",
            steps=(("PENDING", MIN, "x"), ("REVERSED", 5 * DAY, "rolled back")),
            paytm_code="SS_001",  # checkStatus's own success code: the document gives it no text
            paytm_message="REFUNDED_BACK",
        ),
        record(item_id="V1", steps=(("FAILED", MIN, "VERIFY answered false (no credit sent)"),)),
        record(item_id="V2", steps=(("FAILED", MIN, "VERIFY answered false (no credit sent)"),)),
        record(
            item_id="U1", steps=(("FAILED", MIN, "refused"),), paytm_code="ZZ_9", paytm_message="odd refusal"
        ),
        record(item_id="OK", steps=(("SUCCESS", MIN, "credited"),), paytm_code="SUCCESS"),
        record(Kind.PAYMENT, item_id="P1", steps=(("FAILED", MIN, "declined"),), paytm_code="227"),
    ]
    rows = failures_by_code(records)
    assert [(r.kind, r.code, r.count) for r in rows] == [
        (Kind.PAYOUT, "MWL_2001", 2),
        (Kind.PAYOUT, None, 2),
        (Kind.PAYMENT, "227", 1),
        (Kind.PAYOUT, "RWL_0003", 1),
        (Kind.PAYOUT, "SS_001", 1),
        (Kind.PAYOUT, "ZZ_9", 1),
    ]
    by_code = {r.code: r for r in rows}
    assert by_code["MWL_2001"].meaning == "Exceeds allowed maximum debit throughput"
    assert by_code["MWL_2001"].amount == Decimal("200.00")
    assert by_code["RWL_0003"].statuses == {"REVERSED": 1}
    assert by_code[None].meaning == "no Paytm code; Tijori's reason: VERIFY answered false"
    assert by_code["ZZ_9"].meaning == "not in the catalogue; Paytm said: odd refusal"
    assert by_code["SS_001"].meaning == "the documents give this code no meaning; Paytm said: REFUNDED_BACK"


# ---- NEEDS_REVIEW ------------------------------------------------------------------------------
def test_needs_review_lists_each_item_with_why_it_went_there_and_the_latest_note() -> None:
    mismatch = record(
        item_id="M",
        steps=(
            ("PROCESSING", MIN, "claimed"),
            ("NEEDS_REVIEW", 2 * MIN, "status answer does not match: amount 10.00, stored 25.00"),
            ("NEEDS_REVIEW", DAY, "Paytm's final answer SUCCESS does not match"),
        ),
        paytm_code="SS_001",
    )
    lost = record(
        Kind.PREPAID_LOAD,
        item_id="L",
        created_at=T0 - DAY,
        steps=(("NEEDS_REVIEW", MIN, "answer lost"),),
        paytm_code="1501",
    )
    rows = needs_review([mismatch, lost, record(item_id="fine")])
    assert [(r.kind, r.item_id) for r in rows] == [(Kind.PREPAID_LOAD, "L"), (Kind.PAYOUT, "M")]
    assert (rows[0].reason, rows[0].latest, rows[0].meaning) == ("answer lost", None, "SYSTEM_ERROR_DB")
    assert rows[1].since == T0 + 2 * MIN
    assert rows[1].reason.startswith("status answer does not match")
    assert rows[1].latest == "Paytm's final answer SUCCESS does not match"


# ---- reading stored items ----------------------------------------------------------------------
def _entry(to: str, at: datetime, reason: str = "r") -> dict[str, Any]:
    return {"from": None, "to": to, "at": at.isoformat(), "reason": reason}


@pytest.mark.parametrize(
    ("kind", "item", "expected"),
    [
        (
            Kind.PAYOUT,
            {"order_id": "W", "status": "PENDING", "amount": "25.00", "created_at": T0.isoformat(),
             "first_sent_at": (T0 + MIN).isoformat(), "status_checks": 2, "last_status_code": "RWL_0003",
             "history": [_entry("ACCEPTED", T0), _entry("PENDING", T0 + 2 * MIN)], "pending_days_limit": 3},
            {"kind": Kind.PAYOUT, "item_id": "W", "amount": Decimal("25.00"), "pending_clock_start": T0 + MIN,
             "status_checks": 2, "paytm_code": "RWL_0003", "pending_days_limit": 3},
        ),
        (
            Kind.PAYMENT,
            {"order_id": "P", "status": "PENDING", "amount": "10.00", "created_at": T0.isoformat(),
             "pending_since": (T0 + HOUR).isoformat(),
             "history": [_entry("ACCEPTED", T0), _entry("PENDING", T0 + HOUR)]},
            {"kind": Kind.PAYMENT, "pending_clock_start": T0 + HOUR},
        ),
        (
            Kind.VALIDATION,
            {"validation_id": "V", "status": "INVALID", "penny_amount": "1.00", "created_at": T0.isoformat(),
             "paytm_code": "DE_1222", "history": [_entry("ACCEPTED", T0), _entry("INVALID", T0 + MIN)]},
            {"item_id": "V", "paytm_code": "DE_1222", "amount": Decimal("1.00"), "pending_clock_start": None},
        ),
        (
            Kind.REFUND,
            {"refund_id": "REF", "order_id": "P", "status": "SUCCESS", "amount": "5.00",
             "created_at": T0.isoformat(), "history": [_entry("SUCCESS", T0)]},
            {"item_id": "REF", "status": "SUCCESS"},
        ),
    ],
)  # fmt: skip
def test_record_of_a_stored_item(kind: Kind, item: dict[str, Any], expected: dict[str, Any]) -> None:
    read = record_of(kind, item)
    assert read is not None
    assert {name: getattr(read, name) for name in expected} == expected


@pytest.mark.parametrize(
    "item",
    [
        {"order_id": "#pending-checks-cursor", "cursor_at": T0.isoformat()},  # a control item
        {"order_id": "X", "status": "LOST", "created_at": T0.isoformat()},  # no such status
        {"order_id": "X", "status": "SUCCESS"},  # no creation time
        {"order_id": "X", "status": "SUCCESS", "created_at": "yesterday"},
    ],
)
def test_an_item_the_report_cannot_read_is_not_guessed(item: dict[str, Any]) -> None:
    assert record_of(Kind.PAYOUT, item) is None


def test_since_keeps_newer_items_and_every_open_one() -> None:
    old_final = record(item_id="OLD", created_at=T0 - 10 * DAY)
    old_open = record(item_id="OPEN", created_at=T0 - 10 * DAY, steps=(("PENDING", MIN, "kyc"),))
    new = record(item_id="NEW", created_at=T0 + MIN)
    kept = since_filter((old_final, old_open, new), T0)
    assert [r.item_id for r in kept] == ["OPEN", "NEW"]
    assert since_filter((old_final,), None) == (old_final,)
