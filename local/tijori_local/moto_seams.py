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
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.dynamodb.models import DynamoDBBackend
from moto.moto_api._internal.models import moto_api_backend
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

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
