"""Every signature in shared/paytm_checksum_vectors.json, made by Paytm's official library."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from paytm_signing import canonical_params_string, generate_signature, verify_signature
from tijori_local.template import PROJECT_ROOT

# A copy of ../shared/paytm_checksum_vectors.json, so a clone anywhere runs these tests; the
# test below keeps the copy equal to the shared original wherever that is beside the clone.
VECTORS_COPY = PROJECT_ROOT / "tests" / "fixtures" / "paytm_checksum_vectors.json"
SHARED_VECTORS = PROJECT_ROOT.parent / "shared" / "paytm_checksum_vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_COPY.read_text(encoding="utf-8"))


def _ids(vector: dict[str, Any]) -> str:
    return str(vector["name"])


@pytest.mark.skipif(not SHARED_VECTORS.exists(), reason="no ../shared beside this clone")
def test_vector_copy_equals_the_shared_original() -> None:
    assert json.loads(SHARED_VECTORS.read_text(encoding="utf-8")) == VECTORS


def test_vector_file_has_valid_invalid_string_and_params_cases() -> None:
    kinds = {(v["kind"], v["valid"]) for v in VECTORS}
    assert {("string", True), ("string", False), ("params", True), ("params", False)} <= kinds


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["valid"]], ids=_ids)
def test_valid_vector_verifies(vector: dict[str, Any]) -> None:
    assert verify_signature(vector["input"], vector["key"], vector["signature"]) is True


@pytest.mark.parametrize("vector", [v for v in VECTORS if not v["valid"]], ids=_ids)
def test_invalid_vector_is_rejected_without_raising(vector: dict[str, Any]) -> None:
    assert verify_signature(vector["input"], vector["key"], vector["signature"]) is False


@pytest.mark.parametrize("vector", [v for v in VECTORS if "salt" in v], ids=_ids)
def test_salted_vector_is_reproduced_byte_for_byte(vector: dict[str, Any]) -> None:
    assert generate_signature(vector["input"], vector["key"], salt=vector["salt"]) == vector["signature"]


@pytest.mark.parametrize("vector", [v for v in VECTORS if "canonical_string" in v], ids=_ids)
def test_params_canonical_string_matches_official(vector: dict[str, Any]) -> None:
    params = {k: v for k, v in vector["input"].items() if k != "CHECKSUMHASH"}
    assert canonical_params_string(params) == vector["canonical_string"]


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["kind"] == "params"], ids=_ids)
def test_verify_does_not_mutate_params(vector: dict[str, Any]) -> None:
    params = copy.deepcopy(vector["input"])
    verify_signature(params, vector["key"], vector["signature"])
    assert params == vector["input"]
