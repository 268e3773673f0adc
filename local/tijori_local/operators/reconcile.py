"""`tijori reconcile`: start a reconciliation run in the stack, wait for it, print the mismatches,
write the findings as JSON.

The run itself happens inside the stack (the reconciliation state machine and
StatusPollerFunction): the merchant's keys stay in Secrets Manager and Paytm only answers the
stack's addresses. This command starts the execution, waits, and reads the run's record and
findings from ReconciliationTable.

Exit codes: 0 no mismatch; 1 mismatches; 2 the run failed (or never finished); 3 no mismatch,
but some items got no usable answer from Paytm and are not reconciled.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tijori.adapters.reconciliation_table import run_and_findings

EXIT_CLEAN = 0
EXIT_MISMATCHES = 1
EXIT_RUN_FAILED = 2
EXIT_UNANSWERED = 3
_POLL_SECONDS = 0.2


def parse_since(text: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 time; without an offset, UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since {text!r}: not a date (YYYY-MM-DD) or ISO 8601 time"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=parse_since, help="window start (default: the last 24 hours)")
    parser.add_argument("--kind", choices=["payouts", "payments", "refunds", "all"], default="all")
    parser.add_argument(
        "--out", type=Path, help="findings JSON (default reports/reconciliation-<run id>.json)"
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the run")


def _state_machine_arn(stepfunctions: Any, stack_name: str, *, local: bool, described_arn: str | None) -> str:
    if not local and described_arn is not None:
        return described_arn
    name = f"{stack_name}-reconciliation"  # template.yaml names it so
    for page in stepfunctions.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == name:
                return str(machine["stateMachineArn"])
    raise LookupError(f"no state machine {name!r}")


def _wait(stepfunctions: Any, execution_arn: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = stepfunctions.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(_POLL_SECONDS)


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals as ints (counts) for JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def mismatch_table(mismatches: list[dict[str, Any]]) -> str:
    """One line per mismatch: kind, id, Tijori's status and amount, Paytm's, and why."""
    header = ("kind", "id", "tijori", "paytm", "mismatch")
    rows = [
        (
            str(found["kind"]),
            str(found["id"]),
            f"{found['tijori']['status']} {found['tijori']['amount']}",
            f"{found['paytm'].get('status') or found['paytm']['state']} {found['paytm'].get('amount', '-')}",
            "; ".join(found["mismatches"]),
        )
        for found in mismatches
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in [header, *rows]
    )


def run(args: argparse.Namespace, *, table_name: str, described_state_machine_arn: str | None = None) -> int:
    import boto3

    stepfunctions = boto3.client("stepfunctions", endpoint_url=args.endpoint_url)
    machine_arn = _state_machine_arn(
        stepfunctions,
        args.stack_name,
        local=args.endpoint_url is not None,
        described_arn=described_state_machine_arn,
    )
    request: dict[str, Any] = {"kind": args.kind}
    if args.since is not None:
        request["since"] = args.since.isoformat()
    started = stepfunctions.start_execution(
        stateMachineArn=machine_arn,
        name=f"operator-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{int(time.time_ns() % 1_000_000)}",
        input=json.dumps({"reconcile": request}),
    )
    described = _wait(stepfunctions, started["executionArn"], args.timeout)
    if described["status"] != "SUCCEEDED":
        print(
            f"tijori reconcile: the run {described['status']}: {described.get('error', '')} "
            f"{described.get('cause', '')}".rstrip(),
            file=sys.stderr,
        )
        return EXIT_RUN_FAILED
    run_id = str(json.loads(described["output"])["reconcile"]["run_id"])
    table = boto3.resource("dynamodb", endpoint_url=args.endpoint_url).Table(table_name)
    stored, findings = run_and_findings(table, run_id)
    record = stored or {}
    counts = _plain(record.get("counts", {}))
    mismatches = [_plain(found) for found in findings if found["verdict"] == "MISMATCH"]
    unanswered = [_plain(found) for found in findings if found["verdict"] == "UNANSWERED"]
    report = {
        "run_id": run_id,
        "state": record.get("state"),
        "since": record.get("since"),
        "until": record.get("until"),
        "kinds": _plain(record.get("kinds", [])),
        "counts": counts,
        "mismatches": mismatches,
        "findings": [_plain(found) for found in findings],
    }
    out: Path = args.out or Path("reports") / f"reconciliation-{run_id}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"run {run_id}: window {record.get('since')} .. {record.get('until')}, kinds {report['kinds']}")
    for kind, by_verdict in counts.items():
        print(f"  {kind}: {json.dumps(by_verdict, sort_keys=True)}")
    prepaid = counts.get("payouts", {}).get("NO_STATUS_API", 0)
    if prepaid:
        print(f"  prepaid loads not checked: {prepaid} (seed 003 has no status API)")
    if mismatches:
        print(f"{len(mismatches)} mismatch(es):")
        print(mismatch_table(mismatches))
    else:
        print("no mismatches")
    if unanswered:
        print(f"{len(unanswered)} item(s) not reconciled (no usable answer from Paytm):", file=sys.stderr)
        for found in unanswered:
            print(f"  {found['kind']} {found['id']}: {found['paytm'].get('message', '')}", file=sys.stderr)
    print(f"findings written to {out}")
    if mismatches:
        return EXIT_MISMATCHES
    return EXIT_UNANSWERED if unanswered else EXIT_CLEAN
