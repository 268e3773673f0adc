"""moto in its own process (`tijori_local.moto_process`, the worker bench's AWS): it serves the
template's tables, keeps DynamoDB's conditional writes atomic, and goes away with its context."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest

from tijori.adapters.payout_table import DynamoDbPayoutRepository
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest
from tijori.payouts.ports import StaleTransitionError
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
        repository = DynamoDbPayoutRepository(table)
        now = datetime.now(UTC)
        for index in range(5):
            order_id = f"PROCESS-RACE-{index}"
            request = PayoutRequest.model_validate(
                {"order_id": order_id, "amount": "1.00", "payee": {"phone": "9876543210"}}
            )
            repository.create(Payout.accept(request, now), first_check_at=now + timedelta(minutes=15))

            def claim(_: int, order_id: str = order_id) -> bool:
                try:
                    repository.transition(
                        order_id,
                        expected=PayoutStatus.ACCEPTED,
                        target=PayoutStatus.PROCESSING,
                        at=now,
                        reason="race",
                        next_check_at=now,
                        count_attempt=True,
                    )
                    return True
                except StaleTransitionError:
                    return False

            with ThreadPoolExecutor(max_workers=8) as pool:
                assert sum(pool.map(claim, range(8))) == 1
            stored = repository.get(order_id)
            assert stored is not None
            assert stored.attempts == 1
    with pytest.raises(httpx.TransportError):
        httpx.get(endpoint_url, timeout=5)
