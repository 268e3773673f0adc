"""Shared fixtures: test merchant credentials, `events/*.json`, a moto account with the template's
resources, and the real handlers imported against it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from paytm_signing import MerchantCredentials
from tijori_local.deploy import DeployedStack, LocalDeployer
from tijori_local.functions import load_function_module
from tijori_local.moto_seams import atomic_dynamodb_writes
from tijori_local.sim.server import SimServer
from tijori_local.template import PROJECT_ROOT, load_template

EVENTS_DIR = PROJECT_ROOT / "events"
FIXTURES_DIR = Path(__file__).parent / "fixtures"
REGION = "ap-south-1"
# aws-sam-cli and aws-sam-translator pin their own pydantic and boto3, so they live in the tool
# venv (`make tools`); the transform runs there, in a subprocess.
TOOLS_PYTHON = PROJECT_ROOT / ".venv-tools" / "bin" / "python"
SAM_TRANSFORM_SCRIPT = Path(__file__).parent / "sam_transform.py"


def load_event(name: str) -> dict[str, Any]:
    """One `events/<name>.json`: the same file `sam local invoke -e` takes."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return event


@pytest.fixture(scope="session")
def merchant_credentials() -> dict[str, Any]:
    """The test merchant secret, one section per product, every product's key different from the
    others': whatever the suite runs proves each API is signed with its own product's key."""
    credentials: dict[str, Any] = json.loads(
        (FIXTURES_DIR / "merchant_credentials_by_product.json").read_text()
    )
    return credentials


@pytest.fixture(scope="session")
def flat_merchant_credentials() -> dict[str, str]:
    """The same merchant in the flat format of before: one `merchant_key` for every product."""
    credentials: dict[str, str] = json.loads((FIXTURES_DIR / "merchant_credentials.json").read_text())
    return credentials


def transform_template(template_path: Path, **parameters: str) -> dict[str, Any]:
    """The CloudFormation that SAM makes of `template_path` (see tests/sam_transform.py)."""
    if not TOOLS_PYTHON.exists():
        raise RuntimeError(f"{TOOLS_PYTHON} is missing: run `make tools`")
    arguments = [str(template_path), *(f"{name}={value}" for name, value in parameters.items())]
    completed = subprocess.run(  # noqa: S603 - our own script, run by the tool venv's python
        [str(TOOLS_PYTHON), str(SAM_TRANSFORM_SCRIPT), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"SAM transform of {template_path} failed:\n{completed.stderr}")
    transformed: dict[str, Any] = json.loads(completed.stdout)
    return transformed


@pytest.fixture(scope="session")
def transformed_template() -> dict[str, Any]:
    """template.yaml as CloudFormation receives it, after SAM's transform."""
    return transform_template(PROJECT_ROOT / "template.yaml")


@dataclass
class FakeLambdaContext:
    function_name: str = "tijori-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:tijori-test"
    aws_request_id: str = "5f5e6a8e-0000-4000-8000-000000000001"
    remaining_millis: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@dataclass
class LocalAccount:
    stack: DeployedStack
    dynamodb: Any
    sqs: Any
    secretsmanager: Any

    @property
    def table(self) -> Any:
        return boto3.resource("dynamodb", region_name=REGION).Table(self.stack.ref("PayoutsTable"))

    @property
    def callbacks_table(self) -> Any:
        return boto3.resource("dynamodb", region_name=REGION).Table(self.stack.ref("CallbacksTable"))

    @property
    def queue_url(self) -> str:
        return self.stack.ref("PayoutQueue")

    @property
    def dlq_url(self) -> str:
        return self.stack.ref("PayoutDLQ")

    def receive_all(self, queue_url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            if not batch.get("Messages"):
                return messages
            messages += batch["Messages"]


@pytest.fixture
def aws_account(
    monkeypatch: pytest.MonkeyPatch, merchant_credentials: dict[str, Any]
) -> Iterator[LocalAccount]:
    """A fresh moto account holding the template's tables, queues and the merchant secret."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws(), atomic_dynamodb_writes():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        secrets = boto3.client("secretsmanager", region_name=REGION)
        stack = LocalDeployer(
            load_template(),
            dynamodb=dynamodb,
            sqs=sqs,
            secretsmanager=secrets,
            stepfunctions=boto3.client("stepfunctions", region_name=REGION),
            events=boto3.client("events", region_name=REGION),
        ).deploy()
        secrets.put_secret_value(
            SecretId=stack.ref("MerchantSecret"), SecretString=json.dumps(merchant_credentials)
        )
        parameters.clear_caches()
        yield LocalAccount(stack=stack, dynamodb=dynamodb, sqs=sqs, secretsmanager=secrets)
        parameters.clear_caches()


@pytest.fixture
def paytm(merchant_credentials: dict[str, Any]) -> Iterator[SimServer]:
    """The Paytm simulator over real HTTP, its clock still unless a test advances it."""
    with SimServer(MerchantCredentials.from_mapping(merchant_credentials), time_scale=0) as sim:
        yield sim


@pytest.fixture
def function_env(
    monkeypatch: pytest.MonkeyPatch, aws_account: LocalAccount, paytm: SimServer
) -> LocalAccount:
    """The environment template.yaml gives the functions, pointed at moto and the simulator."""
    for name, value in {
        "POWERTOOLS_SERVICE_NAME": "tijori",
        "POWERTOOLS_METRICS_NAMESPACE": "Tijori",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        "PAYOUTS_TABLE_NAME": aws_account.stack.ref("PayoutsTable"),
        "PAYOUT_QUEUE_URL": aws_account.queue_url,
        "CALLBACKS_TABLE_NAME": aws_account.stack.ref("CallbacksTable"),
        "MERCHANT_SECRET_NAME": aws_account.stack.ref("MerchantSecret"),
        "PAYTM_WALLET_BASE_URL": paytm.url,
        "PAYMENTS_TABLE_NAME": aws_account.stack.ref("PaymentsTable"),
        "REFUNDS_TABLE_NAME": aws_account.stack.ref("RefundsTable"),
        "PAYTM_PG_BASE_URL": paytm.url,
        "VALIDATIONS_TABLE_NAME": aws_account.stack.ref("PayeeValidationsTable"),
        "RECONCILIATION_TABLE_NAME": aws_account.stack.ref("ReconciliationTable"),
        "PAYTM_PAYOUTS_BASE_URL": paytm.url,
        "EVENT_BUS_NAME": aws_account.stack.ref("TijoriEventBus"),
        # The seed's 5 s before a status check, shortened: these tests are about handlers.
        "STATUS_CHECK_DELAY_SECONDS": "0.1",
    }.items():
        monkeypatch.setenv(name, value)
    return aws_account


@pytest.fixture
def load_handler(function_env: LocalAccount) -> Callable[[str], ModuleType]:
    """Cold-start a function's `app.py` inside the moto account."""
    return lambda name: load_function_module(name)
