"""moto in its own process (`tijori_local.moto_process`, the worker bench's AWS): it serves the
template's tables, keeps DynamoDB's conditional writes atomic, and goes away with its context."""

from __future__ import annotations

from typing import Any

import boto3
import httpx
import pytest

from tests.claim_race import assert_concurrent_claims_let_exactly_one_through
from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori_local.deploy import LocalDeployer
from tijori_local.moto_process import moto_server_process
from tijori_local.template import load_template

REGION = "ap-south-1"


def test_concurrent_claims_against_the_server_process_let_exactly_one_through() -> None:
    with moto_server_process() as endpoint_url:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )

        def client(service: str) -> Any:
            return session.client(service, endpoint_url=endpoint_url)

        stack = LocalDeployer(
            load_template(),
            dynamodb=client("dynamodb"),
            sqs=client("sqs"),
            secretsmanager=client("secretsmanager"),
            stepfunctions=client("stepfunctions"),
        ).deploy()
        table = session.resource("dynamodb", endpoint_url=endpoint_url).Table(stack.ref("PayoutsTable"))
        assert_concurrent_claims_let_exactly_one_through(
            DynamoDbPayoutRepository(table), prefix="PROCESS-RACE", payouts=5
        )
    with pytest.raises(httpx.TransportError):
        httpx.get(endpoint_url, timeout=5)
