"""A real LocalRuntime (moto server + handlers + simulator) for the tests in this folder."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tijori_local.runtime import LocalRuntime, RuntimeOptions

API_TOKEN = "local-test-token"


@pytest.fixture(scope="module")
def runtime(merchant_credentials: dict[str, Any]) -> Iterator[LocalRuntime]:
    with LocalRuntime(
        RuntimeOptions(api_port=0, credentials=merchant_credentials, time_scale=600, api_token=API_TOKEN)
    ) as started:
        yield started


def wait_until(condition: Callable[[], bool], *, timeout: float = 30.0, interval: float = 0.1) -> bool:
    """Poll until `condition()` holds; a deadline, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
