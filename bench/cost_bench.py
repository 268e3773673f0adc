"""`cost.*`: the AWS bill per million payouts, from a mixed workload run through the
local runtime with metering (tijori_local.metering) and priced by bench/cost_model.py.

Phases, one after another, each between two meter snapshots, so each category's counts are its
own (settled and failed in a real-time runtime, the others under compressed time, see `measure`):
an idle stretch (what one schedule run costs with nothing due), settled at once, failed
(Paytm refuses: an unverified mobile, no such user), configuration errors (a wrong checksum key:
five deliveries, the DLQ, the key fixed, `tijori_local.dlq.redrive`, settled), pending held the
full window (never KYC'd: Paytm refunds at 5 days, Tijori ends REVERSED), and pending settled at
ages spread from 1 minute to 5 days (KYC completed at that age). Schedule runs during a phase are
taken out at the idle run's cost (they are the fixed monthly cost): their counts as the idle
stretch measured them, their Lambda durations as the phase's own idle runs lasted (the meter tells
the runs that found nothing to do from the others), so that the phase's load slowing every run
is not charged to its payouts. Time flows compressed and continuous, so each Wait state and each
check happens as it would.

Durations are wall times in one process, where every function, moto and the simulator share one
interpreter lock; in AWS each concurrent invocation has a CPU share of its own. So requests are
sent one at a time (with 8 at once, InitiateFunction measured about 200 ms a request against
about 15 ms alone: each request's wall time held the others' work), and the harness reads
statuses in batches, once a second. The workers and the scheduled runs still run beside the
requests, so the durations stay on the high side of what AWS would bill.

    python -m bench.cost_bench                     # the full workload (>= 1,000 payouts)
    python -m bench.cost_bench --update-baseline   # the small workload -> bench/cost_baseline.json
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import logging
import math
import os
import secrets
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.cost_model import Measured, is_bookkeeping, load_prices, model, per_payout_counts, top_services

BASELINE_PATH = Path(__file__).with_name("cost_baseline.json")
# How fast this machine ran the same code: an idle scheduled run's Lambda duration (the same
# queries every time). The regression test scales Lambda durations by it against the baseline's.
PACE = (
    "cost.counts.idle_run.schedule.PendingChecksStateMachine.EveryRun.lambda.StatusPollerFunction.billed_ms"
)
FINAL = {"SUCCESS", "FAILED", "REVERSED"}
DAY = 86_400.0
TIME_SCALE = 3000.0  # 5 simulated days in 144 real seconds
REAL_TIME_SCALE = 1.0  # settled and failed payouts: no compression
IDLE_REAL_SECONDS = 6.0


@dataclass(frozen=True)
class Sizes:
    settled: int
    failed: int
    config_error_redriven: int
    pending_full_window: int
    pending_mixed_ages: int

    @property
    def total(self) -> int:
        return (
            self.settled
            + self.failed
            + self.config_error_redriven
            + self.pending_full_window
            + self.pending_mixed_ages
        )


BENCH_SIZES = Sizes(
    settled=820, failed=100, config_error_redriven=30, pending_full_window=30, pending_mixed_ages=40
)
# The regression test's workload: 50 payouts, 10 % of them pending (held the full window).
SMALL_SIZES = Sizes(
    settled=40, failed=5, config_error_redriven=0, pending_full_window=5, pending_mixed_ages=0
)


def pending_checks_run_was_idle(event: Any, result: Any) -> bool | None:
    """For the meter: None unless the invocation is a round of the pending-checks run (see
    functions/status_poller/app.py), else whether it checked, requeued and failed nothing."""
    if not (isinstance(event, dict) and "pending_checks" in event and isinstance(result, dict)):
        return None
    return not any(result.get(action) for action in ("requeued", "checked", "failed"))


class Workload:
    def __init__(self, runtime: Any, progress: Callable[[str], None]) -> None:
        from tijori_local.metering import unmetered_client

        self.runtime = runtime
        runtime.meter.scheduled_run_idle = pending_checks_run_was_idle
        self.progress = progress
        token = runtime.options.api_token
        self.api = httpx.Client(
            base_url=runtime.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        )
        self.sim = httpx.Client(base_url=runtime.sim_url, timeout=120)
        self.table = unmetered_client("dynamodb", endpoint_url=runtime.aws_endpoint_url, region="ap-south-1")
        self.sqs = unmetered_client("sqs", endpoint_url=runtime.aws_endpoint_url, region="ap-south-1")
        self.table_name = runtime.stack.ref("PayoutsTable")
        self.phone = 7_000_000_000 + secrets.randbelow(1_000_000) * 1000
        self.sequence = 0
        self.per_payout: dict[str, dict[str, float]] = {}
        self.payouts: dict[str, int] = {}
        self.idle_run: dict[str, dict[str, float]] = {}

    # ---- helpers -----------------------------------------------------------------------------
    def user(self, **fields: Any) -> str:
        self.phone += 1
        phone = str(self.phone)
        if fields.pop("create", True):
            self.sim.post("/_sim/users", json={"phone": phone, **fields}).raise_for_status()
        return phone

    def order(self, category: str) -> str:
        self.sequence += 1
        return f"COST-{category}-{self.sequence:05d}"

    def submit(self, bodies: list[dict[str, Any]]) -> None:
        """One request at a time (see the module docstring: durations)."""
        for body in bodies:
            answer = self.api.post("/v1/payouts", json=body)
            if answer.status_code != 202:
                raise RuntimeError(f"{body['order_id']}: {answer.status_code} {answer.text}")

    def item(self, order_id: str) -> dict[str, Any]:
        answer = self.table.get_item(TableName=self.table_name, Key={"order_id": {"S": order_id}})
        item: dict[str, Any] = answer.get("Item", {})
        return item

    def statuses(self, order_ids: list[str]) -> dict[str, str]:
        return {o: self.item(o).get("status", {}).get("S", "") for o in order_ids}

    def final_statuses(self, order_ids: list[str]) -> dict[str, str]:
        """Statuses of those of `order_ids` that are final, read 100 at a time (BatchGetItem): the
        harness's reads share this process with Tijori's functions, so they are kept few."""
        found: dict[str, str] = {}
        for start in range(0, len(order_ids), 100):
            keys = [{"order_id": {"S": o}} for o in order_ids[start : start + 100]]
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": keys,
                    "ProjectionExpression": "order_id, #status",
                    "ExpressionAttributeNames": {"#status": "status"},
                }
            }
            while request:
                answer = self.table.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self.table_name, []):
                    found[item["order_id"]["S"]] = item.get("status", {}).get("S", "")
                request = answer.get("UnprocessedKeys") or {}
        return {o: status for o, status in found.items() if status in FINAL}

    def wait_final(self, order_ids: list[str], limit: float) -> None:
        deadline = time.monotonic() + limit
        outstanding = list(order_ids)
        while time.monotonic() < deadline:
            final = self.final_statuses(outstanding)
            outstanding = [o for o in outstanding if o not in final]
            if not outstanding:
                time.sleep(1.0)  # the executions' last states (Succeed) are entered
                return
            time.sleep(1.0)
        left = {o: s for o, s in self.statuses(outstanding).items() if s not in FINAL}
        raise RuntimeError(f"{len(left)} payouts not final after {limit} s: {list(left.items())[:5]}")

    def sim_now(self) -> float:
        return datetime.fromisoformat(self.sim.get("/_sim/clock").json()["now"]).timestamp()

    @contextlib.contextmanager
    def phase(self, category: str, payouts: int) -> Iterator[None]:
        from tijori_local.metering import difference

        meter = self.runtime.meter
        before = meter.snapshot()
        started = time.monotonic()
        yield
        delta = difference(meter.snapshot(), before)
        self.progress(f"{category}: {payouts} payouts in {time.monotonic() - started:.0f} s real")
        if payouts == 0:
            return
        self.per_payout[category] = per_payout_counts(delta, self.idle_run, payouts)
        self.payouts[category] = payouts

    # ---- phases ------------------------------------------------------------------------------
    def idle(self) -> None:
        from tijori_local.metering import difference

        meter = self.runtime.meter
        before = meter.snapshot()
        time.sleep(IDLE_REAL_SECONDS)
        delta = difference(meter.snapshot(), before)
        for prefix in meter.schedules:
            firings = delta.get(f"{prefix}.firings", 0)
            if firings:
                self.idle_run[prefix] = {
                    name: value / firings for name, value in delta.items() if not is_bookkeeping(name)
                }
        self.progress(f"idle: {sum(delta.get(f'{p}.firings', 0) for p in meter.schedules):.0f} schedule runs")

    def settled(self, count: int) -> None:
        bodies: list[dict[str, Any]] = [
            {"order_id": self.order("settled"), "amount": "100.00", "payee": {"phone": self.user()}}
            for _ in range(count)
        ]
        with self.phase("settled", count):
            self.submit(bodies)
            self.wait_final([b["order_id"] for b in bodies], limit=600)

    def failed(self, count: int) -> None:
        bodies: list[dict[str, Any]] = []
        for index in range(count):
            if index % 2:
                phone = self.user(mobile_verified=False)
                body = {"mode": "verified_user", "payee": {"phone": phone}}
            else:
                body = {"payee": {"phone": self.user(create=False)}}
            bodies.append({"order_id": self.order("failed"), "amount": "100.00", **body})
        with self.phase("failed", count):
            self.submit(bodies)
            self.wait_final([b["order_id"] for b in bodies], limit=300)

    def config_error_redriven(self, count: int) -> None:
        from aws_lambda_powertools.utilities import parameters

        from tijori_local.dlq import redrive

        runtime = self.runtime
        secrets_client = runtime.client("secretsmanager")

        def set_key(key: str) -> None:
            secret = copy.deepcopy(runtime.options.credentials)
            secret["wallet"]["aes_key"] = key
            secrets_client.put_secret_value(
                SecretId=runtime.stack.ref("MerchantSecret"), SecretString=json.dumps(secret)
            )
            parameters.clear_caches()  # type: ignore[no-untyped-call]  # as a cold start after a fix would

        right = runtime.options.credentials["wallet"]["aes_key"]
        bodies: list[dict[str, Any]] = [
            {"order_id": self.order("config"), "amount": "100.00", "payee": {"phone": self.user()}}
            for _ in range(count)
        ]
        dlq = runtime.stack.ref("PayoutDLQ")
        # The operator's fixing the secret is not Tijori's cost: done outside the phase.
        set_key("W" * len(right))
        with self.phase("config_error_redriven", count):
            self.submit(bodies)
            started = time.monotonic()
            in_dlq = 0
            while time.monotonic() < started + 300 and in_dlq < count:
                time.sleep(0.5)
                attributes = self.sqs.get_queue_attributes(
                    QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                in_dlq = int(attributes["ApproximateNumberOfMessages"])
            if in_dlq < count:
                raise RuntimeError(f"only {in_dlq} of {count} messages reached the DLQ in 300 s")
            waited = time.monotonic() - started
            self.progress(f"config_error_redriven: {count} in the DLQ after {waited:.0f} s real")
            set_key(right)
            redrive(runtime.client("sqs"), dlq_url=dlq, queue_url=runtime.stack.ref("PayoutQueue"))
            self.wait_final([b["order_id"] for b in bodies], limit=300)

    def pending_full_window(self, count: int) -> float:
        bodies: list[dict[str, Any]] = [
            {"order_id": self.order("pending"), "amount": "100.00", "payee": {"phone": self.user(kyc=False)}}
            for _ in range(count)
        ]
        with self.phase("pending_full_window", count):
            self.submit(bodies)
            self.wait_final([b["order_id"] for b in bodies], limit=900)
        # Counted by the simulator (what Tijori asked Paytm): a routine check of a pending payout
        # writes nothing to the payout itself.
        checks = [self.status_checks_received(b["order_id"]) for b in bodies]
        return sum(checks) / len(checks)

    def status_checks_received(self, order_id: str) -> int:
        answer = self.sim.get(
            "/_sim/requests", params={"path": "/wallet-web/checkStatus", "order_id": order_id}
        )
        return int(answer.json()["count"])

    def pending_mixed_ages(self, count: int) -> list[float]:
        """KYC completed at ages 1 minute .. 5 days (log-spaced); the detection delay ratios."""
        phones = [self.user(kyc=False) for _ in range(count)]
        bodies: list[dict[str, Any]] = [
            {"order_id": self.order("aged"), "amount": "100.00", "payee": {"phone": phone}}
            for phone in phones
        ]
        ages = [60.0 * (5 * DAY / 60) ** (i / max(1, count - 1)) for i in range(count)]
        with self.phase("pending_mixed_ages", count):
            start = self.sim_now()
            self.submit(bodies)
            due = sorted(zip(ages, phones, strict=True))
            while due:
                age = self.sim_now() - start
                while due and due[0][0] <= age:
                    self.sim.post(
                        "/_sim/users", json={"phone": due.pop(0)[1], "kyc": True}
                    ).raise_for_status()
                time.sleep(0.02)
            self.wait_final([b["order_id"] for b in bodies], limit=900)
        ratios = []
        for body in bodies:
            credit = self.sim.get(f"/_sim/orders/{body['order_id']}").json()
            created = datetime.fromisoformat(credit["createdAt"]).timestamp()
            resolved = datetime.fromisoformat(credit["resolvedAt"]).timestamp()
            history = self.item(body["order_id"])["history"]["L"]
            final_at = datetime.fromisoformat(history[-1]["M"]["at"]["S"]).timestamp()
            ratios.append(max(0.0, final_at - resolved) / max(1.0, resolved - created))
        return ratios


@contextlib.contextmanager
def _runtime(time_scale: float) -> Iterator[Any]:
    from tijori_local.runtime import LocalRuntime, RuntimeOptions

    options = RuntimeOptions(api_port=0, time_scale=time_scale, api_token=secrets.token_urlsafe(16))
    with (
        open(os.devnull, "w", encoding="utf-8") as sink,
        contextlib.redirect_stdout(sink),
        LocalRuntime(options) as runtime,
    ):
        yield runtime


def measure(sizes: Sizes, progress: Callable[[str], None]) -> tuple[Measured, dict[str, float]]:
    """The phases that need days pass in a compressed-time runtime; settled and failed payouts in
    a real-time one (REAL_TIME_SCALE), where a payout waits seconds in the queue as it would in
    AWS, not the hours of simulated time that compression makes of them (intake's 15-minute due
    entry would come round and requeue it)."""
    polling: dict[str, float] = {}
    with _runtime(TIME_SCALE) as runtime:
        work = Workload(runtime, progress)
        work.idle()
        if sizes.config_error_redriven:
            work.config_error_redriven(sizes.config_error_redriven)
        if sizes.pending_full_window:
            polling["cost.workload.checks_per_pending_payout"] = round(
                work.pending_full_window(sizes.pending_full_window), 1
            )
        if sizes.pending_mixed_ages:
            ratios = sorted(work.pending_mixed_ages(sizes.pending_mixed_ages))
            polling["cost.workload.detection_delay_p95_ratio"] = round(
                ratios[math.ceil(0.95 * len(ratios)) - 1], 3
            )
        assert runtime.stack is not None
        template_sqs_triggers = sum(
            1
            for spec in runtime.stack.functions.values()
            for e in spec.events.values()
            if e.get("Type") == "SQS"
        )
        measured = Measured(
            per_payout=work.per_payout,
            idle_run=work.idle_run,
            schedules=dict(runtime.meter.schedules),
            sqs_triggers=template_sqs_triggers,
            secrets=sum(1 for name in runtime.stack.arns if name.endswith("Secret")),
            payouts=work.payouts,
            architectures={name: spec.architecture for name, spec in runtime.stack.functions.items()},
        )
    with _runtime(REAL_TIME_SCALE) as runtime:
        real_time = Workload(runtime, progress)
        real_time.idle_run = measured.idle_run  # a run during these phases costs what an idle run does
        real_time.settled(sizes.settled)
        if sizes.failed:
            real_time.failed(sizes.failed)
    measured.per_payout.update(real_time.per_payout)
    measured.payouts.update(real_time.payouts)
    return measured, polling


def figures(measured: Measured, polling: dict[str, float]) -> dict[str, float]:
    out = model(measured, load_prices())
    for category, counts in measured.per_payout.items():
        for name, value in counts.items():
            out[f"cost.counts.{category}.{name}"] = value
    for prefix, counts in measured.idle_run.items():
        for name, value in counts.items():
            out[f"cost.counts.idle_run.{prefix}.{name}"] = round(value, 6)
    out["cost.payouts_measured"] = float(sum(measured.payouts.values()))
    out.update(polling)
    return out


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run() -> dict[str, float]:
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    measured, polling = measure(BENCH_SIZES, _progress)
    return figures(measured, polling)


def small_workload_figures(progress: Callable[[str], None] = _progress) -> dict[str, float]:
    measured, polling = measure(SMALL_SIZES, progress)
    return figures(measured, polling)


def breakdown(result: dict[str, float], share: int = 10) -> str:
    name = f"cost.per_million_payouts_usd.pending_{share}pct"
    lines = [f"{name} = {result[name]}"]
    for service, value in top_services(result, share, count=9):
        lines.append(f"  {service:16s} {value:12.4f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-baseline", action="store_true", help="measure the small workload, write it")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    if args.update_baseline:
        result = small_workload_figures()
        baseline = {
            "workload": "bench.cost_bench.SMALL_SIZES",
            "measured": datetime.now().astimezone().isoformat(timespec="seconds"),
            "figures": {k: v for k, v in result.items() if k.startswith("cost.per_million_payouts_usd")},
            "pace": {PACE: result[PACE]},
        }
        BASELINE_PATH.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(breakdown(result))
        print(f"wrote {BASELINE_PATH}")
        return 0
    result = run()
    for name, value in sorted(result.items()):
        print(f"{name:80s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
