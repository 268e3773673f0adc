"""POST /v1/payouts through the local runtime's HTTP server: every malformed body is a 4xx."""

from __future__ import annotations

import httpx
import pytest

from tests.local.conftest import API_TOKEN
from tests.malformed_bodies import MALFORMED_BODIES
from tijori_local.runtime import LocalRuntime


@pytest.mark.parametrize(("body", "content_type", "status", "problem_type"), MALFORMED_BODIES)
def test_malformed_body_is_a_4xx_naming_the_problem_over_http(
    runtime: LocalRuntime, body: bytes, content_type: str | None, status: int, problem_type: str
) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = httpx.post(f"{runtime.api_url}/v1/payouts", content=body, headers=headers)
    assert response.status_code == status
    problem = response.json()
    assert problem["statusCode"] == status
    assert [entry["type"] for entry in problem["detail"]] == [problem_type], problem


def test_body_over_api_gateways_limit_is_413_from_the_runtime(runtime: LocalRuntime) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
    response = httpx.post(
        f"{runtime.api_url}/v1/payouts", content=b" " * (10 * 1024 * 1024 + 1), headers=headers
    )
    assert response.status_code == 413
