"""boto3 clients and DynamoDB tables for the adapters, built when first needed, not at import.

Building one costs tens of milliseconds (service model, endpoint rules, credentials); a function
module holds factories cached for its execution environment's lifetime, so an invocation builds
only what it uses and warm invocations reuse it. Building goes through boto3's default session,
which is not safe to build from on two threads at once (the local runtime runs several execution
environments in one process), so building is serialised.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3

_BUILDING = threading.Lock()


def aws_client(service: str) -> Any:
    with _BUILDING:
        return boto3.client(service)


def dynamodb_table(table_name: str) -> Any:
    """A Table on its own resource: boto3 resources must not be shared between threads."""
    with _BUILDING:
        return boto3.resource("dynamodb").Table(table_name)
