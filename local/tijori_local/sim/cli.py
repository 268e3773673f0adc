"""`tijori-sim --host 127.0.0.1 --port PORT --credentials FILE [--time-scale S]
[--prepaid-token-format provider|authenticated] [--prepaid-fixed-iv HEX]
[--pg-pending-status TXN_PENDING|PENDING]`.

Prints `SIM_URL=http://HOST:PORT` on one line once it is listening, then
`SIM_PREPAID_URL=http://127.0.0.1:PORT` (the prepaid gate, seed 003's own door), then serves until
SIGINT or SIGTERM (uvicorn handles both).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from paytm_signing import MerchantCredentials, MerchantCredentialsError
from tijori_local.sim.context import DEFAULT_PG_PENDING_STATUS, PG_PENDING_STATUSES
from tijori_local.sim.server import SimServer
from tijori_local.sim.token_formats import (
    DEFAULT_PREPAID_TOKEN_FORMAT_NAME,
    PREPAID_TOKEN_FORMAT_NAMES,
    prepaid_token_format_for,
)

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tijori-sim", description="Paytm sandbox simulator for Tijori")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--credentials", required=True, type=Path, help="merchant secret JSON file")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="simulated seconds per real second (7200: 5 days in a minute)",
    )
    parser.add_argument(
        "--prepaid-token-format",
        choices=PREPAID_TOKEN_FORMAT_NAMES,
        default=DEFAULT_PREPAID_TOKEN_FORMAT_NAME,
        help="seed 003 token envelope: provider (bare AES-192-CBC, fixed IV, no MAC; default) or "
        "authenticated (Tijori's random IV + HMAC); plain-cbc and tijori are their old names",
    )
    parser.add_argument(
        "--prepaid-fixed-iv",
        metavar="HEX",
        default=None,
        help="provider only: the fixed IV as 32 hex digits (default the credentials' prepaid.iv, "
        "else 16 zero bytes)",
    )
    parser.add_argument(
        "--pg-pending-status",
        choices=PG_PENDING_STATUSES,
        default=DEFAULT_PG_PENDING_STATUS,
        help="STATUS of not-yet-final PG orders and pending refunds: TXN_PENDING (seed 002, default) "
        "or PENDING (Paytm's public docs and SDKs)",
    )
    parser.add_argument("--log-level", default="warning")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        data = json.loads(args.credentials.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise MerchantCredentialsError(f"{args.credentials} must hold a JSON object")
        credentials = MerchantCredentials.from_mapping(data, source=str(args.credentials))
    except (OSError, json.JSONDecodeError, MerchantCredentialsError) as exc:
        print(f"tijori-sim: {exc}", file=sys.stderr)
        return 2
    try:
        fixed_iv = None if args.prepaid_fixed_iv is None else bytes.fromhex(args.prepaid_fixed_iv)
        token_format = prepaid_token_format_for(credentials, args.prepaid_token_format, fixed_iv)
    except ValueError as exc:
        print(f"tijori-sim: --prepaid-fixed-iv / --prepaid-token-format: {exc}", file=sys.stderr)
        return 2
    server = SimServer(
        credentials,
        host=args.host,
        port=args.port,
        time_scale=args.time_scale,
        log_level=args.log_level,
        prepaid_token_format=token_format,
        pg_pending_status=args.pg_pending_status,
    )
    # Serve in the main thread so uvicorn installs its SIGINT/SIGTERM handlers; announce the URL
    # from a watcher once the socket is bound.
    return server.serve_forever(
        announce=lambda url: print(f"SIM_URL={url}", flush=True),
        announce_prepaid=lambda url: print(f"SIM_PREPAID_URL={url}", flush=True),
    )


if __name__ == "__main__":
    raise SystemExit(main())
