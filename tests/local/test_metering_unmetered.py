"""The meter against a real moto server: a harness's unmetered client costs nothing, Tijori's does."""

from __future__ import annotations

from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from tijori_local.metering import Meter, unmetered_client

REGION = "ap-south-1"


def test_reads_and_writes_of_an_unmetered_client_use_no_capacity(monkeypatch: Any) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    meter = Meter()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        with meter.installed():
            tijori = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
            harness = unmetered_client("dynamodb", endpoint_url=endpoint, region=REGION)
            tijori.create_table(
                TableName="t",
                KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            item = {"order_id": {"S": "o1"}}
            harness.put_item(TableName="t", Item=item)
            harness.get_item(TableName="t", Key=item, ConsistentRead=True)
            harness.batch_get_item(RequestItems={"t": {"Keys": [item], "ConsistentRead": True}})
            harness.query(
                TableName="t",
                KeyConditionExpression="order_id = :o",
                ExpressionAttributeValues={":o": {"S": "o1"}},
            )
            assert not any(name.startswith("dynamodb.") for name in meter.snapshot())
            tijori.get_item(TableName="t", Key=item, ConsistentRead=True)
            tijori.put_item(TableName="t", Item={**item, "n": {"N": "1"}})
        counts = meter.snapshot()
        assert counts["dynamodb.t.rru"] == 1
        assert counts["dynamodb.t.wru"] == 1
    finally:
        server.stop()
