"""`tijori` command line: `tijori local up` runs the whole stack on this machine."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from paytm_signing import MerchantCredentialsError


def _local_up(args: argparse.Namespace) -> int:
    from tijori_local.runtime import LocalRuntime, RuntimeOptions, generated_credentials

    credentials: dict[str, Any] = (
        json.loads(Path(args.credentials).read_text(encoding="utf-8"))
        if args.credentials
        else generated_credentials()
    )
    options = RuntimeOptions(
        api_port=args.port,
        paytm_url=args.paytm_url,
        credentials=credentials,
        time_scale=args.time_scale,
        api_token=args.api_token,
        xray_daemon_address=args.xray_daemon,
        events_url=args.events_url,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        runtime = LocalRuntime(options).start()
    except MerchantCredentialsError as error:
        print(f"tijori local up: {error}", file=sys.stderr)
        return 2
    try:
        print(f"API_URL={runtime.api_url}")
        print(f"AWS_ENDPOINT_URL={runtime.aws_endpoint_url}")
        if runtime.sim_url:
            print(f"SIM_URL={runtime.sim_url}")
        if runtime.sim_prepaid_url:
            print(f"SIM_PREPAID_URL={runtime.sim_prepaid_url}")
        if args.events_url:
            print(f"EVENTS_URL={args.events_url}")
        sys.stdout.flush()
        stop.wait()
    finally:
        runtime.stop()
    return 0


def _dlq_redrive(args: argparse.Namespace) -> int:
    import boto3

    from tijori_local.dlq import queue_urls_from_stack, redrive

    sqs = boto3.client("sqs", endpoint_url=args.endpoint_url)
    if args.dlq_url and args.queue_url:
        dlq_url, queue_url = args.dlq_url, args.queue_url
    elif args.endpoint_url:
        # The local runtime names its queues <stack>-<logical id>.
        dlq_url = sqs.get_queue_url(QueueName=f"{args.stack_name}-PayoutDLQ")["QueueUrl"]
        queue_url = sqs.get_queue_url(QueueName=f"{args.stack_name}-PayoutQueue")["QueueUrl"]
    else:
        dlq_url, queue_url = queue_urls_from_stack(boto3.client("cloudformation"), args.stack_name)
    result = redrive(sqs, dlq_url=dlq_url, queue_url=queue_url)
    print(f"moved {result.moved} message(s) from {dlq_url} to {queue_url}")
    return 0


def _stack_resource(args: argparse.Namespace, logical_id: str) -> str:
    """A resource's physical name: `<stack>-<logical id>` in the local runtime (--endpoint-url),
    the stack's own record in AWS (--stack-name)."""
    if args.endpoint_url:
        return f"{args.stack_name}-{logical_id}"
    import boto3

    described = boto3.client("cloudformation").describe_stack_resource(
        StackName=args.stack_name, LogicalResourceId=logical_id
    )
    return str(described["StackResourceDetail"]["PhysicalResourceId"])


def _payouts_recheck(args: argparse.Namespace) -> int:
    """Ask Paytm now, through the stack's own StatusPollerFunction (the merchant's keys stay in
    Secrets Manager, and Paytm only answers the stack's addresses), and print what it said."""
    import boto3

    lambda_client = boto3.client("lambda", endpoint_url=args.endpoint_url)
    answer = lambda_client.invoke(
        FunctionName=_stack_resource(args, "StatusPollerFunction"),
        Payload=json.dumps({"order_id": args.order_id, "operator_recheck": True}).encode("utf-8"),
    )
    report = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError"):
        print(
            f"tijori payouts recheck: {report.get('errorType')}: {report.get('errorMessage')}",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(report, indent=2))
    return 0


def _payouts_list(args: argparse.Namespace) -> int:
    """Payouts in one status, oldest update first: order id, amount, Paytm's last code and the
    reason of the last transition (a table scan: an operator's tool, not a hot path)."""
    import boto3
    from boto3.dynamodb.conditions import Attr

    table = boto3.resource("dynamodb", endpoint_url=args.endpoint_url).Table(
        _stack_resource(args, "PayoutsTable")
    )
    arguments: dict[str, Any] = {"FilterExpression": Attr("status").eq(args.status)}
    rows: list[dict[str, Any]] = []
    while True:
        page = table.scan(**arguments)
        for item in page.get("Items", []):
            history = item.get("history") or [{}]
            rows.append(
                {
                    "order_id": item["order_id"],
                    "status": item["status"],
                    "amount": item.get("amount"),
                    "updated_at": item.get("updated_at"),
                    "last_status_code": item.get("last_status_code"),
                    "reason": history[-1].get("reason"),
                }
            )
        if "LastEvaluatedKey" not in page:
            break
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    rows.sort(key=lambda row: str(row["updated_at"]))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(
                f"{row['order_id']}\t{row['status']}\t{row['amount']}\t{row['updated_at']}\t"
                f"{row['last_status_code'] or '-'}\t{row['reason']}"
            )
        print(f"{len(rows)} payout(s) {args.status}", file=sys.stderr)
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    from tijori_local.operators import reconcile

    machine = None if args.endpoint_url else _stack_resource(args, "ReconciliationStateMachine")
    return reconcile.run(
        args,
        table_name=_stack_resource(args, "ReconciliationTable"),
        described_state_machine_arn=machine,
    )


def _report(args: argparse.Namespace) -> int:
    from tijori_local.operators.report import report_command

    return report_command(args, resource=lambda logical_id: _stack_resource(args, logical_id))


def _payouts_submit(args: argparse.Namespace) -> int:
    from tijori_local.operators.bulk_submit import run

    return run(
        Path(args.file),
        api_url=args.api_url,
        stack_name=args.stack_name,
        api_token=args.api_token,
        sigv4=args.sigv4,
        batch_id=args.batch_id,
        wait=args.wait,
        poll_seconds=args.poll_seconds,
        timeout=args.timeout,
        rows_per_request=args.rows_per_request,
    )


def _add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack-name", default="tijori-local", help="deployed stack, or the local prefix")
    parser.add_argument("--endpoint-url", help="the local runtime's AWS_ENDPOINT_URL (omit for AWS)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tijori", description="Tijori on this machine")
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser("local", help="the local runtime").add_subparsers(
        dest="action", required=True
    )
    up = local.add_parser("up", help="run the stack of template.yaml in the foreground until interrupted")
    up.add_argument("--port", type=int, default=8787, help="HTTP API port on 127.0.0.1 (0: any free port)")
    up.add_argument("--paytm-url", help="send every Paytm call here instead of starting the simulator")
    up.add_argument("--credentials", help="merchant secret JSON file (default: generated local credentials)")
    up.add_argument("--time-scale", type=float, default=1.0, help="simulated seconds per real second")
    up.add_argument("--api-token", help="require 'Authorization: Bearer TOKEN' on merchant routes")
    up.add_argument(
        "--xray-daemon",
        metavar="HOST:PORT",
        help="trace the functions as in Lambda, to an X-Ray daemon here (UDP)",
    )
    up.add_argument(
        "--events-url",
        help="POST every event the stack puts on its event bus (final transitions) here, as JSON",
    )
    up.set_defaults(run=_local_up)
    dlq = commands.add_parser("dlq", help="the payout dead-letter queue").add_subparsers(
        dest="action", required=True
    )
    redrive = dlq.add_parser("redrive", help="move every PayoutDLQ message back to PayoutQueue")
    redrive.add_argument(
        "--stack-name", default="tijori-local", help="deployed stack (outputs) or local prefix"
    )
    redrive.add_argument("--endpoint-url", help="the local runtime's AWS_ENDPOINT_URL")
    redrive.add_argument("--dlq-url")
    redrive.add_argument("--queue-url")
    redrive.set_defaults(run=_dlq_redrive)
    payouts = commands.add_parser("payouts", help="operators' view of payouts").add_subparsers(
        dest="action", required=True
    )
    recheck = payouts.add_parser("recheck", help="ask Paytm for a payout's status now and print the answer")
    recheck.add_argument("order_id")
    _add_stack_arguments(recheck)
    recheck.set_defaults(run=_payouts_recheck)
    listing = payouts.add_parser("list", help="payouts in one status (e.g. NEEDS_REVIEW)")
    listing.add_argument(
        "--status",
        required=True,
        choices=["ACCEPTED", "PROCESSING", "PENDING", "SUCCESS", "FAILED", "REVERSED", "NEEDS_REVIEW"],
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of tab-separated rows")
    _add_stack_arguments(listing)
    listing.set_defaults(run=_payouts_list)
    from tijori_local.operators.reconcile import add_arguments as add_reconcile_arguments

    reconcile = commands.add_parser("reconcile", help="compare every item of a window with Paytm's record")
    add_reconcile_arguments(reconcile)
    _add_stack_arguments(reconcile)
    reconcile.set_defaults(run=_reconcile)

    from tijori_local.operators.report import add_arguments as add_report_arguments

    report = commands.add_parser("report", help="the operators' report with charts, one HTML file")
    add_report_arguments(report)
    _add_stack_arguments(report)
    report.set_defaults(run=_report)

    submit = payouts.add_parser(
        "submit", help="send a payout file (CSV) as a payout batch; --wait for results"
    )
    submit.add_argument("file", help="the CSV: a header row, then one payout per line (README, Bulk payouts)")
    where = submit.add_mutually_exclusive_group(required=True)
    where.add_argument("--api-url", help="the API's base URL (the local runtime's API_URL)")
    where.add_argument("--stack-name", help="a deployed stack: its ApiUrl output, requests signed with SigV4")
    submit.add_argument("--api-token", help="the local runtime's --api-token, sent as a bearer token")
    submit.add_argument("--sigv4", action="store_true", help="sign --api-url requests with AWS credentials")
    submit.add_argument("--batch-id", help="the batch id (default: derived from the file's bytes)")
    submit.add_argument(
        "--wait", action="store_true", help="wait until every payout is final, write FILE.results.csv"
    )
    submit.add_argument("--poll-seconds", type=float, default=2.0, help="seconds between progress checks")
    submit.add_argument("--timeout", type=float, help="stop waiting after this many seconds")
    submit.add_argument(
        "--rows-per-request", type=int, default=500, help="rows per POST (the API takes up to 5000)"
    )
    submit.set_defaults(run=_payouts_submit)
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
