"""Schemathesis against the local runtime, with the schema the running API serves at /v1/openapi.json.

Every check runs except those about authentication, which the local runtime only stubs (a bearer
token standing in for API Gateway's IAM/SigV4 authorizer, sent on every request here):
`ignored_auth` (expects requests without valid credentials to be refused as the document's SigV4
scheme says), `missing_required_header` (drops headers the document requires, among them the
scheme's Authorization) and `object_level_authorization` (needs two merchants' credentials).
All the others - no 5xx, every status, content type, header and body as documented, valid input
accepted, invalid input refused, resources available after creation - must hold for every case.
Two more are excluded, `unsupported_method` and `use_after_free`: see GATEWAY_CHECKS_EXCLUDED and
DESIGN_CHECKS_EXCLUDED; tests/local/schemathesis.toml states per operation what the schema cannot.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.local.conftest import API_TOKEN
from tijori_local.runtime import LocalRuntime

pytestmark = pytest.mark.e2e

AUTH_CHECKS_EXCLUDED = ("ignored_auth", "missing_required_header", "object_level_authorization")
# Not about authentication, and still excluded: API Gateway HTTP APIs answer 404 (not 405) for a
# method no route declares, before any function runs, and the local runtime does the same.
GATEWAY_CHECKS_EXCLUDED = ("unsupported_method",)
# `use_after_free` expects a resource to be gone (404) after a DELETE. The only DELETE revokes a
# wallet link, which stays readable as REVOKED with its history (issue 13: GET shows REVOKED).
DESIGN_CHECKS_EXCLUDED = ("use_after_free",)
EXAMPLES_PER_OPERATION = 100
# Per-operation expectations the schema cannot state (each explained in the file).
CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_merchant_api_answers_as_its_openapi_document_says(runtime: LocalRuntime, tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    run = subprocess.run(  # noqa: S603 - our own venv's schemathesis, fixed arguments
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(CONFIG),
            "run",
            f"{runtime.api_url}/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {API_TOKEN}",
            "--generation-with-security-parameters",
            "false",
            "--checks",
            "all",
            "--exclude-checks",
            ",".join(AUTH_CHECKS_EXCLUDED + GATEWAY_CHECKS_EXCLUDED + DESIGN_CHECKS_EXCLUDED),
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            "20261201",
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        # 100 examples of each of the document's operations (more with each API issue), on a shared
        # machine: a bound on a stuck run, not a speed check.
        timeout=900,
        check=False,
    )
    output = run.stdout + run.stderr
    suite = ElementTree.parse(report).getroot()  # noqa: S314 - the report schemathesis just wrote
    failures = sum(
        int(element.get("failures", 0)) + int(element.get("errors", 0)) for element in suite.iter("testsuite")
    )
    tested = sum(int(element.get("tests", 0)) for element in suite.iter("testsuite"))
    assert tested >= 2, output  # both merchant operations were tested
    assert (failures, run.returncode) == (0, 0), output
