"""The cost model's arithmetic on a small fixed set of counts, and the metering's unit rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bench.cost_model import (
    HOURS_PER_MONTH,
    IDLE_RECEIVES_PER_SQS_TRIGGER_PER_MONTH,
    PLATFORM_LOG_BYTES_PER_INVOCATION,
    Measured,
    cost_by_service,
    load_prices,
    model,
    per_payout_counts,
    runs_per_month,
)
from tijori_local.metering import UNMETERED_AGENT, Meter, item_size, read_units, write_units
from tijori_local.moto_seams import DynamoRead, DynamoWrite, IndexShape, TableShape

PRICES = {name: Decimal(0) for name in load_prices()}
PRICES.update(
    {
        "apigw_http_per_million_requests": Decimal("1.00"),
        "lambda_per_million_requests": Decimal("0.20"),
        "lambda_per_gb_second_x86": Decimal("0.0000166667"),
        "lambda_per_gb_second_arm64": Decimal("0.0000133334"),
        "sqs_standard_per_million_requests": Decimal("0.40"),
        "dynamodb_on_demand_per_million_write_request_units": Decimal("0.625"),
        "stepfunctions_standard_per_thousand_transitions": Decimal("0.025"),
    }
)


def test_prices_are_exact_decimals_with_a_source_each() -> None:
    prices = load_prices()
    assert prices["lambda_per_gb_second_x86"] == Decimal("0.0000166667")
    assert all(value >= 0 for value in prices.values())


def test_cost_by_service_on_fixed_counts() -> None:
    counts = {
        "apigw.http.requests": 1,
        "lambda.A.invocations": 2,
        "lambda.A.gb_seconds": 0.5,
        "sqs.requests_64kb": 4,
        "dynamodb.T.wru": 3,
        "dynamodb.T.I.wru": 1,
        "states.M.transitions": 4,
    }
    costs = cost_by_service(counts, PRICES, {})
    assert costs["apigateway"] == Decimal("0.000001")
    assert costs["lambda"] == Decimal("0.0000004") + Decimal("0.5") * Decimal("0.0000166667")
    assert costs["sqs"] == Decimal("0.0000016")
    assert costs["dynamodb"] == Decimal("0.0000025")
    assert costs["stepfunctions"] == Decimal("0.0001")
    assert costs["cloudwatch_logs"] == 0  # priced at 0 here, though platform lines are counted
    assert PLATFORM_LOG_BYTES_PER_INVOCATION > 0


def test_model_mixes_pending_and_amortises_fixed_costs() -> None:
    settled = {"apigw.http.requests": 1.0, "lambda.A.invocations": 1.0}  # 1.2e-6 $ per payout
    pending = {"states.M.transitions": 40.0}  # 0.001 $ per payout
    measured = Measured(
        per_payout={"settled": settled, "pending_full_window": pending},
        idle_run={"schedule.F.Sweep": {"lambda.F.invocations": 1.0}},
        schedules={"schedule.F.Sweep": {"expression": "rate(1 hour)", "type": "Schedule"}},
        sqs_triggers=1,
        secrets=0,
    )
    result = model(measured, PRICES, payouts_per_month=2_000_000)
    # Fixed: 730 runs x 0.2 $/M invocations + the idle SQS receives x 0.40 $/M, over 2 M payouts.
    fixed = Decimal(730) * Decimal("0.0000002") + IDLE_RECEIVES_PER_SQS_TRIGGER_PER_MONTH * Decimal(
        "0.0000004"
    )
    assert result["cost.fixed_per_month_usd"] == pytest.approx(float(fixed), abs=1e-4)
    per_million_fixed = fixed / 2
    assert result["cost.per_million_payouts_usd.pending_0pct"] == pytest.approx(
        float(Decimal("1.2") + per_million_fixed), abs=1e-3
    )
    assert result["cost.per_million_payouts_usd.pending_10pct"] == pytest.approx(
        float(Decimal("0.9") * Decimal("1.2") + Decimal("0.1") * 1000 + per_million_fixed), abs=1e-3
    )
    assert result["cost.per_million_payouts_usd.pending_50pct.stepfunctions"] == pytest.approx(500.0)
    services = [k for k in result if k.startswith("cost.per_million_payouts_usd.pending_50pct.")]
    assert sum(result[k] for k in services) == pytest.approx(
        result["cost.per_million_payouts_usd.pending_50pct"], abs=1e-3
    )


def test_runs_per_month_follow_the_expression() -> None:
    assert runs_per_month("rate(1 minute)") == HOURS_PER_MONTH * 60
    assert runs_per_month("rate(5 minutes)") == HOURS_PER_MONTH * 12


TABLE = TableShape(
    "t",
    ("order_id",),
    (IndexShape("Due", ("bucket", "next"), "KEYS_ONLY", ()),),
)


def test_item_size_follows_dynamodb_rules() -> None:
    assert item_size({"ab": {"S": "xyz"}}) == 5
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 digits -> 3 + 1
    assert item_size({"m": {"M": {"k": {"BOOL": True}}}}) == 1 + 3 + 1 + 1 + 1


def test_write_units_count_every_index_write() -> None:
    base = {"order_id": {"S": "o1"}, "status": {"S": "PENDING"}}
    due = {**base, "bucket": {"S": "3"}, "next": {"N": "100"}}
    later = {**due, "next": {"N": "200"}}
    big = {**base, "blob": {"S": "x" * 1500}}
    assert write_units(DynamoWrite(TABLE, None, base, False, False)) == {None: 1}
    assert write_units(DynamoWrite(TABLE, None, due, False, False)) == {None: 1, "Due": 1}  # put
    assert write_units(DynamoWrite(TABLE, due, later, False, False)) == {None: 1, "Due": 2}  # key moved
    assert write_units(DynamoWrite(TABLE, due, base, False, False)) == {None: 1, "Due": 1}  # left
    assert write_units(DynamoWrite(TABLE, base, big, False, False)) == {None: 2}
    assert write_units(DynamoWrite(TABLE, big, big, True, True)) == {None: 4}  # refused, transactional


def test_read_units() -> None:
    item = {"order_id": {"S": "x" * 5000}}
    assert read_units(DynamoRead(TABLE, None, (item,), True, True)) == 2
    assert read_units(DynamoRead(TABLE, None, (item,), False, True)) == 1
    assert read_units(DynamoRead(TABLE, "Due", (), False, False)) == 0.5


def test_lambda_duration_is_priced_by_each_functions_architecture() -> None:
    counts = {"lambda.A.gb_seconds": 1.0, "lambda.B.gb_seconds": 2.0}
    costs = cost_by_service(counts, PRICES, {}, {"A": "arm64", "B": "x86_64"})
    assert costs["lambda"] == Decimal("0.0000133334") + 2 * Decimal("0.0000166667")
    # Unknown architecture: x86, the dearer price.
    assert cost_by_service(counts, PRICES, {})["lambda"] == 3 * Decimal("0.0000166667")


def test_a_phase_takes_out_its_runs_at_the_idle_counts_and_its_own_idle_durations() -> None:
    idle_run = {"schedule.M.Every": {"lambda.F.invocations": 1.0, "lambda.F.billed_ms": 100.0, "q": 2.0}}
    delta = {
        "schedule.M.Every.firings": 10,  # ten runs: eight idle at 150 ms, two that checked
        "lambda.F.invocations": 10,
        "lambda.F.billed_ms": 8 * 150 + 2 * 400,
        "lambda.F.gb_seconds": (8 * 150 + 2 * 400) / 2000,
        "runs.F.count": 10,
        "runs.F.idle_count": 8,
        "runs.F.idle_billed_ms": 8 * 150,
        "runs.F.idle_gb_seconds": 8 * 150 / 2000,
        "q": 25,  # 20 by the runs themselves, 5 by the payouts' checks
        "lambda.G.invocations": 4,
    }
    counts = per_payout_counts(delta, idle_run, payouts=5)
    # Durations: 2,000 ms in all less 10 runs x 150 ms (this phase's idle runs), not x 100 ms.
    assert counts["lambda.F.billed_ms"] == pytest.approx(500 / 5)
    assert counts["lambda.F.gb_seconds"] == pytest.approx(0.25 / 5)
    assert counts["q"] == pytest.approx(1.0)
    assert counts["lambda.G.invocations"] == pytest.approx(0.8)
    assert "lambda.F.invocations" not in counts  # all ten were the schedule's
    assert not any(name.startswith(("runs.", "schedule.")) for name in counts)


def test_without_idle_runs_in_the_phase_the_idle_stretch_figure_is_used() -> None:
    idle_run = {"schedule.M.Every": {"lambda.F.billed_ms": 100.0}}
    delta = {"schedule.M.Every.firings": 2, "lambda.F.billed_ms": 500, "runs.F.count": 2}
    assert per_payout_counts(delta, idle_run, payouts=1) == {"lambda.F.billed_ms": 300.0}


def test_the_meter_tells_idle_scheduled_runs_from_the_others() -> None:
    meter = Meter()
    meter.scheduled_run_idle = lambda event, result: None if "run" not in event else not result["checked"]
    for event, result in (({"run": 1}, {"checked": []}), ({"run": 2}, {"checked": ["o"]}), ({}, {})):
        with meter.invocation("F", 1024, event) as call:
            call.result = result
    counts = meter.snapshot()
    assert counts["lambda.F.invocations"] == 3
    assert counts["runs.F.count"] == 2
    assert counts["runs.F.idle_count"] == 1
    assert counts["runs.F.idle_billed_ms"] >= 1


def test_the_meter_ignores_the_capacity_an_unmetered_client_uses() -> None:
    meter = Meter()
    item = {"order_id": {"S": "o1"}}
    meter.dynamodb_read(DynamoRead(TABLE, None, (item,), True, True, f"Boto3/1 {UNMETERED_AGENT}"))
    meter.dynamodb_write(DynamoWrite(TABLE, None, item, False, False, f"Boto3/1 {UNMETERED_AGENT}"))
    assert meter.snapshot() == {}
    meter.dynamodb_read(DynamoRead(TABLE, None, (item,), True, True, "Boto3/1 tijori"))
    meter.dynamodb_write(DynamoWrite(TABLE, None, item, False, False, "Boto3/1 tijori"))
    assert meter.snapshot() == {"dynamodb.t.rru": 1, "dynamodb.t.wru": 1}
