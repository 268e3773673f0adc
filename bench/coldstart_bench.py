"""`coldstart.<function>_ratio`: importing a function's `app.py` against a bare import of its
libraries (target <= 1.3 for each function); `coldstart.<function>_floor_ratio`: the same for the
function's floor, and `coldstart.<function>_over_floor`: the function against its floor.

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

A function's floor (FLOORS) is what it cannot start without: the third-party modules it genuinely
needs, set up as it sets them up, and nothing of Tijori's. Logger, Metrics and a Tracer that
patches exactly what the function calls (tracing on, so aws_xray_sdk is loaded); its event source
utility (Event Handler, with validation for initiate; the batch utility for payout); httpx and the
AES cipher for those that call Paytm or verify its checksums; boto3; and pydantic with one model
built, as every function validates its settings, messages or events with pydantic models (the
baseline's bare `import pydantic` loads none of the model machinery). Powertools parameters, which
the functions that read the merchant secret load on their first request, is left out of both.
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
# Powertools first: its batch utility loads every parser model (a pydantic model per event source)
# when pydantic is imported before it, and no function here needs those.
_OBSERVABILITY = """
from aws_lambda_powertools import Logger, Metrics, Tracer
logger, metrics, tracer = Logger(), Metrics(namespace="Tijori"), Tracer(auto_patch=False)
"""
_AWS_AND_MODELS = """
import boto3
from pydantic import BaseModel, Field
class Settings(BaseModel):
    table_name: str = Field(min_length=1)
"""
_CIPHER = "from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes\n"
FLOORS = {
    "initiate": _OBSERVABILITY
    + """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
APIGatewayHttpResolver(enable_validation=True)
tracer.patch(["botocore"])
"""
    + _AWS_AND_MODELS,
    "payout": _OBSERVABILITY
    + """
from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType
AsyncBatchProcessor(event_type=EventType.SQS)
tracer.patch(["botocore", "httpx"])
import httpx
"""
    + _CIPHER
    + _AWS_AND_MODELS,
    "status_poller": _OBSERVABILITY
    + """
import asyncio
asyncio.new_event_loop()
tracer.patch(["botocore", "httpx"])
import httpx
"""
    + _CIPHER
    + _AWS_AND_MODELS,
    "callback": _OBSERVABILITY
    + """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
APIGatewayHttpResolver()
tracer.patch(["botocore"])
"""
    + _CIPHER
    + _AWS_AND_MODELS,
}
_TIMED_IMPORT = """
import sys, time
not_deployed = frozenset(sys.argv[2].split(","))
floor = compile(sys.argv[3], "<floor>", "exec") if len(sys.argv) > 3 else None

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
elif floor is not None:
    exec(floor)
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


def _import_seconds(code_dir: str, environment: dict[str, str], floor: str | None = None) -> float:
    extra = [] if floor is None else [floor]
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own fixed script
        [sys.executable, "-c", _TIMED_IMPORT, code_dir, ",".join(NOT_DEPLOYED), *extra],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        what = code_dir or ("a floor" if floor is not None else "the baseline")
        raise RuntimeError(f"importing {what} failed:\n{completed.stderr}")
    return float(completed.stdout.strip().splitlines()[-1])


def run() -> dict[str, float]:
    environments = function_environments()
    with tempfile.TemporaryDirectory(prefix="tijori-coldstart-pycache-") as pycache:
        targets: dict[str, tuple[str, dict[str, str], str | None]] = {
            BASELINE: ("", lambda_environment("tijori-coldstart-baseline", Path(pycache)), None)
        }
        for name in FUNCTION_NAMES:
            base = lambda_environment(f"tijori-{LOGICAL_IDS[name]}", Path(pycache))
            environment = {**base, **environments[name]}
            targets[name] = (str(FUNCTIONS_ROOT / name), environment, None)
            targets[_floor(name)] = ("", environment, FLOORS[name])
        for _ in range(WARM_UP_ROUNDS):
            for target in targets.values():
                _import_seconds(*target)
        samples: dict[str, list[float]] = {name: [] for name in targets}
        order = list(targets)
        for round_number in range(ROUNDS):
            shift = round_number % len(order)
            for name in order[shift:] + order[:shift]:
                samples[name].append(_import_seconds(*targets[name]))
    median = {name: statistics.median(values) for name, values in samples.items()}
    figures = {"coldstart.baseline_ms": round(median[BASELINE] * 1000, 1)}
    for name in FUNCTION_NAMES:
        figures[f"coldstart.{name}_ms"] = round(median[name] * 1000, 1)
        figures[f"coldstart.{name}_ratio"] = round(median[name] / median[BASELINE], 2)
    for name in FUNCTION_NAMES:
        floor = median[_floor(name)]
        figures[f"coldstart.{name}_floor_ms"] = round(floor * 1000, 1)
        figures[f"coldstart.{name}_floor_ratio"] = round(floor / median[BASELINE], 2)
        figures[f"coldstart.{name}_over_floor"] = round(median[name] / floor, 2)
    return figures


def _floor(name: str) -> str:
    return f"{name}.floor"
