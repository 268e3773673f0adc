"""moto as its own OS process, as AWS is to a Lambda: `python -m tijori_local.moto_process`.

In-process moto (`mock_aws()`, or a ThreadedMotoServer in the caller's process) does every
DynamoDB/SQS call's server-side work as Python under the caller's GIL, so a handler's concurrent
AWS calls cannot overlap the way network calls to AWS do. A figure about a handler's concurrency
needs AWS out of the handler's process; this is that process. DynamoDB's conditional writes are
made atomic here as in the local runtime (`moto_seams.atomic_dynamodb_writes`).

Prints `AWS_ENDPOINT_URL=http://127.0.0.1:PORT` once listening, then serves until its standard
input closes (the parent exited) or it is terminated.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator

_ANNOUNCEMENT = "AWS_ENDPOINT_URL="
_STARTUP_TIMEOUT_SECONDS = 30.0


def main() -> int:
    from moto.server import ThreadedMotoServer

    from tijori_local.moto_seams import atomic_dynamodb_writes

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    with atomic_dynamodb_writes():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            print(f"{_ANNOUNCEMENT}http://{host}:{port}", flush=True)
            sys.stdin.read()  # until the parent closes the pipe or goes away
        finally:
            server.stop()
    return 0


def announced_url(process: subprocess.Popen[str], announcement: str, *, timeout: float) -> str:
    """The URL a child process prints on its stdout as `<announcement><url>` once it listens."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(announcement):
            return line.strip().removeprefix(announcement)
        if not line and process.poll() is not None:
            break
    raise RuntimeError(f"the process {process.args!r} did not announce {announcement!r}")


@contextlib.contextmanager
def moto_server_process() -> Iterator[str]:
    """Start the server process; yield its endpoint URL; stop it on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tijori_local.moto_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield announced_url(process, _ANNOUNCEMENT, timeout=_STARTUP_TIMEOUT_SECONDS)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    raise SystemExit(main())
