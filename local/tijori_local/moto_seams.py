"""The private moto 5.2.5 behaviours the local runtime relies on, in one place.

moto is pinned exactly; `tests/local/test_moto_canary.py` pins each seam below, so an upgrade
that moves or changes one fails loudly there rather than quietly here.

1. With `lambda.use_docker = false`, every Lambda invoke that reaches moto (Step Functions
   `lambda:invoke` tasks, handler-made invokes) lands in `LambdaSimpleBackend.invoke(self,
   function_name, qualifier, body, headers, response_headers)`. Replacing it routes invokes to
   the real handlers; an error is reported as Lambda does: `x-amz-function-error: Unhandled` and
   `{"errorType", "errorMessage"}`, so Retry/Catch on error names work.
2. Step Functions Wait states sleep in `WaitFunction._wait_interval(self, env, wait_seconds)` on
   `env.program_state_event`; replacing it waits until the local runtime's simulated clock has
   moved `wait_seconds` on (so time compression and clock advances both end it), in short real
   slices on the same event, so a stopped execution still ends its wait at once.
3. moto's DynamoDB evaluates a write's condition and applies the write with no lock, so two
   concurrent conditional writes can both pass (two deliveries both claiming one payout).
   DynamoDB makes each conditional write atomic, and Tijori relies on it: `atomic_dynamodb_writes`
   serialises `DynamoDBBackend.put_item/update_item/delete_item/transact_write_items` on one lock.
4. moto executes state machines only when `stepfunctions.execute_state_machine` is set in its
   user config (`moto_api_backend.set_config`).
5. Every request the moto server answers goes through `BaseResponse.call_action(self)`, where
   `self.boto3_service_name`, `self._get_action()`, `self.body` and `self.headers` say what it
   was: `counted_api_requests` reports each one (the metering counts AWS API requests there).
6. DynamoDB capacity: `dynamodb_capacity` reports each `DynamoDBBackend.put_item/update_item/
   delete_item` (first two arguments: table name, item or key) with the item before and after,
   taken under the write lock of (3), with the table's key attributes and its indexes
   (`Table.indexes + Table.global_indexes`: `name`, `schema_key_attrs`, `projection`); each
   `DynamoDBBackend.query/scan` with what it returned; `DynamoHandler.get_item/batch_get_item`
   with the items the request names (`self.body`). A write inside `transact_write_items` is
   reported as transactional.
7. Step Functions executions (`stepfunctions_parser_backends[account][region].state_machines`,
   each `.executions` with `start_date`, `stop_date` and a history of events whose types end in
   `StateEntered`): `state_machine_executions` lists them for the metering.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.responses import BaseResponse
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.moto_api._internal.models import moto_api_backend
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

LOG = logging.getLogger(__name__)

# (function name or ARN, payload bytes) -> the handler's result, JSON-serialisable.
InvokeRouter = Callable[[str, bytes], Any]


class LambdaFunctionError(Exception):
    """Raised by a router for an error the function itself reports (errorType given)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def configure_moto() -> None:
    moto_api_backend.set_config(
        {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    )


@contextmanager
def routed_lambda_invokes(router: InvokeRouter) -> Iterator[None]:
    original = LambdaSimpleBackend.invoke

    def invoke(
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        payload = body if isinstance(body, bytes) else str(body or "").encode("utf-8")
        try:
            result = router(function_name, payload)
        except Exception as error:  # the function failed: report it as Lambda does
            response_headers["x-amz-function-error"] = "Unhandled"
            error_type = error.error_type if isinstance(error, LambdaFunctionError) else type(error).__name__
            return json.dumps({"errorType": error_type, "errorMessage": str(error)}).encode("utf-8")
        return json.dumps(result).encode("utf-8")

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    try:
        yield
    finally:
        LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]


class SimulatedClock(Protocol):
    def timestamp(self) -> float: ...

    def real_seconds_for(self, simulated_seconds: float) -> float: ...


_WAIT_SLICE_SECONDS = 0.25


@contextmanager
def clock_driven_wait_states(clock: SimulatedClock) -> Iterator[None]:
    original = WaitFunction._wait_interval

    def wait_interval(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        target = clock.timestamp() + wait_seconds
        while (remaining := target - clock.timestamp()) > 0:
            # The event is set when the execution stops: then stop waiting, as the original does.
            if env.program_state_event.wait(min(_WAIT_SLICE_SECONDS, clock.real_seconds_for(remaining))):
                return

    WaitFunction._wait_interval = wait_interval  # type: ignore[method-assign]
    try:
        yield
    finally:
        WaitFunction._wait_interval = original  # type: ignore[method-assign]


_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_dynamodb_write_lock = threading.RLock()


@contextmanager
def atomic_dynamodb_writes() -> Iterator[None]:
    originals = {name: getattr(DynamoDBBackend, name) for name in _DYNAMODB_WRITES}

    def serialised(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def write(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
            with _dynamodb_write_lock:
                return original(self, *args, **kwargs)

        return write

    for name, original in originals.items():
        setattr(DynamoDBBackend, name, serialised(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)


# ---- 5. every API request the moto server answers -----------------------------------------------
# (service, action, request body bytes, user agent, response body)
ApiRequestListener = Callable[[str, str, int, str, str], None]
# The User-Agent of the request this thread is answering, so that what the request does deeper in
# moto (DynamoDB capacity, seam 6) can be told apart by who asked.
_current_request = threading.local()


def current_user_agent() -> str:
    """The User-Agent of the API request being answered on this thread ("" outside one)."""
    return str(getattr(_current_request, "user_agent", ""))


@contextmanager
def counted_api_requests(listener: ApiRequestListener) -> Iterator[None]:
    original = BaseResponse.call_action

    def call_action(self: BaseResponse) -> Any:
        agent = str(self.headers.get("User-Agent", "")) if self.headers else ""
        outer = current_user_agent()
        _current_request.user_agent = agent
        try:
            result = original(self)
        finally:
            _current_request.user_agent = outer
        try:
            body = self.body
            size = len(body.encode("utf-8") if isinstance(body, str) else body or b"")
            answer = result[2] if isinstance(result, tuple) and len(result) == 3 else ""
            answer = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
            listener(self.boto3_service_name, self._get_action(), size, agent, answer)
        except Exception:  # metering must never fail a request
            LOG.debug("could not meter a request", exc_info=True)
        return result

    BaseResponse.call_action = call_action  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseResponse.call_action = original  # type: ignore[method-assign]


# ---- 6. DynamoDB capacity -----------------------------------------------------------------------
@dataclass(frozen=True)
class IndexShape:
    name: str
    key_attributes: tuple[str, ...]
    projection_type: str  # ALL, KEYS_ONLY or INCLUDE
    non_key_attributes: tuple[str, ...]


@dataclass(frozen=True)
class TableShape:
    name: str
    key_attributes: tuple[str, ...]
    indexes: tuple[IndexShape, ...]


@dataclass(frozen=True)
class DynamoWrite:
    table: TableShape
    before: dict[str, Any] | None  # the item in wire format ({"S": ...}), None if absent
    after: dict[str, Any] | None
    failed: bool  # refused (a condition failed): units for the item read, nothing written
    transactional: bool
    user_agent: str = ""  # of the API request that wrote (current_user_agent)


@dataclass(frozen=True)
class DynamoRead:
    table: TableShape
    index: str | None
    items: tuple[dict[str, Any], ...]  # what was read, in wire format (index entries for an index)
    consistent: bool
    per_item: bool  # GetItem/BatchGetItem: each item rounded up on its own; Query/Scan: the sum
    user_agent: str = ""  # of the API request that read (current_user_agent)


WriteListener = Callable[[DynamoWrite], None]
ReadListener = Callable[[DynamoRead], None]
_in_transaction = threading.local()


def _table_shape(table: Any) -> TableShape:
    indexes = []
    for index in list(table.indexes) + list(table.global_indexes):
        projection = index.projection or {}
        indexes.append(
            IndexShape(
                name=index.name,
                key_attributes=tuple(index.schema_key_attrs),
                projection_type=str(projection.get("ProjectionType", "ALL")),
                non_key_attributes=tuple(projection.get("NonKeyAttributes", [])),
            )
        )
    return TableShape(table.name, tuple(table.table_key_attrs), tuple(indexes))


def _wire(item: Any) -> dict[str, Any] | None:
    if item is None:
        return None
    attributes: dict[str, Any] = json.loads(json.dumps(item.to_json()["Attributes"]))
    return attributes


def _stored(backend: DynamoDBBackend, table: Any, key: dict[str, Any]) -> dict[str, Any] | None:
    try:
        keys = {name: key[name] for name in table.table_key_attrs}
        hash_key, range_key = backend.get_keys_value(table, keys)
        return _wire(table.get_item(hash_key, range_key))
    except Exception:
        return None


@contextmanager
def dynamodb_capacity(on_write: WriteListener, on_read: ReadListener) -> Iterator[None]:
    backend_originals = {
        name: getattr(DynamoDBBackend, name)
        for name in ("put_item", "update_item", "delete_item", "transact_write_items", "query", "scan")
    }
    handler_originals = {name: getattr(DynamoHandler, name) for name in ("get_item", "batch_get_item")}

    def metered_write(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def write(self: DynamoDBBackend, table_name: str, key_or_item: Any, *args: Any, **kwargs: Any) -> Any:
            with _dynamodb_write_lock:
                try:
                    table = self.get_table(table_name)
                    shape = _table_shape(table)
                    before = _stored(self, table, key_or_item)
                except Exception:
                    return original(self, table_name, key_or_item, *args, **kwargs)
                transactional = bool(getattr(_in_transaction, "active", False))
                try:
                    result = original(self, table_name, key_or_item, *args, **kwargs)
                except Exception:
                    on_write(DynamoWrite(shape, before, before, True, transactional, current_user_agent()))
                    raise
                on_write(
                    DynamoWrite(
                        shape,
                        before,
                        _stored(self, table, key_or_item),
                        False,
                        transactional,
                        current_user_agent(),
                    )
                )
                return result

        return write

    def transact(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _dynamodb_write_lock:
            _in_transaction.active = True
            try:
                return backend_originals["transact_write_items"](self, *args, **kwargs)
            finally:
                _in_transaction.active = False

    def metered_read(name: str) -> Callable[..., Any]:
        original = backend_originals[name]
        import inspect

        signature = inspect.signature(original)

        @functools.wraps(original)
        def read(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            try:
                bound = signature.bind(self, *args, **kwargs).arguments
                table = self.get_table(bound["table_name"])
                shape = _table_shape(table)
                index_name = bound.get("index_name")
                index = next((i for i in shape.indexes if i.name == index_name), None)
                items: list[dict[str, Any]] = []
                for item in result[0]:
                    whole = _stored(self, table, item.to_json()["Attributes"]) or _wire(item) or {}
                    entry = whole if index is None else project(whole, index, shape)
                    items.append(entry or {})
                consistent = bool(bound.get("consistent_read"))
                on_read(DynamoRead(shape, index_name, tuple(items), consistent, False, current_user_agent()))
            except Exception:
                LOG.debug("could not meter a %s", name, exc_info=True)
            return result

        return read

    def get_item(self: DynamoHandler) -> Any:
        result = handler_originals["get_item"](self)
        try:
            table = self.dynamodb_backend.get_table(self.body["TableName"])
            item = _stored(self.dynamodb_backend, table, self.body["Key"])
            consistent = bool(self.body.get("ConsistentRead", False))
            shape = _table_shape(table)
            on_read(DynamoRead(shape, None, (item or {},), consistent, True, current_user_agent()))
        except Exception:
            LOG.debug("could not meter a read", exc_info=True)
        return result

    def batch_get_item(self: DynamoHandler) -> Any:
        result = handler_originals["batch_get_item"](self)
        try:
            for table_name, request in self.body["RequestItems"].items():
                table = self.dynamodb_backend.get_table(table_name)
                items = tuple(_stored(self.dynamodb_backend, table, key) or {} for key in request["Keys"])
                consistent = bool(request.get("ConsistentRead", False))
                on_read(DynamoRead(_table_shape(table), None, items, consistent, True, current_user_agent()))
        except Exception:
            LOG.debug("could not meter a read", exc_info=True)
        return result

    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, metered_write(backend_originals[name]))
    DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
    DynamoDBBackend.query = metered_read("query")  # type: ignore[method-assign]
    DynamoDBBackend.scan = metered_read("scan")  # type: ignore[method-assign]
    DynamoHandler.get_item = get_item  # type: ignore[method-assign]
    DynamoHandler.batch_get_item = batch_get_item  # type: ignore[method-assign]
    try:
        yield
    finally:
        for name, original in backend_originals.items():
            setattr(DynamoDBBackend, name, original)
        for name, original in handler_originals.items():
            setattr(DynamoHandler, name, original)


def project(item: dict[str, Any], index: IndexShape, table: TableShape) -> dict[str, Any] | None:
    """The item's entry in `index`, or None when the item lacks an index key (a sparse index)."""
    if any(name not in item for name in index.key_attributes):
        return None
    if index.projection_type == "ALL":
        return dict(item)
    keep = set(index.key_attributes) | set(table.key_attributes)
    if index.projection_type == "INCLUDE":
        keep |= set(index.non_key_attributes)
    return {name: value for name, value in item.items() if name in keep}


# ---- 7. Step Functions executions ---------------------------------------------------------------
@dataclass(frozen=True)
class ExecutionRecord:
    state_machine_arn: str
    execution_arn: str
    start: datetime
    stop: datetime | None
    states_entered: int


def state_machine_executions(account_id: str, region: str) -> list[ExecutionRecord]:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends[account_id][region]
    records = []
    for machine in list(backend.state_machines):
        executions: list[Any] = list(machine.executions)
        for execution in executions:
            entered = 0
            for _ in range(3):  # the history may grow while it is read
                try:
                    events = execution.to_history_output()["events"]
                    entered = sum(1 for event in events if str(event["type"]).endswith("StateEntered"))
                    break
                except RuntimeError:
                    continue
            records.append(
                ExecutionRecord(
                    machine.arn, execution.exec_arn, execution.start_date, execution.stop_date, entered
                )
            )
    return records
