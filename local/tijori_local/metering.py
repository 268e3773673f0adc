"""What a run of the local runtime would have been billed for in AWS, counted from the run itself.

Counters, all named `<service>.<resource>.<unit>` (resources by template logical id):

- `apigw.http.requests`: requests the HTTP API served (a route matched), in 512 KB billing units.
- `lambda.<Function>.invocations`, `lambda.<Function>.gb_seconds`: each handler invocation, its
  wall time rounded up to 1 ms, times the function's MemorySize from the template.
- `logs.<Function>.bytes`: what the handler wrote to stdout/stderr during its invocations (the
  Powertools Logger's JSON lines and Metrics' EMF lines: CloudWatch Logs ingests these).
- `requests.<service>.<Action>`: every AWS API request the moto server answered (SQS, Secrets
  Manager, KMS, Step Functions, DynamoDB, Lambda), whoever made it: the handlers, the SQS pollers
  standing in for Lambda's event source mapping, moto's Step Functions. `sqs.requests_64kb`: SQS
  requests in the 64 KB chunks SQS bills (empty receives apart: `requests.sqs.ReceiveMessage.
  empty`). Clients made by `unmetered_client` (a harness looking
  at state) are not counted, nor the DynamoDB capacity their requests use.
- `dynamodb.<Table>.wru` / `.rru`, `dynamodb.<Table>.<Index>.wru` / `.rru`: write and read
  request units from the items' sizes (DynamoDB's size rules), every index write included.
- `states.<StateMachine>.transitions` (STANDARD), `.executions`, `.express_gb_seconds` (EXPRESS:
  duration in 100 ms steps x 64 MB): from moto's executions and their histories.
- `schedule.<Target>.<Event>.firings`: schedule firings (EventBridge rule or Scheduler).
- `runs.<Function>.count`, `.idle_count`, `.idle_billed_ms`, `.idle_gb_seconds`: the scheduled
  runs among a function's invocations and the idle ones' durations, when a harness sets
  `Meter.scheduled_run_idle` (not priced: they say how to split the `lambda.*` figures).
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import boto3
from botocore.config import Config

from tijori_local.moto_seams import (
    DynamoRead,
    DynamoWrite,
    IndexShape,
    TableShape,
    counted_api_requests,
    dynamodb_capacity,
    project,
    state_machine_executions,
)

UNMETERED_AGENT = "tijori-unmetered"
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
SQS_CHUNK_BYTES = 64 * 1024
API_GATEWAY_CHUNK_BYTES = 512 * 1024
EXPRESS_STEP_MS = 100
EXPRESS_MEMORY_MB = 64


# ---- DynamoDB item sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
# CapacityUnitCalculations.html) -----------------------------------------------------------------
def _number_size(text: str) -> int:
    """About (significant digits / 2) + 1 bytes."""
    digits = text.lstrip("-+").replace(".", "").split("e")[0].split("E")[0].strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """Size of one attribute value in wire format ({"S": "..."}, {"N": "12"}, {"M": {...}}, ...)."""
    (kind, content), *_ = value.items()
    if kind == "S":
        return len(str(content).encode("utf-8"))
    if kind == "N":
        return _number_size(str(content))
    if kind == "B":
        return len(content) if isinstance(content, bytes) else math.ceil(len(str(content)) * 3 / 4)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(item).encode("utf-8")) for item in content)
    if kind == "NS":
        return sum(_number_size(str(item)) for item in content)
    if kind == "BS":
        return sum(math.ceil(len(str(item)) * 3 / 4) for item in content)
    if kind == "L":
        return 3 + sum(1 + value_size(item) for item in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + value_size(item) for name, item in content.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: dict[str, Any] | None) -> int:
    """Attribute name lengths plus value sizes; 0 for no item."""
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(write: DynamoWrite) -> dict[str | None, int]:
    """Write request units by index (None: the table itself) for one PutItem/UpdateItem/DeleteItem.

    The table: ceil(max(size before, size after) / 1 KB), at least 1, doubled in a transaction. A
    refused write (condition failed) consumes the table's units and writes no index. An index:
    an entry appearing is one put, one disappearing one delete, a changed index key a delete and
    a put, a changed projection one put; each ceil(entry size / 1 KB).
    """
    size = max(item_size(write.before), item_size(write.after))
    factor = 2 if write.transactional else 1
    units: dict[str | None, int] = {None: max(1, math.ceil(size / WRITE_UNIT_BYTES)) * factor}
    if write.failed:
        return units
    for index in write.table.indexes:
        count = index_write_units(index, write.table, write.before, write.after) * factor
        if count:
            units[index.name] = count
    return units


def index_write_units(
    index: IndexShape, table: TableShape, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> int:
    old = project(before, index, table) if before else None
    new = project(after, index, table) if after else None

    def entry_units(entry: dict[str, Any]) -> int:
        return max(1, math.ceil(item_size(entry) / WRITE_UNIT_BYTES))

    if old is None and new is None:
        return 0
    if old is None:
        assert new is not None
        return entry_units(new)
    if new is None:
        return entry_units(old)
    if any(old.get(name) != new.get(name) for name in index.key_attributes):
        return entry_units(old) + entry_units(new)
    return entry_units(new) if old != new else 0


def read_units(read: DynamoRead) -> float:
    """GetItem/BatchGetItem: ceil(size / 4 KB) per item (at least 1); Query/Scan: ceil(sum / 4 KB)
    (at least 1); half of that when eventually consistent."""
    if read.per_item:
        units = sum(max(1, math.ceil(item_size(item) / READ_UNIT_BYTES)) for item in read.items)
    else:
        units = max(1, math.ceil(sum(item_size(item) for item in read.items) / READ_UNIT_BYTES))
    return units if read.consistent else units / 2


# ---- the meter -----------------------------------------------------------------------------------
class _Invocation(threading.local):
    function: str | None = None


class InvocationCall:
    """One invocation being metered; the host sets `result` to what the handler returned."""

    def __init__(self, event: Any) -> None:
        self.event = event
        self.result: Any = None


# Given an invocation's event and result: None if it is not a scheduled run, else whether the run
# found nothing to do (an idle run, the fixed cost of the schedule).
ScheduledRunClassifier = Callable[[Any, Any], bool | None]


class _CountingStream(io.TextIOBase):
    """Stands in for sys.stdout/sys.stderr: passes everything on, counting each function's bytes."""

    def __init__(self, target: TextIO, meter: Meter) -> None:
        self._target = target
        self._meter = meter

    def _open_target(self) -> TextIO:
        # A logging handler created while this stood in for stdout keeps it after the run (the
        # Powertools Logger is process-wide); once the run's own target is closed, write to the
        # process's real stream rather than fail every later log line.
        if getattr(self._target, "closed", False):
            return sys.__stdout__ or self._target
        return self._target

    def write(self, text: str) -> int:
        function = self._meter.current.function
        if function is not None:
            self._meter.add(f"logs.{function}.bytes", len(text.encode("utf-8", "replace")))
        return self._open_target().write(text)

    def flush(self) -> None:
        target = self._open_target()
        if not getattr(target, "closed", False):
            target.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", "utf-8")


class Meter:
    """Thread-safe counters, and the seams that feed them (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self.current = _Invocation()
        self.table_ids: dict[str, str] = {}  # physical table name -> logical id
        self.state_machines: dict[str, tuple[str, str]] = {}  # ARN -> (logical id, Type)
        self.schedules: dict[str, dict[str, str]] = {}  # counter prefix -> expression, event type
        self.account_region: tuple[str, str] | None = None
        # Set by a harness that needs scheduled runs' durations apart (runs.<Function>.*).
        self.scheduled_run_idle: ScheduledRunClassifier | None = None

    def add(self, name: str, amount: float = 1) -> None:
        with self._lock:
            self._counts[name] += amount  # type: ignore[assignment]

    # ---- what the runtime reports --------------------------------------------------------------
    @contextlib.contextmanager
    def invocation(self, function: str, memory_mb: int, event: Any = None) -> Iterator[InvocationCall]:
        previous = self.current.function
        self.current.function = function
        call = InvocationCall(event)
        started = time.perf_counter()
        try:
            yield call
        finally:
            billed_ms = max(1, math.ceil((time.perf_counter() - started) * 1000))
            gb_seconds = billed_ms / 1000 * memory_mb / 1024
            self.current.function = previous
            self.add(f"lambda.{function}.invocations")
            self.add(f"lambda.{function}.billed_ms", billed_ms)
            self.add(f"lambda.{function}.gb_seconds", gb_seconds)
            self._count_scheduled_run(function, call, billed_ms, gb_seconds)

    def _count_scheduled_run(
        self, function: str, call: InvocationCall, billed_ms: int, gb_seconds: float
    ) -> None:
        """`runs.<Function>.count`, and for idle runs `.idle_count`, `.idle_billed_ms` and
        `.idle_gb_seconds`: an idle run's duration as measured under the same load as the runs that
        did work, so that what a run's work adds can be told from what the run costs anyway."""
        if self.scheduled_run_idle is None or call.result is None:
            return
        idle = self.scheduled_run_idle(call.event, call.result)
        if idle is None:
            return
        self.add(f"runs.{function}.count")
        if idle:
            self.add(f"runs.{function}.idle_count")
            self.add(f"runs.{function}.idle_billed_ms", billed_ms)
            self.add(f"runs.{function}.idle_gb_seconds", gb_seconds)

    def http_request(self, body_bytes: int) -> None:
        self.add("apigw.http.requests", max(1, math.ceil(body_bytes / API_GATEWAY_CHUNK_BYTES)))

    def schedule_fired(self, target: str, event: str, *, expression: str, event_type: str) -> None:
        prefix = f"schedule.{target}.{event}"
        self.schedules.setdefault(prefix, {"expression": expression, "type": event_type})
        self.add(f"{prefix}.firings")

    def api_request(self, service: str, action: str, body_bytes: int, user_agent: str, answer: str) -> None:
        if UNMETERED_AGENT in user_agent:
            return
        if service == "sqs" and action == "ReceiveMessage" and "ReceiptHandle" not in answer:
            # An empty receive: Lambda's event source pollers make these whether or not anything
            # happens (a fixed monthly cost in the model), and the local pollers' 1 s waits are
            # not AWS's 20 s long polls, so their number says nothing about AWS.
            self.add("requests.sqs.ReceiveMessage.empty")
            return
        self.add(f"requests.{service}.{action}")
        if service == "sqs":
            self.add("sqs.requests_64kb", max(1, math.ceil(body_bytes / SQS_CHUNK_BYTES)))

    def dynamodb_write(self, write: DynamoWrite) -> None:
        if UNMETERED_AGENT in write.user_agent:
            return
        table = self.table_ids.get(write.table.name, write.table.name)
        for index, units in write_units(write).items():
            self.add(f"dynamodb.{table}.wru" if index is None else f"dynamodb.{table}.{index}.wru", units)

    def dynamodb_read(self, read: DynamoRead) -> None:
        if UNMETERED_AGENT in read.user_agent:
            return
        table = self.table_ids.get(read.table.name, read.table.name)
        name = f"dynamodb.{table}.rru" if read.index is None else f"dynamodb.{table}.{read.index}.rru"
        self.add(name, read_units(read))

    # ---- installing ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """The moto seams and the stdout/stderr counters, for as long as the runtime runs."""
        with contextlib.ExitStack() as stack:
            stack.enter_context(counted_api_requests(self.api_request))
            stack.enter_context(dynamodb_capacity(self.dynamodb_write, self.dynamodb_read))
            saved = sys.stdout, sys.stderr
            sys.stdout = _CountingStream(sys.stdout, self)
            sys.stderr = _CountingStream(sys.stderr, self)
            try:
                yield
            finally:
                sys.stdout, sys.stderr = saved

    # ---- reading ---------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, float]:
        """Every counter now, Step Functions included (read from moto's executions)."""
        with self._lock:
            counts: dict[str, float] = dict(self._counts)
        if self.account_region is not None:
            for record in state_machine_executions(*self.account_region):
                logical_id, machine_type = self.state_machines.get(
                    record.state_machine_arn, (record.state_machine_arn.rsplit(":", 1)[-1], "STANDARD")
                )
                prefix = f"states.{logical_id}"
                counts[f"{prefix}.executions"] = counts.get(f"{prefix}.executions", 0) + 1
                if machine_type == "EXPRESS":
                    name = f"{prefix}.express_executions"
                    counts[name] = counts.get(name, 0) + 1
                    if record.stop is not None:
                        ms = (record.stop - record.start).total_seconds() * 1000
                        billed = max(1, math.ceil(ms / EXPRESS_STEP_MS)) * EXPRESS_STEP_MS
                        name = f"{prefix}.express_gb_seconds"
                        counts[name] = counts.get(name, 0) + billed / 1000 * EXPRESS_MEMORY_MB / 1024
                else:
                    name = f"{prefix}.transitions"
                    counts[name] = counts.get(name, 0) + record.states_entered
        return counts


def difference(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    """Counts between two snapshots (only what changed)."""
    return {
        name: after[name] - before.get(name, 0)
        for name in sorted(after)
        if after[name] - before.get(name, 0) != 0
    }


def unmetered_client(service: str, *, endpoint_url: str, region: str) -> Any:
    """A client whose requests the meter ignores: for a harness reading state, not for Tijori."""
    config = Config(user_agent_extra=UNMETERED_AGENT)
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=config)
