"""A payout batch's body (`POST /v1/payout-batches`) read into rows, each row validated with the
model of `POST /v1/payouts` (AnyPayoutRequest) and refused on its own.

Two bodies: `text/csv` (a header row, then one payout per record) or `application/json` (an array
of `POST /v1/payouts` bodies). Every row has a line: the CSV line it starts on (the header is
line 1), or its position in the JSON array counting from 1. Problems of the body as a whole (too
many rows, an unknown CSV column, not an array) refuse the body (RequestBodyRefusedError); a
problem of a row rejects that row only.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tijori.payouts.models import RAIL_ERROR_TYPE, AnyPayoutRequest, PayoutRequest, PrepaidPayoutRequest
from tijori.request_body import RequestBodyRefusedError

MAX_BATCH_ROWS = 5_000
# Lambda takes a request payload of at most 6 MB (6,291,456 bytes) with the event around the body;
# API Gateway may hand a body over base64-encoded (4 bytes for 3), and 4 MiB encoded is 5.6 MB.
MAX_BATCH_BODY_BYTES = 4 * 1024 * 1024
CSV_MEDIA_TYPE = "text/csv"

# CSV columns: the request's own fields, and the payee's (one column per identifier, of either rail).
CSV_REQUEST_COLUMNS = (
    "order_id",
    "amount",
    "mode",
    "narration",
    "rail",
    "payee_validation_id",
    "pending_days_limit",
)
CSV_PAYEE_COLUMNS = (
    "phone",
    "email",
    "sso_id",
    "urn",
    "customer_id",
    "customer_mobile",
    "subwallet_id",
    "account_number",
)
CSV_COLUMNS = CSV_REQUEST_COLUMNS + CSV_PAYEE_COLUMNS
_RAIL_TAGS = frozenset({"wallet", "prepaid"})
_WHOLE_NUMBER = re.compile(r"^[0-9]{1,3}$")


@dataclass(frozen=True)
class RowProblem:
    """One refused field of a row: `field` is the CSV column (or the dotted path in a JSON row)."""

    field: str
    reason: str
    type: str

    def view(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason, "type": self.type}


@dataclass(frozen=True)
class RejectedRow:
    line: int
    order_id: str | None
    problems: tuple[RowProblem, ...]

    def view(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "order_id": self.order_id,
            "errors": [problem.view() for problem in self.problems],
        }


@dataclass(frozen=True)
class BatchRow:
    line: int
    request: PayoutRequest | PrepaidPayoutRequest


@dataclass
class ReadBatch:
    """The rows a body holds: valid ones to take in, refused ones with their problems."""

    rows: list[BatchRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


def _body_refused(message: str, msg: str, problem_type: str, key: str = "") -> RequestBodyRefusedError:
    # 422 for too many rows too (413 is the byte limit's): the body is readable, it is no batch.
    return RequestBodyRefusedError(
        HTTPStatus.UNPROCESSABLE_ENTITY, message, problem_type=problem_type, msg=msg, key=key
    )


def _too_many_rows() -> RequestBodyRefusedError:
    return _body_refused(
        "too many rows",
        f"the batch has more than {MAX_BATCH_ROWS} rows; at most {MAX_BATCH_ROWS} are accepted in one"
        " request",
        "too_many_rows",
    )


@functools.cache
def _payout_request() -> TypeAdapter[PayoutRequest | PrepaidPayoutRequest]:
    """Built on the first batch (the models defer their build, see initiate's app.py)."""
    adapter: TypeAdapter[PayoutRequest | PrepaidPayoutRequest] = TypeAdapter(AnyPayoutRequest)
    return adapter


def _problem_path(loc: Sequence[str | int], problem_type: str) -> list[str | int]:
    """The problem's path in the body, without the rail's tag (as POST /v1/payouts answers)."""
    if problem_type == RAIL_ERROR_TYPE:
        return ["rail"]
    if loc and loc[0] in _RAIL_TAGS:
        return list(loc[1:])
    return list(loc)


def _csv_field(path: Sequence[str | int]) -> str:
    """A CSV row's problem named by its column: `payee.phone` is the `phone` column."""
    if len(path) == 2 and path[0] == "payee" and path[1] in CSV_PAYEE_COLUMNS:
        return str(path[1])
    return ".".join(str(part) for part in path) or "row"


def _json_field(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path) or "row"


def _validate(line: int, body: Any, *, csv_columns: bool, read: ReadBatch) -> None:
    order_id = body.get("order_id") if isinstance(body, dict) else None
    order_id = order_id if isinstance(order_id, str) else None
    try:
        request = _payout_request().validate_python(body)
    except ValidationError as error:
        name = _csv_field if csv_columns else _json_field
        problems = []
        for problem in error.errors():
            path = _problem_path(problem["loc"], problem["type"])
            problems.append(RowProblem(field=name(path), reason=problem["msg"], type=problem["type"]))
        read.rejected.append(RejectedRow(line, order_id, tuple(problems)))
        return
    read.rows.append(BatchRow(line, request))


def _refuse_repeated_order_ids(read: ReadBatch) -> ReadBatch:
    """An order id given twice in one body: the first row is taken, each later one rejected (one
    order id is one payout; two rows of it are a mistake in the file, whatever their bodies)."""
    first_line: dict[str, int] = {}
    kept: list[BatchRow] = []
    for row in read.rows:
        seen = first_line.setdefault(row.request.order_id, row.line)
        if seen == row.line:
            kept.append(row)
            continue
        problem = RowProblem("order_id", f"order_id repeats the row of line {seen}", "order_id_repeated")
        read.rejected.append(RejectedRow(row.line, row.request.order_id, (problem,)))
    read.rows = kept
    read.rejected.sort(key=lambda rejected: rejected.line)
    return read


def csv_records(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """(line the record starts on, line it ends on, its cells) of each record, the header first;
    blank lines skipped. Lines are counted as str.splitlines counts them."""
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, strict=True)
    ends_at = 0
    while True:
        starts_at = ends_at + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _body_refused(
                "the CSV is malformed", f"line {reader.line_num}: {error}", "csv_invalid"
            ) from error
        ends_at = reader.line_num
        if cells:
            yield starts_at, ends_at, cells


def _csv_row_body(header: Sequence[str], cells: Sequence[str]) -> tuple[dict[str, Any], list[RowProblem]]:
    """A record as a POST /v1/payouts body: empty cells left out, payee columns under `payee`."""
    body: dict[str, Any] = {}
    payee: dict[str, str] = {}
    problems: list[RowProblem] = []
    for column, cell in zip(header, cells, strict=False):
        if cell == "":
            continue
        if column in CSV_PAYEE_COLUMNS:
            payee[column] = cell
        elif column == "pending_days_limit":
            if _WHOLE_NUMBER.fullmatch(cell):
                body[column] = int(cell)
            else:
                problems.append(RowProblem(column, "must be a whole number of days", "int_parsing"))
        else:
            body[column] = cell
    if payee:
        body["payee"] = payee
    if len(cells) != len(header):
        problems.append(
            RowProblem(
                "row",
                f"the row has {len(cells)} cells; the header names {len(header)} columns",
                "csv_cell_count",
            )
        )
    return body, problems


def read_csv_batch(text: str) -> ReadBatch:
    """The rows of a CSV body (see the module's docstring)."""
    records = csv_records(text.removeprefix("\ufeff"))  # a spreadsheet's byte-order mark
    first = next(records, None)
    if first is None:
        raise _body_refused("the CSV is empty", "the body has no header row", "csv_no_header")
    _, _, header = first
    header = [name.strip() for name in header]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise _body_refused(
            "the CSV header is invalid",
            f"unknown column {unknown[0]!r} in the header (line 1); columns: {', '.join(CSV_COLUMNS)}",
            "csv_unknown_column",
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise _body_refused(
            "the CSV header is invalid",
            f"column {repeated[0]!r} appears twice in the header (line 1)",
            "csv_repeated_column",
        )
    read = ReadBatch()
    count = 0
    for line, _, cells in records:
        count += 1
        if count > MAX_BATCH_ROWS:
            raise _too_many_rows()
        body, problems = _csv_row_body(header, cells)
        if problems:
            order_id = body.get("order_id")
            read.rejected.append(RejectedRow(line, order_id, tuple(problems)))
            continue
        _validate(line, body, csv_columns=True, read=read)
    if count == 0:
        raise _body_refused("the CSV has no rows", "the body has a header and no row", "batch_empty")
    return _refuse_repeated_order_ids(read)


def read_json_batch(value: Any) -> ReadBatch:
    """The rows of a JSON body: an array of POST /v1/payouts bodies."""
    if not isinstance(value, list):
        raise _body_refused(
            "the body is not a batch", "a JSON batch is an array of payout requests", "batch_not_an_array"
        )
    if not value:
        raise _body_refused("the batch has no rows", "the array is empty", "batch_empty")
    if len(value) > MAX_BATCH_ROWS:
        raise _too_many_rows()
    read = ReadBatch()
    for position, body in enumerate(value, start=1):
        _validate(position, body, csv_columns=False, read=read)
    return _refuse_repeated_order_ids(read)
