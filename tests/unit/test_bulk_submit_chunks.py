"""`tijori payouts submit` splits a payout file into requests and maps each request's row lines
back to the file's (tijori_local.operators.bulk_submit)."""

from __future__ import annotations

import pytest

from tijori.batches.rows import read_csv_batch
from tijori_local.operators.bulk_submit import SubmitError, chunks_of, default_batch_id, read_records

HEADER = "order_id,amount,phone,narration\n"


@pytest.mark.parametrize(
    ("text", "max_rows", "chunk_lines"),
    [
        # Two rows a request: the header on each, the rows' file lines kept.
        (HEADER + "A1,10.00,9876543210,x\nA2,10.00,9876543210,x\nA3,10.00,9876543210,x\n", 2, [[2, 3], [4]]),
        # Blank lines are not rows, and lines after them keep their numbers.
        (HEADER + "A1,10.00,9876543210,x\n\n\nA2,10.00,9876543210,x\n", 5, [[2, 5]]),
        # A quoted cell over two lines is one row; the next starts two lines later.
        (HEADER + 'A1,10.00,9876543210,"a\nb"\nA2,10.00,9876543210,x\n', 1, [[2], [4]]),
        # No line end after the last row.
        (HEADER + "A1,10.00,9876543210,x", 5, [[2]]),
    ],
)
def test_requests_carry_the_header_and_map_their_lines_to_the_file(
    text: str, max_rows: int, chunk_lines: list[list[int]]
) -> None:
    header, records = read_records(text)
    chunks = chunks_of(header, records, max_rows=max_rows)
    assert [list(chunk.file_lines.values()) for chunk in chunks] == chunk_lines
    for chunk in chunks:
        assert chunk.body.startswith(HEADER)
        # The API numbers each request's rows as the chunk maps them.
        read = read_csv_batch(chunk.body)
        api_lines = sorted([row.line for row in read.rows] + [row.line for row in read.rejected])
        assert sorted(chunk.file_lines) == api_lines


def test_the_default_batch_id_is_the_same_for_the_same_bytes_and_fits_the_pattern() -> None:
    first = default_batch_id(b"order_id,amount\n")
    assert first == default_batch_id(b"order_id,amount\n")
    assert first != default_batch_id(b"order_id,amount\r\n")
    assert len(first) <= 50


@pytest.mark.parametrize("text", ["", "\n\n", 'order_id,amount\n"A1,10.00\n'])
def test_a_file_the_api_could_not_read_stops_the_command_naming_why(text: str) -> None:
    with pytest.raises(SubmitError):
        read_records(text)
