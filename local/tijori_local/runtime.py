"""The whole stack of template.yaml on one machine: moto + the real handlers + the simulator.

    with LocalRuntime(RuntimeOptions(time_scale=7200)) as runtime:
        httpx.post(f"{runtime.api_url}/v1/payouts", json=...)

One process: moto's ThreadedMotoServer holds DynamoDB, SQS, Secrets Manager and Step Functions
(executing state machines); the HttpApi routes are served by a local ASGI app; SQS triggers and
the EventBridge schedule are driven by threads here; Step Functions' Lambda invokes are routed to
the real handlers. See DESIGN.md, "Local runtime".
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters as powertools_parameters
from moto.server import ThreadedMotoServer

from paytm_signing import MerchantCredentials
from tijori.clock import install_clock
from tijori_local.asgi_server import AsgiServer
from tijori_local.deploy import ACCOUNT_ID, DeployedStack, FunctionSpec, LocalDeployer, StateMachineSpec
from tijori_local.event_delivery import EventDelivery
from tijori_local.functions import Handler, load_handler
from tijori_local.http_api import build_http_api, http_routes
from tijori_local.metering import Meter
from tijori_local.moto_seams import (
    LambdaFunctionError,
    atomic_dynamodb_writes,
    clock_driven_wait_states,
    configure_moto,
    routed_lambda_invokes,
)
from tijori_local.schedule import Schedule, scheduled_event
from tijori_local.sim.clock import SimClock
from tijori_local.sim.server import SimServer
from tijori_local.sqs_poller import QueueTrigger, SqsPoller
from tijori_local.template import PROJECT_ROOT, TEMPLATE_PATH, load_template

LOG = logging.getLogger(__name__)
REGION = "ap-south-1"
# Most concurrent executions of one function (each a separate import of its module, as each
# Lambda execution environment is its own process).
DEFAULT_CONCURRENCY = 4
MIN_REAL_SECONDS_BETWEEN_FIRINGS = 0.2
# One base URL per Paytm API family (template.yaml): the simulator serves every family; the
# prepaid one goes through the simulator's prepaid gate (its own port, which can refuse connections).
PAYTM_URL_PARAMETERS = (
    "PaytmWalletBaseUrl",
    "PaytmPayoutsBaseUrl",
    "PaytmPgBaseUrl",
    "PaytmAccountsBaseUrl",
    "PaytmPrepaidBaseUrl",
)
PREPAID_URL_PARAMETER = "PaytmPrepaidBaseUrl"
RECONCILE_SCHEDULE_STATE_PARAMETER = "ReconcileScheduleState"
# The stack's seed 003 envelope setting (paytm_signing.PREPAID_ENVELOPES: provider / authenticated).
PREPAID_ENVELOPE_PARAMETER = "PrepaidTokenFormat"
# Stand-ins for the headers seed 003's `<WalletHeader />` leaves unexpanded: the names and values
# the provider will issue are unknown, so a local merchant gets these two, generated.
PREPAID_HEADER_STAND_INS = ("X-Wallet-Client-Id", "X-Wallet-Api-Key")


_stack_names = iter(range(1_000_000))


def _next_stack_name() -> str:
    """moto's state is per process: a second runtime in one process gets its own resource names."""
    number = next(_stack_names)
    return "tijori-local" if number == 0 else f"tijori-local-{number}"


def generated_credentials() -> dict[str, Any]:
    """A local default merchant: every product, each with its own random keys of the right
    lengths (so a call signed with another product's key is refused, as Paytm would), fixed ids;
    the prepaid section also has a random `iv` and two generated stand-in `headers`."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"

    def random_text(length: int) -> str:
        return "".join(secrets.choice(alphabet) for _ in range(length))

    return {
        "mid": "TIJORILOCAL00000001",
        "wallet": {
            "aes_key": random_text(16),
            "merchant_guid": str(uuid.uuid4()),
            "sales_wallet_guid": str(uuid.uuid4()),
        },
        "payouts": {"merchant_key": random_text(16), "subwallet_guid": str(uuid.uuid4())},
        "pg": {"merchant_key": random_text(16), "website_name": "WEBSTAGING"},
        "auto_debit": {"client_id": "tijori-local", "client_secret": random_text(32)},
        "prepaid": {
            "aes_key": random_text(24),
            "iv": secrets.token_hex(16),  # the provider's fixed IV for its bare-CBC envelope
            # Stand-ins for seed 003's unexpanded <WalletHeader /> (PREPAID_HEADER_STAND_INS).
            "headers": {name: random_text(32) for name in PREPAID_HEADER_STAND_INS},
        },
    }


@dataclass
class RuntimeOptions:
    api_port: int = 8787
    paytm_url: str | None = None
    # The merchant secret put in Secrets Manager (either format, README "Configuration and
    # secrets"); the simulator knows the same keys. A product left out is one the merchant is not
    # onboarded on: the simulator refuses its calls.
    credentials: dict[str, Any] = field(default_factory=generated_credentials)
    time_scale: float = 1.0
    api_token: str | None = None
    template_path: Path = TEMPLATE_PATH
    concurrency: int = DEFAULT_CONCURRENCY
    # Template parameter values (e.g. {"LogLevel": "WARNING"}); Paytm URLs are set from paytm_url.
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    # Extra environment for every function, e.g. {"POWERTOOLS_METRICS_DISABLED": "true"}.
    extra_environment: dict[str, str] = field(default_factory=dict)
    # Count what AWS would bill (tijori_local.metering): `runtime.meter.snapshot()`.
    metering: bool = True
    # How the embedded simulator spells a not-yet-final PG order: seed 002's TXN_PENDING, or the
    # PENDING of Paytm's public docs and SDKs (tijori_local.sim.context.PG_PENDING_STATUSES).
    pg_pending_status: str = "TXN_PENDING"
    # Seed 003's token envelope (paytm_signing.PREPAID_ENVELOPES): `provider` (bare AES-192-CBC
    # with prepaid.iv, no MAC) or `authenticated` (Tijori's random IV + HMAC). The embedded
    # simulator speaks it, and so does the stack where template.yaml has `PrepaidTokenFormat`.
    prepaid_envelope: str = "provider"
    # X-Ray: the functions trace as in Lambda (Tracing: Active) and send their subsegments to an
    # X-Ray daemon at this UDP address ("127.0.0.1:2000"), under one sampled trace for the
    # runtime's life. None: tracing is off (no daemon locally).
    xray_daemon_address: str | None = None
    # Deliver what the functions put on the stack's event bus to this URL, as JSON POSTs
    # (tijori_local.event_delivery); None: the events stay on the bus.
    events_url: str | None = None


def xray_environment(daemon_address: str) -> dict[str, str]:
    """What Lambda gives a traced function: the daemon's address and a sampled trace header (the
    X-Ray SDK sees LAMBDA_TASK_ROOT and streams each subsegment to the daemon as it closes)."""
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return {
        "POWERTOOLS_TRACE_DISABLED": "false",
        "AWS_XRAY_DAEMON_ADDRESS": daemon_address,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "_X_AMZN_TRACE_ID": f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=1",
    }


class LocalLambdaContext:
    """What a handler's `context` offers, with the function's real timeout."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionHost:
    """A function's execution environments: imported on demand, up to `concurrency` at once."""

    def __init__(self, spec: FunctionSpec, concurrency: int, meter: Meter | None = None) -> None:
        self.spec = spec
        self._meter = meter
        self._idle: queue.LifoQueue[Handler] = queue.LifoQueue()
        self._created = 0
        self._concurrency = concurrency
        self._lock = threading.Lock()
        self._idle.put(self._new_environment())  # one warm environment, and import errors surface now

    def _new_environment(self) -> Handler:
        with self._lock:
            self._created += 1
            instance = f"_{self._created}"
        return load_handler(self.spec.code_dir, self.spec.handler, instance=instance)

    @contextlib.contextmanager
    def _environment(self) -> Iterator[Handler]:
        try:
            handler = self._idle.get_nowait()
        except queue.Empty:
            handler = self._new_environment() if self._created < self._concurrency else self._idle.get()
        try:
            yield handler
        finally:
            self._idle.put(handler)

    def invoke(self, event: Any) -> Any:
        with self._environment() as handler:
            if self._meter is None:
                return handler(event, LocalLambdaContext(self.spec))
            with self._meter.invocation(self.spec.logical_id, self.spec.memory_mb, event) as call:
                call.result = handler(event, LocalLambdaContext(self.spec))
                return call.result


class LocalRuntime:
    def __init__(self, options: RuntimeOptions | None = None) -> None:
        self.options = options or RuntimeOptions()
        self.credentials = MerchantCredentials.from_mapping(self.options.credentials, source="--credentials")
        self._stack_exit = contextlib.ExitStack()
        self._saved_environ: dict[str, str] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pollers: list[SqsPoller] = []
        self.hosts: dict[str, FunctionHost] = {}
        self.stack: DeployedStack | None = None
        self.simulator: SimServer | None = None
        self.clock = SimClock(time_scale=self.options.time_scale)
        self.api_url = ""
        self.aws_endpoint_url = ""
        self.sim_url: str | None = None
        # The simulator's prepaid gate (the stack's PaytmPrepaidBaseUrl), when it is embedded.
        self.sim_prepaid_url: str | None = None
        self.schedule_firings = 0
        self.state_machine_runs = 0
        self.meter = Meter()
        self.event_delivery: EventDelivery | None = None

    # ---- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalRuntime:
        self._saved_environ = dict(os.environ)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        options = self.options
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_SESSION_TOKEN": "local",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "TZ": "UTC",
            }
        )
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        self._stack_exit.callback(moto.stop)
        host, port = moto.get_host_and_port()
        self.aws_endpoint_url = f"http://{host}:{port}"
        os.environ["MOTO_PORT"] = str(port)
        os.environ["AWS_ENDPOINT_URL"] = self.aws_endpoint_url
        # Powertools keeps its Parameters providers (and their boto3 clients) process-wide: a
        # runtime started after another must not read secrets through a client bound to the
        # earlier runtime's (stopped) moto server. Each runtime is a fresh set of Lambdas.
        powertools_parameters.clear_caches()  # type: ignore[no-untyped-call]
        configure_moto()
        if options.metering:
            self._stack_exit.enter_context(self.meter.installed())
        self._stack_exit.enter_context(routed_lambda_invokes(self._route_invoke))
        self._stack_exit.enter_context(atomic_dynamodb_writes())
        if options.paytm_url is None:
            self.simulator = SimServer(
                self.credentials,
                time_scale=options.time_scale,
                pg_pending_status=options.pg_pending_status,
                prepaid_token_format=options.prepaid_envelope,
            ).start()
            self._stack_exit.callback(self.simulator.stop)
            self.clock = self.simulator.clock  # one clock for Paytm and Tijori alike
            self.sim_url = self.simulator.url
            self.sim_prepaid_url = self.simulator.prepaid_url
        self._stack_exit.enter_context(clock_driven_wait_states(self.clock))
        paytm_url = options.paytm_url or str(self.sim_url)
        self._stack_exit.callback(install_clock, install_clock(self.clock.now))

        template = load_template(options.template_path)
        parameters = dict(options.parameter_overrides)
        declared = template.get("Parameters", {})
        parameters.update({name: paytm_url for name in PAYTM_URL_PARAMETERS if name in declared})
        if self.sim_prepaid_url is not None and PREPAID_URL_PARAMETER in declared:
            parameters[PREPAID_URL_PARAMETER] = self.sim_prepaid_url
        # The stack speaks the simulator's envelope; an explicit parameter_overrides value wins (a
        # deliberate mismatch, say).
        if PREPAID_ENVELOPE_PARAMETER in declared:
            parameters.setdefault(PREPAID_ENVELOPE_PARAMETER, options.prepaid_envelope)
        # A daily reconciliation under compressed time would ask Paytm about every item each
        # simulated day, beside the calls the other tests count: off unless a test turns it on.
        if RECONCILE_SCHEDULE_STATE_PARAMETER in declared:
            parameters.setdefault(RECONCILE_SCHEDULE_STATE_PARAMETER, "DISABLED")
        deployer = LocalDeployer(
            template,
            dynamodb=self.client("dynamodb"),
            sqs=self.client("sqs"),
            secretsmanager=self.client("secretsmanager"),
            stepfunctions=self.client("stepfunctions"),
            events=self.client("events"),
            parameter_overrides=parameters,
            region=REGION,
            stack_name=_next_stack_name(),
        )
        self.stack = stack = deployer.deploy()
        self.client("secretsmanager").put_secret_value(
            SecretId=stack.ref("MerchantSecret"), SecretString=json.dumps(options.credentials)
        )
        self._install_function_environment(stack)
        if options.events_url is not None:
            self._start_event_delivery(template, stack, options.events_url)
        meter = self.meter if options.metering else None
        self.meter.table_ids = {name: logical_id for logical_id, name in stack.names.items()}
        self.meter.state_machines = {
            stack.arns[logical_id]: (logical_id, machine_type)
            for logical_id, machine_type in stack.state_machine_types.items()
        }
        self.meter.account_region = (ACCOUNT_ID, REGION) if options.metering else None
        self.hosts = {
            logical_id: FunctionHost(spec, options.concurrency, meter)
            for logical_id, spec in stack.functions.items()
        }
        self._start_queue_pollers(stack)
        self._start_schedules(stack)
        routes = http_routes(stack.functions)
        api = AsgiServer(
            build_http_api(
                routes,
                self.invoke,
                api_token=options.api_token,
                on_request=self.meter.http_request if options.metering else None,
            ),
            port=options.api_port,
            name="tijori-http-api",
        ).start()
        self._stack_exit.callback(api.stop)
        self.api_url = api.url

    def stop(self) -> None:
        self._stop.set()
        for poller in self._pollers:
            poller.stop()
        for thread in self._threads:
            thread.join(10)
        self._stack_exit.close()
        powertools_parameters.clear_caches()  # type: ignore[no-untyped-call]
        if self._saved_environ is not None:
            os.environ.clear()
            os.environ.update(self._saved_environ)
            self._saved_environ = None

    # ---- AWS ---------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.aws_endpoint_url)

    def _start_event_delivery(self, template: dict[str, Any], stack: DeployedStack, url: str) -> None:
        resources = template["Resources"].items()
        buses = [name for name, r in resources if r.get("Type") == "AWS::Events::EventBus"]
        if len(buses) != 1:
            raise ValueError(f"--events-url needs exactly one AWS::Events::EventBus in the template: {buses}")
        self.event_delivery = EventDelivery(
            bus_name=stack.ref(buses[0]),
            url=url,
            endpoint_url=self.aws_endpoint_url,
            region=REGION,
            name=f"{stack.stack_name}-events-url",
        ).start()
        self._stack_exit.callback(self.event_delivery.stop)

    def _install_function_environment(self, stack: DeployedStack) -> None:
        """One process hosts every function, so their environments are merged; a variable two
        functions declare with different values would make that a lie, and fails the start."""
        merged: dict[str, str] = {}
        for spec in stack.functions.values():
            for name, value in spec.environment.items():
                if merged.setdefault(name, value) != value:
                    raise ValueError(f"{spec.logical_id} sets {name} differently from another function")
        merged["POWERTOOLS_TRACE_DISABLED"] = "true"  # no X-Ray daemon locally
        if self.options.xray_daemon_address:
            merged.update(xray_environment(self.options.xray_daemon_address))
        # Set in every Lambda; Powertools' AsyncBatchProcessor keeps one event loop when it is.
        merged["LAMBDA_TASK_ROOT"] = str(PROJECT_ROOT / "functions")
        merged.update(self.options.extra_environment)
        os.environ.update(merged)

    # ---- invocation --------------------------------------------------------------------------
    def invoke(self, logical_id: str, event: Any) -> Any:
        """Invoke a function synchronously by logical id (what API Gateway, SQS and EventBridge do)."""
        return self.hosts[logical_id].invoke(event)

    def _route_invoke(self, function_name: str, payload: bytes) -> Any:
        for logical_id, host in self.hosts.items():
            if function_name in (host.spec.name, host.spec.arn, logical_id):
                event = json.loads(payload or b"{}")
                try:
                    return host.invoke(event)
                except Exception as error:
                    raise LambdaFunctionError(type(error).__name__, str(error)) from error
        raise LambdaFunctionError("ResourceNotFoundException", f"Function not found: {function_name}")

    def _start_queue_pollers(self, stack: DeployedStack) -> None:
        sqs = self.client("sqs")
        arn_to_queue = {
            arn: logical_id for logical_id, arn in stack.arns.items() if logical_id in stack.queue_urls
        }
        for spec in stack.functions.values():
            for event in spec.events.values():
                if event.get("Type") != "SQS":
                    continue
                properties = event["Properties"]
                queue_logical_id = arn_to_queue[str(self._resolve_arn(properties["Queue"]))]
                url = stack.queue_urls[queue_logical_id]
                visibility = int(
                    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])[
                        "Attributes"
                    ]["VisibilityTimeout"]
                )
                trigger = QueueTrigger(
                    function=spec.logical_id,
                    queue_url=url,
                    queue_arn=stack.arns[queue_logical_id],
                    batch_size=int(properties.get("BatchSize", 10)),
                    batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
                    visibility_timeout=visibility,
                    reports_batch_item_failures="ReportBatchItemFailures"
                    in properties.get("FunctionResponseTypes", []),
                )
                # Lambda polls a queue with several concurrent pollers; one per execution environment.
                for _ in range(self.options.concurrency):
                    poller = SqsPoller(
                        trigger,
                        sqs=sqs,
                        invoke=self.invoke,
                        region=REGION,
                        time_scale=self.options.time_scale,
                    )
                    poller.start()
                    self._pollers.append(poller)

    def _resolve_arn(self, value: Any) -> Any:
        assert self.stack is not None
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            return self.stack.get_att(logical_id, attribute)
        return value

    def _start_schedules(self, stack: DeployedStack) -> None:
        """EventBridge schedules: a function's invokes it with the scheduled-event payload; a state
        machine's starts an execution with the event's Input (EventBridge's target input)."""
        # Each target's `fire(moment, rule_arn)` answers whether it started anything.
        targets: list[tuple[str, str, dict[str, Any], Callable[[datetime, str], bool]]] = []
        for spec in stack.functions.values():
            for event_name, event in spec.events.items():
                targets.append(
                    (spec.logical_id, event_name, event, self._invoke_on_schedule(spec.logical_id))
                )
        for machine in stack.state_machines.values():
            for event_name, event in machine.events.items():
                targets.append(
                    (machine.logical_id, event_name, event, self._start_on_schedule(machine, event))
                )
        for logical_id, event_name, event, fire in targets:
            if event.get("Type") not in ("Schedule", "ScheduleV2"):
                continue
            state = event["Properties"].get("State", "ENABLED")
            if isinstance(state, dict) and "Ref" in state:
                state = stack.ref(state["Ref"])
            if state == "DISABLED" or event["Properties"].get("Enabled") is False:
                continue  # as EventBridge: a disabled rule never fires
            expression = event["Properties"][
                "Schedule" if event["Type"] == "Schedule" else "ScheduleExpression"
            ]
            if isinstance(expression, dict) and "Ref" in expression:
                expression = stack.ref(expression["Ref"])
            schedule = Schedule.parse(str(expression))
            rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/tijori-local-{logical_id}{event_name}"
            meter_it = self._meter_firing(logical_id, event_name, str(expression), str(event["Type"]))
            thread = threading.Thread(
                target=self._fire_schedule,
                args=(schedule, rule_arn, fire, meter_it),
                name=f"schedule-{logical_id}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def _invoke_on_schedule(self, logical_id: str) -> Callable[[datetime, str], bool]:
        def fire(moment: datetime, rule_arn: str) -> bool:
            self.invoke(logical_id, scheduled_event(rule_arn, moment, REGION, ACCOUNT_ID))
            return True

        return fire

    def _meter_firing(
        self, logical_id: str, event_name: str, expression: str, event_type: str
    ) -> Callable[[], None]:
        def meter_it() -> None:
            if self.options.metering:
                self.meter.schedule_fired(
                    logical_id, event_name, expression=expression, event_type=event_type
                )

        return meter_it

    def _start_on_schedule(
        self, machine: StateMachineSpec, event: dict[str, Any]
    ) -> Callable[[datetime, str], bool]:
        stepfunctions = self.client("stepfunctions")
        payload = str(event.get("Properties", {}).get("Input", "{}"))
        last_run: list[str] = []

        def fire(moment: datetime, rule_arn: str) -> bool:
            # Compressed time fires a schedule far more often (in simulated time) than a run lasts;
            # in AWS a one-minute run of a few seconds never overlaps the next, so here a firing
            # while the previous run still runs is skipped rather than run twice at once.
            if last_run and stepfunctions.describe_execution(executionArn=last_run[0])["status"] == "RUNNING":
                return False
            name = f"run-{moment.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
            started = stepfunctions.start_execution(stateMachineArn=machine.arn, name=name, input=payload)
            last_run[:] = [started["executionArn"]]
            self.state_machine_runs += 1
            return True

        return fire

    def _fire_schedule(
        self,
        schedule: Schedule,
        rule_arn: str,
        fire: Callable[[datetime, str], bool],
        meter_it: Callable[[], None],
    ) -> None:
        next_fire: datetime = schedule.next_after(self.clock.now())
        while not self._stop.is_set():
            remaining = (next_fire - self.clock.now()).total_seconds()
            if remaining > 0:
                self._stop.wait(min(self.clock.real_seconds_for(remaining), 1.0))
                continue
            try:
                if fire(next_fire, rule_arn):
                    meter_it()
                    self.schedule_firings += 1
            except Exception:
                LOG.exception("scheduled target of %s failed", rule_arn)
            next_fire = schedule.next_after(max(next_fire, self.clock.now()))
            # Under heavy compression a 5-minute rate would fire every few milliseconds; keep at
            # least this much real time between firings so the sweep cannot starve everything.
            self._stop.wait(MIN_REAL_SECONDS_BETWEEN_FIRINGS)
