"""Run every benchmark module and write one flat JSON object of named figures."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
from pathlib import Path

# Each module exposes `run() -> dict[str, float]`. A module that is not there yet is reported,
# not silently skipped.
BENCHMARKS = (
    "bench.signing_bench",
    "bench.sim_bench",
    "bench.local_bench",
    "bench.worker_bench",
    "bench.api_bench",
    "bench.polling_bench",
    "bench.cost_bench",
    "bench.coldstart_bench",
)


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
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            print(f"{module_name}: not available ({error})", file=sys.stderr)
            failed = True
            continue
        results = module.run()
        for name, value in results.items():
            print(f"{name:40s} {value}")
        figures.update(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
