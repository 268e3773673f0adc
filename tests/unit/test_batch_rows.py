"""A payout batch's body read into rows (tijori.batches.rows): which rows are taken, and each
rejected row's line, field and reason."""

from __future__ import annotations

from typing import Any

import pytest

from tijori.batches.rows import MAX_BATCH_ROWS, read_csv_batch, read_json_batch
from tijori.payouts.models import PayoutRequest, PrepaidPayoutRequest
from tijori.request_body import RequestBodyRefusedError

HEADER = "order_id,amount,phone,email,sso_id,mode,narration,pending_days_limit"


def _csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


@pytest.mark.parametrize(
    ("row", "field", "reason", "problem_type"),
    [
        ("A1,0.50,9876543210,,,,,", "amount", "Value error, must be at least 1.00", "value_error"),
        (
            "A1,12.345,9876543210,,,,,",
            "amount",
            'Value error, must be a decimal string with at most 2 decimal places, e.g. "10.50"',
            "value_error",
        ),
        ("A1,,9876543210,,,,,", "amount", "Field required", "missing"),
        (
            "A1,10.00,5876543210,,,,,",
            "phone",
            "String should match pattern '^[6-9][0-9]{9}$'",
            "string_pattern_mismatch",
        ),
        (
            "A1,10.00,9876543210,a@example.com,,,,",
            "payee",
            "Value error, payee must have exactly one of phone, email, sso_id",
            "value_error",
        ),
        ("A1,10.00,,,,,,", "payee", "Field required", "missing"),
        (
            "A1,10.00,,,a-b,,,",
            "sso_id",
            "String should match pattern '^[A-Za-z0-9]+$'",
            "string_pattern_mismatch",
        ),
        (
            "A1,10.00,9876543210,,,now,,",
            "mode",
            "Input should be 'verified_user', 'existing_user' or 'any_user'",
            "enum",
        ),
        (
            "A1,10.00,9876543210,,,,line\u202ebreak,",
            "narration",
            "Value error, must not contain control or bidirectional characters (U+202E at position 4)",
            "value_error",
        ),
        (
            "A1,10.00,9876543210,,,,,2.5",
            "pending_days_limit",
            "must be a whole number of days",
            "int_parsing",
        ),
        (
            "A1,10.00,9876543210,,,,,6",
            "pending_days_limit",
            "Input should be less than or equal to 5",
            "less_than_equal",
        ),
        (
            "A1,10.00,9876543210,,,,",
            "row",
            "the row has 7 cells; the header names 8 columns",
            "csv_cell_count",
        ),
        (
            "A 1,10.00,9876543210,,,,,",
            "order_id",
            "String should match pattern '^[A-Za-z0-9\\-_@]{1,50}$'",
            "string_pattern_mismatch",
        ),
    ],
)
def test_a_bad_csv_row_is_rejected_by_its_line_column_and_reason(
    row: str, field: str, reason: str, problem_type: str
) -> None:
    read = read_csv_batch(_csv("OK1,10.00,9876543210,,,,,", row))
    assert [r.request.order_id for r in read.rows] == ["OK1"]
    assert [rejected.view() for rejected in read.rejected] == [
        {
            "line": 3,
            "order_id": _order_id_of(row),
            "errors": [{"field": field, "reason": reason, "type": problem_type}],
        }
    ]


def _order_id_of(row: str) -> str | None:
    return row.split(",", 1)[0] or None


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        # The header is line 1; blank lines are skipped but counted.
        (_csv("A1,10.00,9876543210,,,,,", "", "A2,10.00,9876543211,,,,,"), [2, 4]),
        # A quoted cell over two lines: the next row starts on the line after it.
        (_csv('A1,10.00,9876543210,,,,"two\nlines",', "A2,10.00,9876543211,,,,,"), [4]),
        # Windows line ends and a spreadsheet's byte-order mark.
        ("\ufeff" + HEADER + "\r\nA1,10.00,9876543210,,,,,\r\nA2,10.00,9876543211,,,,,\r\n", [2, 3]),
    ],
)
def test_rows_are_numbered_by_the_line_they_start_on(text: str, lines: list[int]) -> None:
    read = read_csv_batch(text)
    assert [row.line for row in read.rows] == lines


def test_a_quoted_cell_over_two_lines_is_one_row_refused_for_its_line_break() -> None:
    read = read_csv_batch(_csv('A1,10.00,9876543210,,,,"two\nlines",', "A2,10.00,9876543211,,,,,"))
    assert [(r.line, r.problems[0].field, r.problems[0].type) for r in read.rejected] == [
        (2, "narration", "value_error")
    ]


def test_csv_rows_of_either_rail_become_their_own_request() -> None:
    header = "order_id,amount,rail,phone,urn,subwallet_id,mode"
    read = read_csv_batch(
        _csv("W1,10.00,,9876543210,,,any_user", "P1,10.00,prepaid,,70000000008,MOB5378a27c_1,", header=header)
    )
    wallet, prepaid = (row.request for row in read.rows)
    assert isinstance(wallet, PayoutRequest)
    assert wallet.mode.value == "any_user"
    assert isinstance(prepaid, PrepaidPayoutRequest)
    assert prepaid.payee.urn == "70000000008"


def test_a_prepaid_column_on_a_wallet_row_is_rejected_naming_the_column() -> None:
    header = "order_id,amount,phone,urn"
    read = read_csv_batch(_csv("W1,10.00,9876543210,70000000008", header=header))
    assert [problem.view() for problem in read.rejected[0].problems] == [
        {"field": "urn", "reason": "Extra inputs are not permitted", "type": "extra_forbidden"}
    ]


def test_an_order_id_given_twice_takes_the_first_row_and_rejects_the_later_one() -> None:
    read = read_csv_batch(_csv("A1,10.00,9876543210,,,,,", "A1,10.00,9876543210,,,,,"))
    assert [row.line for row in read.rows] == [2]
    assert read.rejected[0].view() == {
        "line": 3,
        "order_id": "A1",
        "errors": [
            {"field": "order_id", "reason": "order_id repeats the row of line 2", "type": "order_id_repeated"}
        ],
    }


def test_a_row_with_several_problems_lists_each() -> None:
    read = read_csv_batch(_csv("A1,0,12,,,never,,"))
    assert [problem.field for problem in read.rejected[0].problems] == ["amount", "phone", "mode"]


@pytest.mark.parametrize(
    ("text", "status", "problem_type"),
    [
        ("", 422, "csv_no_header"),
        (HEADER + "\n", 422, "batch_empty"),
        ("order_id,amount,colour\nA1,10.00,red\n", 422, "csv_unknown_column"),
        ("order_id,amount,phone,phone\nA1,10.00,9876543210,9876543211\n", 422, "csv_repeated_column"),
        ('order_id,amount,phone\n"A1,10.00,9876543210\n', 422, "csv_invalid"),
        (_csv(*(f"A{i},10.00,9876543210,,,,," for i in range(MAX_BATCH_ROWS + 1))), 422, "too_many_rows"),
    ],
)
def test_a_csv_body_that_is_no_batch_is_refused_whole(text: str, status: int, problem_type: str) -> None:
    with pytest.raises(RequestBodyRefusedError) as refused:
        read_csv_batch(text)
    assert (refused.value.status, refused.value.detail[0]["type"]) == (status, problem_type)


def test_exactly_the_row_limit_is_accepted() -> None:
    read = read_csv_batch(_csv(*(f"A{i},10.00,9876543210,,,,," for i in range(MAX_BATCH_ROWS))))
    assert len(read.rows) == MAX_BATCH_ROWS


@pytest.mark.parametrize(
    ("row", "field", "problem_type"),
    [
        ({"order_id": "J1", "amount": 10.5, "payee": {"phone": "9876543210"}}, "amount", "value_error"),
        (
            {"order_id": "J1", "amount": "10.00", "payee": {"phone": "123"}},
            "payee.phone",
            "string_pattern_mismatch",
        ),
        (
            {"order_id": "J1", "amount": "10.00", "payee": {"phone": "9876543210"}, "x": 1},
            "x",
            "extra_forbidden",
        ),
        ({"order_id": "J1", "amount": "10.00", "rail": "bank"}, "rail", "rail_invalid"),
        ("not an object", "row", "model_type"),
    ],
)
def test_a_bad_json_row_is_rejected_by_its_position_and_dotted_field(
    row: Any, field: str, problem_type: str
) -> None:
    read = read_json_batch([{"order_id": "J0", "amount": "10.00", "payee": {"phone": "9876543210"}}, row])
    assert [r.request.order_id for r in read.rows] == ["J0"]
    rejected = read.rejected[0]
    assert (rejected.line, rejected.problems[0].field, rejected.problems[0].type) == (2, field, problem_type)


@pytest.mark.parametrize(
    ("value", "status", "problem_type"),
    [
        ({"order_id": "J1"}, 422, "batch_not_an_array"),
        ([], 422, "batch_empty"),
        ([{}] * (MAX_BATCH_ROWS + 1), 422, "too_many_rows"),
    ],
)
def test_a_json_body_that_is_no_batch_is_refused_whole(value: Any, status: int, problem_type: str) -> None:
    with pytest.raises(RequestBodyRefusedError) as refused:
        read_json_batch(value)
    assert (refused.value.status, refused.value.detail[0]["type"]) == (status, problem_type)
