"""The AWS bill per million payouts, from counts measured by tijori_local.metering: pure arithmetic.

    cost(p) = 1e6 x ((1 - p) x c_settled_mix + p x c_pending_full_window)
              + fixed_per_month x 1e6 / payouts_per_month

`c_*` are per-payout counts priced with bench/aws_prices.json; `c_settled_mix` weighs the
non-pending categories measured (MIX, renormalised over those present). Fixed monthly costs are
what runs whether or not payouts flow: each schedule's runs per month (from its expression) x
what one idle run costs (measured), Lambda's SQS event source polling an empty queue, and the
secrets stored. They are amortised over `payouts_per_month` (a parameter, default 1,000,000).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

PRICES_PATH = Path(__file__).with_name("aws_prices.json")
MILLION = Decimal(1_000_000)
HOURS_PER_MONTH = 730  # AWS's billing month
# The non-pending categories and their weights in the headline mix.
MIX = {"settled": Decimal("0.90"), "failed": Decimal("0.09"), "config_error_redriven": Decimal("0.01")}
# Lambda's SQS event source long-polls (20 s) with 5 pollers while the queue is empty: 15
# receives a minute per SQS trigger (AWS documentation, "Using Lambda with Amazon SQS").
IDLE_RECEIVES_PER_SQS_TRIGGER_PER_MONTH = 5 * 3 * 60 * HOURS_PER_MONTH
# Lambda writes START, END and REPORT lines (and an X-Ray line with active tracing) per
# invocation to CloudWatch Logs besides the function's own output; about this many bytes.
PLATFORM_LOG_BYTES_PER_INVOCATION = 330
GIB = Decimal(1024**3)
SERVICES = (
    "apigateway",
    "lambda",
    "sqs",
    "dynamodb",
    "stepfunctions",
    "eventbridge",
    "secretsmanager",
    "kms",
    "cloudwatch_logs",
)


def load_prices(path: Path = PRICES_PATH) -> dict[str, Decimal]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return {name: Decimal(entry["usd"]) for name, entry in document["prices"].items()}


def _d(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _sum(counts: Mapping[str, float], prefix: str, suffix: str) -> Decimal:
    return sum((_d(v) for k, v in counts.items() if k.startswith(prefix) and k.endswith(suffix)), Decimal(0))


def lambda_duration_usd(
    counts: Mapping[str, float], prices: Mapping[str, Decimal], architectures: Mapping[str, str]
) -> Decimal:
    """`lambda.<Function>.gb_seconds` at the GB-second price of the function's architecture
    (x86_64 where it is not known)."""
    total = Decimal(0)
    for name, value in counts.items():
        if name.startswith("lambda.") and name.endswith(".gb_seconds"):
            function = name.removeprefix("lambda.").removesuffix(".gb_seconds")
            arch = "arm64" if architectures.get(function) == "arm64" else "x86"
            total += _d(value) * prices[f"lambda_per_gb_second_{arch}"]
    return total


def cost_by_service(
    counts: Mapping[str, float],
    prices: Mapping[str, Decimal],
    schedule_types: Mapping[str, str],
    architectures: Mapping[str, str] | None = None,
) -> dict[str, Decimal]:
    """USD for these counts (any quantity: per payout, per run, per month), by service;
    `architectures` maps a function's logical id to its Lambda architecture."""
    invocations = _sum(counts, "lambda.", ".invocations")
    log_bytes = _sum(counts, "logs.", ".bytes") + invocations * PLATFORM_LOG_BYTES_PER_INVOCATION
    firings_rule = Decimal(0)
    firings_scheduler = Decimal(0)
    for name, value in counts.items():
        if name.startswith("schedule.") and name.endswith(".firings"):
            prefix = name.removesuffix(".firings")
            if schedule_types.get(prefix, "Schedule") == "ScheduleV2":
                firings_scheduler += _d(value)
            else:
                firings_rule += _d(value)
    return {
        "apigateway": _d(counts.get("apigw.http.requests", 0))
        * prices["apigw_http_per_million_requests"]
        / MILLION,
        "lambda": invocations * prices["lambda_per_million_requests"] / MILLION
        + lambda_duration_usd(counts, prices, architectures or {}),
        "sqs": _d(counts.get("sqs.requests_64kb", 0)) * prices["sqs_standard_per_million_requests"] / MILLION,
        "dynamodb": _sum(counts, "dynamodb.", ".wru")
        * prices["dynamodb_on_demand_per_million_write_request_units"]
        / MILLION
        + _sum(counts, "dynamodb.", ".rru")
        * prices["dynamodb_on_demand_per_million_read_request_units"]
        / MILLION,
        "stepfunctions": _sum(counts, "states.", ".transitions")
        * prices["stepfunctions_standard_per_thousand_transitions"]
        / 1000
        + _sum(counts, "states.", ".express_executions")
        * prices["stepfunctions_express_per_million_requests"]
        / MILLION
        + _sum(counts, "states.", ".express_gb_seconds") * prices["stepfunctions_express_per_gb_hour"] / 3600,
        "eventbridge": firings_rule * prices["eventbridge_scheduled_rule_per_million_invocations"] / MILLION
        + firings_scheduler * prices["eventbridge_scheduler_per_million_invocations"] / MILLION
        # Events to the merchant: one PutEvents entry per final transition (each under 64 KB).
        + _sum(counts, "requests.events.PutEvents", "")
        * prices["eventbridge_custom_events_per_million"]
        / MILLION,
        "secretsmanager": _sum(counts, "requests.secretsmanager.", "")
        * prices["secretsmanager_per_ten_thousand_api_calls"]
        / 10_000
        + _d(counts.get("secretsmanager.secrets_month", 0)) * prices["secretsmanager_per_secret_month"],
        "kms": _sum(counts, "requests.kms.", "") * prices["kms_per_ten_thousand_requests"] / 10_000,
        "cloudwatch_logs": log_bytes / GIB * prices["cloudwatch_logs_ingestion_per_gb"],
    }


def runs_per_month(expression: str) -> int:
    """How often a schedule fires in a 730-hour month, by stepping through its expression."""
    from tijori_local.schedule import Schedule

    schedule = Schedule.parse(expression)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    end = start + timedelta(hours=HOURS_PER_MONTH)
    runs, moment = 0, start
    while (moment := schedule.next_after(moment)) <= end:
        runs += 1
    return runs


@dataclass
class Measured:
    """What a workload measured: per-payout counts by category, and per idle run by schedule."""

    per_payout: dict[str, dict[str, float]]
    idle_run: dict[str, dict[str, float]]  # schedule prefix -> counts of one run with nothing due
    schedules: dict[str, dict[str, str]]  # schedule prefix -> {"expression", "type"}
    sqs_triggers: int = 1
    secrets: int = 1
    payouts: dict[str, int] = field(default_factory=dict)
    architectures: dict[str, str] = field(default_factory=dict)  # function logical id -> arch


def fixed_monthly_counts(measured: Measured) -> dict[str, float]:
    counts: dict[str, float] = {}
    for prefix, schedule in measured.schedules.items():
        runs = runs_per_month(schedule["expression"])
        for name, value in measured.idle_run.get(prefix, {}).items():
            counts[name] = counts.get(name, 0) + value * runs
        counts[f"{prefix}.firings"] = float(runs)
    counts["sqs.requests_64kb"] = counts.get("sqs.requests_64kb", 0) + float(
        IDLE_RECEIVES_PER_SQS_TRIGGER_PER_MONTH * measured.sqs_triggers
    )
    counts["secretsmanager.secrets_month"] = float(measured.secrets)
    return counts


def is_bookkeeping(name: str) -> bool:
    """Counters that say how to split others (schedule firings, scheduled runs, empty receives),
    not what AWS bills."""
    return name.endswith((".empty", ".firings")) or name.startswith(("runs.", "schedule."))


def per_payout_counts(
    delta: Mapping[str, float], idle_run: Mapping[str, Mapping[str, float]], payouts: int
) -> dict[str, float]:
    """A phase's counts per payout, the scheduled runs during it taken out as the fixed cost.

    Each schedule's runs are taken out at what one idle run counted (`idle_run`, per firing),
    except their Lambda durations: those are taken out at what this phase's own idle runs lasted
    (`runs.<Function>.idle_*`, see tijori_local.metering), because the phase's load slows an idle
    run too and the idle stretch's figure would charge that to the payouts. A count never goes
    below zero."""
    adjusted = dict(delta)
    own_durations: set[str] = set()
    for name, runs in delta.items():
        if not (name.startswith("runs.") and name.endswith(".count")):
            continue
        function = name.removeprefix("runs.").removesuffix(".count")
        idle_runs = delta.get(f"runs.{function}.idle_count", 0)
        if not idle_runs:
            continue
        for unit in ("billed_ms", "gb_seconds"):
            counter = f"lambda.{function}.{unit}"
            idle_each = delta[f"runs.{function}.idle_{unit}"] / idle_runs
            adjusted[counter] = delta.get(counter, 0) - runs * idle_each
            own_durations.add(counter)
    for prefix, idle in idle_run.items():
        firings = delta.get(f"{prefix}.firings", 0)
        for name, value in idle.items():
            if name not in own_durations:
                adjusted[name] = adjusted.get(name, 0) - firings * value
    return {
        name: round(max(0.0, value) / payouts, 6)
        for name, value in adjusted.items()
        if not is_bookkeeping(name) and max(0.0, value) > 0
    }


def settled_mix(per_payout: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    present = {category: weight for category, weight in MIX.items() if category in per_payout}
    total = sum(present.values(), Decimal(0))
    mixed: dict[str, float] = {}
    for category, weight in present.items():
        for name, value in per_payout[category].items():
            mixed[name] = mixed.get(name, 0) + value * float(weight / total)
    return mixed


def _round(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.0001")))


def model(
    measured: Measured,
    prices: Mapping[str, Decimal],
    *,
    payouts_per_month: int = 1_000_000,
    pending_shares: tuple[int, ...] = (0, 10, 50),
) -> dict[str, float]:
    """`cost.per_million_payouts_usd.pending_<p>pct` (+ `.<service>`), per category, fixed."""
    types = {prefix: schedule["type"] for prefix, schedule in measured.schedules.items()}
    arches = measured.architectures
    per_category = {
        category: cost_by_service(counts, prices, types, arches)
        for category, counts in measured.per_payout.items()
    }
    settled = cost_by_service(settled_mix(measured.per_payout), prices, types, arches)
    pending = per_category.get("pending_full_window", dict.fromkeys(SERVICES, Decimal(0)))
    fixed = cost_by_service(fixed_monthly_counts(measured), prices, types, arches)
    amortised = {service: fixed[service] * MILLION / payouts_per_month for service in SERVICES}
    out: dict[str, float] = {
        "cost.payouts_per_month_assumed": float(payouts_per_month),
        "cost.fixed_per_month_usd": _round(sum(fixed.values(), Decimal(0))),
    }
    for service in SERVICES:
        out[f"cost.fixed_per_month_usd.{service}"] = _round(fixed[service])
    for share in pending_shares:
        p = Decimal(share) / 100
        name = f"cost.per_million_payouts_usd.pending_{share}pct"
        total = Decimal(0)
        for service in SERVICES:
            value = MILLION * ((1 - p) * settled[service] + p * pending[service]) + amortised[service]
            out[f"{name}.{service}"] = _round(value)
            total += value
        out[name] = _round(total)
    for category, costs in per_category.items():
        out[f"cost.per_million_payouts_usd.category.{category}"] = _round(
            MILLION * sum(costs.values(), Decimal(0))
        )
    return out


def top_services(figures: Mapping[str, float], share: int, count: int = 3) -> list[tuple[str, float]]:
    prefix = f"cost.per_million_payouts_usd.pending_{share}pct."
    services = [
        (name.removeprefix(prefix), value) for name, value in figures.items() if name.startswith(prefix)
    ]
    return sorted(services, key=lambda item: -item[1])[:count]
