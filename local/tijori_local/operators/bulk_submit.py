"""`tijori payouts submit FILE.csv`: an operator's payout file through POST /v1/payout-batches.

- The batch id is the client's: `--batch-id`, else derived from the file's bytes, so running the
  command again on the same file is the same batch.
- The file is sent in chunks within the API's limits (rows and bytes, tijori.batches.rows), each
  a CSV of its own under the same batch id. Each acknowledged chunk is recorded in a state file
  next to FILE (`FILE.submit-state.json`): a rerun after an interrupt sends only the chunks not
  acknowledged. A chunk sent and not acknowledged is sent again, which the API takes as a replay
  of each of its rows (one payout per order id), so nothing is paid twice whatever the moment of
  the interrupt.
- `--wait` polls GET /v1/payout-batches/{batch_id} with a progress bar of payouts settled by
  status, then writes `FILE.results.csv`: every row of FILE (rejected ones too, with their errors)
  with its final status, Paytm's transaction id and the reason.

Against AWS (`--stack-name`, or `--api-url` with `--sigv4`) requests are signed with SigV4 from the
operator's AWS credentials (the API's routes use IAM authorisation); against the local runtime
(`--api-url`) they carry `--api-token` as a bearer token when the runtime was started with one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tijori.batches.rows import MAX_BATCH_BODY_BYTES, MAX_BATCH_ROWS, csv_records
from tijori.request_body import RequestBodyRefusedError

FINAL_STATUSES = ("SUCCESS", "FAILED", "REVERSED")
OPEN_STATUSES = ("ACCEPTED", "PROCESSING", "PENDING", "NEEDS_REVIEW")
RESULT_COLUMNS = (
    "line",
    "order_id",
    "status",
    "amount",
    "paytm_txn_id",
    "last_status_code",
    "reason",
)
# A chunk's share of the API's byte limit: room for its header line.
_CHUNK_BYTES = MAX_BATCH_BODY_BYTES - 64 * 1024
# Rows per request by default: the API takes MAX_BATCH_ROWS, but each row is a conditional write,
# and a request must end within API Gateway's 30 s (README, "Bulk payouts": measured rates).
DEFAULT_ROWS_PER_REQUEST = 500
_RETRIES = 5


class SubmitError(Exception):
    """The command cannot go on; the message says why (the state file keeps what was done)."""


@dataclass(frozen=True)
class Record:
    """One row of the file: the line it starts on, and its text as written."""

    line: int
    text: str


@dataclass
class Chunk:
    body: str
    # Line of a row within the chunk's CSV (header = 1) -> its line in the file.
    file_lines: dict[int, int] = field(default_factory=dict)


def read_records(text: str) -> tuple[str, list[Record]]:
    """The header line and the rows, each with the file line it starts on (blank lines skipped),
    lines counted as the API counts them (tijori.batches.rows.csv_records)."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    try:
        records = [
            Record(starts_at, "".join(lines[starts_at - 1 : ends_at]))
            for starts_at, ends_at, _ in csv_records(text)
        ]
    except RequestBodyRefusedError as refused:
        raise SubmitError(f"the file is not CSV as the API reads it: {refused.detail[0]['msg']}") from None
    if not records:
        raise SubmitError("the file is empty: a header row is needed")
    header, *rows = (
        Record(record.line, record.text if record.text.endswith("\n") else record.text + "\n")
        for record in records
    )
    return header.text, rows


def chunks_of(header: str, records: list[Record], *, max_rows: int = DEFAULT_ROWS_PER_REQUEST) -> list[Chunk]:
    """The rows in chunks of at most `max_rows` rows and the API's bytes, header on each."""
    max_rows = min(max_rows, MAX_BATCH_ROWS)
    chunks: list[Chunk] = []
    current: Chunk | None = None
    size = rows = 0
    for record in records:
        record_bytes = len(record.text.encode("utf-8"))
        if current is None or rows >= max_rows or size + record_bytes > _CHUNK_BYTES:
            current = Chunk(body=header)
            chunks.append(current)
            size, rows = len(header.encode("utf-8")), 0
        chunk_line = len(current.body.splitlines()) + 1  # lines as the API counts them
        current.file_lines[chunk_line] = record.line
        current.body += record.text
        size += record_bytes
        rows += 1
    return chunks


def default_batch_id(content: bytes) -> str:
    """The same file, the same batch: a digest of its bytes, within the batch id pattern."""
    return "file-" + hashlib.sha256(content).hexdigest()[:40]


class BatchApi:
    """The merchant API's batch routes over HTTP, signed for AWS or with the local token."""

    def __init__(self, base_url: str, *, token: str | None = None, sigv4_region: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._region = sigv4_region
        # A batch request may take API Gateway's whole 30 s; the local runtime has no such limit.
        self._http = httpx.Client(timeout=300)

    def _headers(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        if self._token is not None:
            return {**headers, "Authorization": f"Bearer {self._token}"}
        if self._region is None:
            return headers
        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise SubmitError("no AWS credentials to sign with (SigV4): configure the AWS CLI's")
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", self._region).add_auth(request)
        return dict(request.headers.items())

    def _call(
        self, method: str, path: str, query: Mapping[str, str], body: bytes, headers: dict[str, str]
    ) -> Any:
        url = f"{self.base_url}{path}?{urlencode(query)}" if query else f"{self.base_url}{path}"
        for attempt in range(_RETRIES):
            try:
                answer = self._http.request(
                    method, url, content=body, headers=self._headers(method, url, body, headers)
                )
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if answer.status_code < 500 and answer.status_code != 429:
                    if answer.status_code >= 400:
                        raise SubmitError(f"{method} {path}: {answer.status_code} {answer.text}")
                    return answer.json()
                problem = f"{answer.status_code} {answer.text[:200]}"
            # Safe to repeat: the batch id and each row's order id make a resubmission a replay.
            print(f"{method} {path}: {problem}; retrying", file=sys.stderr)
            time.sleep(min(2**attempt, 10))
        raise SubmitError(f"{method} {path}: no answer after {_RETRIES} tries: {problem}")

    def submit(self, batch_id: str, csv_body: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._call(
            "POST",
            "/v1/payout-batches",
            {"batch_id": batch_id},
            csv_body.encode("utf-8"),
            {"content-type": "text/csv; charset=utf-8"},
        )
        return answer

    def progress(self, batch_id: str, *, detail: bool = False) -> dict[str, Any]:
        query = {"detail": "true"} if detail else {}
        answer: dict[str, Any] = self._call("GET", f"/v1/payout-batches/{batch_id}", query, b"", {})
        return answer


class SubmitState:
    """What was acknowledged, in `FILE.submit-state.json`: per chunk, its accepted order ids and
    rejected rows (lines of the file). Written whole, atomically, after each acknowledgement."""

    def __init__(self, path: Path, *, batch_id: str, file_sha256: str, rows_per_request: int) -> None:
        self.path = path
        self.identity = {
            "batch_id": batch_id,
            "file_sha256": file_sha256,
            "rows_per_request": rows_per_request,
        }
        self.batch_id = batch_id
        self.acknowledged: dict[str, dict[str, Any]] = {}
        if path.exists():
            saved = json.loads(path.read_text(encoding="utf-8"))
            # Another file, batch or chunking: its chunks are not these (all are sent again, which
            # the API answers as replays of what it has).
            if all(saved.get(name) == value for name, value in self.identity.items()):
                self.acknowledged = saved.get("acknowledged", {})

    def record(self, index: int, acknowledgement: dict[str, Any]) -> None:
        self.acknowledged[str(index)] = acknowledgement
        saved = {**self.identity, "acknowledged": self.acknowledged}
        scratch = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        scratch.write_text(json.dumps(saved, indent=1), encoding="utf-8")
        os.replace(scratch, self.path)

    def accepted(self) -> list[str]:
        return [order_id for ack in self.acknowledged.values() for order_id in ack["accepted"]]

    def rejected(self) -> list[dict[str, Any]]:
        return [row for ack in self.acknowledged.values() for row in ack["rejected"]]


def _acknowledgement(answer: dict[str, Any], chunk: Chunk) -> dict[str, Any]:
    rejected = [
        {**row, "line": chunk.file_lines.get(int(row["line"]), row["line"])}
        for row in answer["rejected"]["rows"]
    ]
    return {
        "accepted": answer["accepted"]["order_ids"],
        "new": answer["accepted"]["new"],
        "rejected": rejected,
    }


def submit_file(api: BatchApi, state: SubmitState, chunks: list[Chunk], console: Console) -> None:
    for index, chunk in enumerate(chunks):
        if str(index) in state.acknowledged:
            console.print(f"chunk {index + 1}/{len(chunks)}: acknowledged before, not sent again")
            continue
        answer = api.submit(state.batch_id, chunk.body)
        state.record(index, _acknowledgement(answer, chunk))
        console.print(
            f"chunk {index + 1}/{len(chunks)}: {answer['accepted']['count']} accepted"
            f" ({answer['accepted']['new']} new), {answer['rejected']['count']} rejected"
        )


def _describe(counts: Mapping[str, int]) -> str:
    return "  ".join(f"{status} {counts.get(status, 0)}" for status in (*FINAL_STATUSES, *OPEN_STATUSES))


def wait_until_settled(
    api: BatchApi, batch_id: str, console: Console, *, poll_seconds: float, timeout: float | None
) -> dict[str, Any]:
    """Poll the batch until every payout is final (or `timeout`), showing a bar of the payouts
    settled; the last progress, with each payout's detail."""
    started = time.monotonic()
    with Progress(
        TextColumn("[bold]settled"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("", total=None)
        while True:
            progress = api.progress(batch_id)
            counts = progress["count_by_status"]
            settled = sum(counts.get(status, 0) for status in FINAL_STATUSES)
            bar.update(task, total=progress["payouts"], completed=settled, description=_describe(counts))
            if progress["complete"]:
                break
            if timeout is not None and time.monotonic() - started > timeout:
                console.print(
                    f"still open after {timeout:.0f} s: {len(progress['open_order_ids'])} payout(s)"
                )
                break
            time.sleep(poll_seconds)
    return api.progress(batch_id, detail=True)


def _reason(row: Mapping[str, Any]) -> str:
    return "; ".join(f"{error['field']}: {error['reason']}" for error in row["errors"])


def write_results(
    path: Path, records: list[Record], header: str, state: SubmitState, detail: dict[str, Any]
) -> int:
    """FILE.results.csv: every row of the file in file order; the count of rows written."""
    payouts = {payout["order_id"]: payout for payout in detail.get("payouts_detail") or []}
    rejected = {int(row["line"]): row for row in state.rejected()}
    columns = next(csv.reader([header]))
    order_id_at = columns.index("order_id") if "order_id" in columns else None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for record in records:
        cells = next(csv.reader(io.StringIO(record.text)), [])
        order_id = cells[order_id_at] if order_id_at is not None and order_id_at < len(cells) else ""
        if record.line in rejected:
            row = rejected[record.line]
            writer.writerow([record.line, order_id, "REJECTED", "", "", "", _reason(row)])
            continue
        payout = payouts.get(order_id)
        if payout is None:
            writer.writerow([record.line, order_id, "UNKNOWN", "", "", "", "not found in the batch"])
            continue
        writer.writerow(
            [
                record.line,
                order_id,
                payout["status"],
                payout["amount"],
                payout["paytm_txn_id"] or "",
                payout["last_status_code"] or "",
                payout["last_status_message"] or "",
            ]
        )
    scratch = path.with_name(path.name + f".{os.getpid()}.tmp")
    scratch.write_text(out.getvalue(), encoding="utf-8")
    os.replace(scratch, path)
    return len(records)


def _api_url_of_stack(stack_name: str) -> tuple[str, str]:
    import boto3

    cloudformation = boto3.client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    if "ApiUrl" not in outputs:
        raise SubmitError(f"stack {stack_name!r} has no ApiUrl output")
    return str(outputs["ApiUrl"]), str(cloudformation.meta.region_name)


def _api_for(api_url: str | None, stack_name: str | None, token: str | None, sigv4: bool) -> BatchApi:
    if stack_name is not None:
        url, region = _api_url_of_stack(stack_name)
        return BatchApi(url, sigv4_region=region)
    assert api_url is not None
    if sigv4:
        import boto3

        return BatchApi(api_url, sigv4_region=boto3.Session().region_name or "ap-south-1")
    return BatchApi(api_url, token=token)


def results_path(file: Path) -> Path:
    return file.with_name(file.name.removesuffix(".csv") + ".results.csv")


def state_path(file: Path) -> Path:
    return file.with_name(file.name + ".submit-state.json")


def run(
    file: Path,
    *,
    api_url: str | None,
    stack_name: str | None,
    api_token: str | None = None,
    sigv4: bool = False,
    batch_id: str | None = None,
    wait: bool = False,
    poll_seconds: float = 2.0,
    timeout: float | None = None,
    rows_per_request: int = DEFAULT_ROWS_PER_REQUEST,
    console: Console | None = None,
) -> int:
    """The command; its exit code: 0 every row accepted (and, with --wait, settled), 1 some row
    rejected or still open at the timeout, 2 the command could not go on."""
    console = console or Console(stderr=True)
    try:
        content = file.read_bytes()
        header, records = read_records(content.decode("utf-8"))
        chunks = chunks_of(header, records, max_rows=rows_per_request)
        batch = batch_id or default_batch_id(content)
        state = SubmitState(
            state_path(file),
            batch_id=batch,
            file_sha256=hashlib.sha256(content).hexdigest(),
            rows_per_request=rows_per_request,
        )
        api = _api_for(api_url, stack_name, api_token, sigv4)
        console.print(f"batch {batch}: {len(records)} row(s) in {len(chunks)} chunk(s)")
        submit_file(api, state, chunks, console)
        rejected = len(state.rejected())
        console.print(f"accepted {len(state.accepted())} row(s), rejected {rejected}")
        if not wait:
            return 1 if rejected else 0
        if not state.accepted():
            detail: dict[str, Any] = {"payouts_detail": [], "complete": True}
        else:
            detail = wait_until_settled(api, batch, console, poll_seconds=poll_seconds, timeout=timeout)
        written = write_results(results_path(file), records, header, state, detail)
        console.print(f"wrote {results_path(file)} ({written} rows)")
        return 1 if rejected or not detail["complete"] else 0
    except (SubmitError, UnicodeDecodeError, OSError) as error:
        console.print(f"tijori payouts submit: {error}")
        return 2
