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
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
