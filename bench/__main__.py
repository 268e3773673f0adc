"""Run every benchmark module and write one flat JSON object of named figures.

Each module runs in its own interpreter, as `make bench` runs them one after another: one module's
mocks, module caches and loggers (Powertools binds its handler to the stdout of the moment the
logger is built, which the cost bench's metering must count) never reach the next.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

# Each module exposes `run() -> dict[str, float]`. A module that is not there yet is reported,
# not silently skipped.
BENCHMARKS = (
    "bench.signing_bench",
    "bench.sim_bench",
    "bench.local_bench",
    "bench.worker_bench",
    "bench.api_bench",
    "bench.pg_bench",
    "bench.polling_bench",
    "bench.cost_bench",
    "bench.coldstart_bench",
    "bench.bulk_bench",
)


_RUN_ONE = """
import importlib, json, sys
results = importlib.import_module(sys.argv[1]).run()
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(results, out)
"""


def _run_module(module_name: str) -> dict[str, float] | None:
    """The module's `run()` in a fresh interpreter; None (reported) if it failed."""
    with tempfile.TemporaryDirectory(prefix="tijori-bench-") as scratch:
        out = Path(scratch) / "figures.json"
        completed = subprocess.run(  # noqa: S603 - this interpreter, our own fixed script
            [sys.executable, "-c", _RUN_ONE, module_name, str(out)], check=False
        )
        if completed.returncode != 0 or not out.exists():
            print(f"{module_name}: failed (exit {completed.returncode})", file=sys.stderr)
            return None
        results: dict[str, float] = json.loads(out.read_text(encoding="utf-8"))
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("reports/bench.json"))
    parser.add_argument("--only", action="append", help="run only these modules (repeatable)")
    args = parser.parse_args()

    figures: dict[str, float | str] = {
        "machine.python": platform.python_version(),
        "machine.cpu_count": os.cpu_count() or 0,
    }
    failed = False
    for module_name in args.only or BENCHMARKS:
        results = _run_module(module_name)
        if results is None:
            failed = True
            continue
        for name, value in results.items():
            print(f"{name:40s} {value}")
        figures.update(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
