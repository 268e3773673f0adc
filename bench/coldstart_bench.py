"""`coldstart.<function>_ratio`: importing a function's `app.py` against a bare import of its
libraries (target <= 1.3 for each function).

Each sample is a fresh interpreter that times one import with `time.perf_counter` (interpreter
start-up is left out, as it is the same for both). A function is imported as Lambda imports it:
its code directory first on `sys.path`, module `app`, the template's environment for that function
(resolved by deploying template.yaml into moto's in-process mock, here in the parent only), and
the variables the Lambda runtime sets, tracing on (`LAMBDA_TASK_ROOT` set,
`POWERTOOLS_TRACE_DISABLED` unset). The baseline is `import boto3, aws_lambda_powertools, pydantic`
in the same environment. Rounds alternate the five imports, each round in another order, so that
noise on this shared machine hits all alike; each figure is the median of its samples, and a ratio
compares medians.

Credentials are fake and set in the environment, as Lambda sets the role's: a client built at
import never looks for credentials on the network. Bytecode is cached under a temporary
PYTHONPYCACHEPREFIX, written by warm-up imports, so no sample compiles source. Packages that this
venv has for development only and that the layers do not ship (NOT_DEPLOYED: httpx imports its
command-line tool's rich, click and pygments whenever they are installed) are hidden from every
sample, baseline included, so that a sample imports what Lambda would.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

from tijori_local.functions import FUNCTION_NAMES, FUNCTIONS_ROOT

ROUNDS = 15
WARM_UP_ROUNDS = 2
REGION = "ap-south-1"
BASELINE = "baseline"
# Logical ids in template.yaml of the four functions.
LOGICAL_IDS = {
    "initiate": "InitiateFunction",
    "payout": "PayoutFunction",
    "status_poller": "StatusPollerFunction",
    "callback": "CallbackFunction",
}
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIACOLDSTARTBENCH00",
    "AWS_SECRET_ACCESS_KEY": "coldstart-bench-not-a-secret",
    "AWS_SESSION_TOKEN": "coldstart-bench-not-a-token",
}
# Installed here by schemathesis, pytest and uvicorn; not in layers/*/requirements.txt.
NOT_DEPLOYED = ("rich", "click", "pygments")
_TIMED_IMPORT = """
import sys, time
not_deployed = frozenset(sys.argv[2].split(","))

class NotDeployed:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in not_deployed:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotDeployed)
code_dir = sys.argv[1]
if code_dir:
    sys.path.insert(0, code_dir)
started = time.perf_counter()
if code_dir:
    import app
else:
    import boto3, aws_lambda_powertools, pydantic
print(time.perf_counter() - started)
"""


def function_environments() -> dict[str, dict[str, str]]:
    """Each function's environment from template.yaml, references resolved against moto."""
    from moto import mock_aws

    from tijori_local.deploy import LocalDeployer
    from tijori_local.template import load_template

    fake_aws = {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
    with mock.patch.dict(os.environ, fake_aws), mock_aws():
        import boto3

        stack = LocalDeployer(
            load_template(),
            dynamodb=boto3.client("dynamodb", region_name=REGION),
            sqs=boto3.client("sqs", region_name=REGION),
            secretsmanager=boto3.client("secretsmanager", region_name=REGION),
            stepfunctions=boto3.client("stepfunctions", region_name=REGION),
            region=REGION,
        ).deploy()
    return {name: dict(stack.functions[LOGICAL_IDS[name]].environment) for name in FUNCTION_NAMES}


def lambda_environment(function_name: str, pycache: Path) -> dict[str, str]:
    """What the Lambda runtime sets for every function (tracing on, as `Tracing: Active`)."""
    kept = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TZ") if name in os.environ}
    return {
        **kept,
        **FAKE_CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]coldstart",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "LAMBDA_TASK_ROOT": str(FUNCTIONS_ROOT),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "PYTHONPYCACHEPREFIX": str(pycache),
    }


def _import_seconds(code_dir: str, environment: dict[str, str]) -> float:
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own fixed script
        [sys.executable, "-c", _TIMED_IMPORT, code_dir, ",".join(NOT_DEPLOYED)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {code_dir or 'the baseline'} failed:\n{completed.stderr}")
    return float(completed.stdout.strip().splitlines()[-1])


def run() -> dict[str, float]:
    environments = function_environments()
    with tempfile.TemporaryDirectory(prefix="tijori-coldstart-pycache-") as pycache:
        targets: dict[str, tuple[str, dict[str, str]]] = {
            BASELINE: ("", lambda_environment("tijori-coldstart-baseline", Path(pycache)))
        }
        for name in FUNCTION_NAMES:
            base = lambda_environment(f"tijori-{LOGICAL_IDS[name]}", Path(pycache))
            targets[name] = (str(FUNCTIONS_ROOT / name), {**base, **environments[name]})
        for _ in range(WARM_UP_ROUNDS):
            for code_dir, environment in targets.values():
                _import_seconds(code_dir, environment)
        samples: dict[str, list[float]] = {name: [] for name in targets}
        order = list(targets)
        for round_number in range(ROUNDS):
            shift = round_number % len(order)
            for name in order[shift:] + order[:shift]:
                code_dir, environment = targets[name]
                samples[name].append(_import_seconds(code_dir, environment))
    median = {name: statistics.median(values) for name, values in samples.items()}
    figures = {"coldstart.baseline_ms": round(median[BASELINE] * 1000, 1)}
    for name in FUNCTION_NAMES:
        figures[f"coldstart.{name}_ms"] = round(median[name] * 1000, 1)
        figures[f"coldstart.{name}_ratio"] = round(median[name] / median[BASELINE], 2)
    return figures
