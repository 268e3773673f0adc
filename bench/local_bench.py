"""`local.startup_s`: from starting `tijori local up` to its `API_URL=` line (target < 10 s).

Measured as a user sees it: a new process, imports included, median of three starts.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

STARTS = 3


def _one_start() -> float:
    tijori = Path(sys.executable).parent / "tijori"
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
        [str(tijori), "local", "up", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("API_URL="):
                return time.monotonic() - started
        raise RuntimeError("tijori local up exited before printing API_URL=")
    finally:
        process.terminate()
        process.wait(30)


def run() -> dict[str, float]:
    return {"local.startup_s": round(statistics.median(_one_start() for _ in range(STARTS)), 2)}
