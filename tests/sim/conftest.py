"""Fixtures for the simulator tests: test credentials, a live in-process simulator, a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from paytm_signing import MerchantCredentials
from tijori_local.sim.client import SimClient, example_credentials
from tijori_local.sim.receiver import CallbackReceiver
from tijori_local.sim.server import SimServer


@pytest.fixture
def credentials() -> MerchantCredentials:
    return example_credentials()


@pytest.fixture
def sim(credentials: MerchantCredentials) -> Iterator[SimServer]:
    with SimServer(credentials) as server:
        yield server


@pytest.fixture
def client(sim: SimServer, credentials: MerchantCredentials) -> Iterator[SimClient]:
    sim_client = SimClient(sim.url, credentials)
    yield sim_client
    sim_client.close()


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as sink:
        yield sink
