"""Seed 001 (Paytm Payouts, Wallet Validation API): the code catalogue against the document, and the
pure request bodies and answer readings, as tables of cases."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from tijori.lifecycle.outcomes import Outcome
from tijori.paytm.payouts_codes import (
    PAYEE_INVALID_CODES,
    PAYOUTS_CATALOGUE,
    SEED_001_CODES,
    classify,
    seed_status_of,
)
from tijori.paytm.payouts_mapping import (
    read_status_answer,
    read_validate_answer,
    status_query_body,
    validate_body,
)
from tijori_local.template import PROJECT_ROOT

# A copy of ../shared/seeds/001_*.txt, so that the catalogue is checked against the document.
SEED_001 = (PROJECT_ROOT / "tests" / "fixtures" / "seed_001_wallet_validation.txt").read_text(
    encoding="utf-8"
)
# "DE_1222SUCCESSInvalid wallet detail": the code and the status it comes with, as the seed lists them.
IN_SEED = dict(re.findall(r"\b(DE_\d{3,4})\s*(ACCEPTED|PENDING|FAILURE|SUCCESS)", SEED_001))
OC = Outcome


def test_every_de_code_of_seed_001_is_in_the_catalogue_with_the_status_the_seed_gives_it() -> None:
    assert len(IN_SEED) == 62
    assert set(IN_SEED) - set(SEED_001_CODES) == set()
    for code, status in IN_SEED.items():
        assert seed_status_of(code) == status, code
        assert PAYOUTS_CATALOGUE.meaning_of(code), code
    # The only code the catalogue holds beyond the seed: the success code the seed is silent on.
    assert set(SEED_001_CODES) - set(IN_SEED) == {"DE_001"}


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("DE_001", OC.SUCCESS),
        ("DE_002", OC.PENDING),
        ("DE_101", OC.PENDING),
        ("DE_0618", OC.PENDING),
        # Read exactly: SUCCESS in the envelope, but the wallet cannot take money.
        ("DE_1222", OC.FINAL_FAILURE),
        ("DE_1223", OC.FINAL_FAILURE),
        ("DE_702", OC.FINAL_FAILURE),
        ("DE_703", OC.FINAL_FAILURE),
        ("DE_029", OC.FINAL_FAILURE),
        ("DE_010", OC.INVALID_REQUEST),
        ("DE_011", OC.INVALID_REQUEST),
        ("DE_013", OC.INVALID_REQUEST),
        ("DE_057", OC.INVALID_REQUEST),
        ("DE_019", OC.CONFIGURATION_ERROR),
        ("DE_023", OC.CONFIGURATION_ERROR),
        *((f"DE_40{n}", OC.CONFIGURATION_ERROR) for n in range(1, 10)),
        ("DE_701", OC.CONFIGURATION_ERROR),
        ("DE_704", OC.CONFIGURATION_ERROR),
        ("DE_039", OC.NOT_FOUND),
        ("DE_040", OC.AMBIGUOUS),
        ("DE_041", OC.AMBIGUOUS),
        ("DE_500", OC.AMBIGUOUS),
        ("DE_9999", OC.AMBIGUOUS),  # unknown
        (None, OC.AMBIGUOUS),
    ],
)
def test_each_code_has_its_outcome(code: str | None, outcome: Outcome) -> None:
    assert PAYOUTS_CATALOGUE.outcome_of(code) is outcome


def test_the_wallet_cannot_take_money_codes_are_the_four_definitive_answers_about_the_payee() -> None:
    assert frozenset({"DE_1222", "DE_1223", "DE_702", "DE_703"}) == PAYEE_INVALID_CODES
    assert all(PAYOUTS_CATALOGUE.outcome_of(code) is OC.FINAL_FAILURE for code in PAYEE_INVALID_CODES)


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        ("SUCCESS", "DE_1222", OC.FINAL_FAILURE),
        ("SUCCESS", "DE_001", OC.SUCCESS),
        ("ACCEPTED", "DE_002", OC.PENDING),
        ("success", " de_1223 ", OC.FINAL_FAILURE),
        # An envelope that contradicts what the seed gives the code is not believed.
        ("FAILURE", "DE_1222", OC.AMBIGUOUS),
        ("SUCCESS", "DE_702", OC.AMBIGUOUS),
        ("FAILURE", "DE_001", OC.AMBIGUOUS),
        (None, "DE_409", OC.AMBIGUOUS),
    ],
)
def test_an_answer_is_believed_only_when_its_status_is_the_one_the_seed_gives_its_code(
    status: str | None, code: str, outcome: Outcome
) -> None:
    assert classify(status, code) is outcome


def test_the_validate_body_has_the_seeds_field_names_and_is_compact_json() -> None:
    body = validate_body("VAL-1", subwallet_guid="guid-1", phone="9876543210", callback_url="https://t/cb")
    assert json.loads(body) == {
        "orderId": "VAL-1",
        "subwalletGuid": "guid-1",
        "beneficiaryPhoneNo": "9876543210",
        "callbackUrl": "https://t/cb",
    }
    assert " " not in body
    assert "callbackUrl" not in validate_body(
        "VAL-1", subwallet_guid="g", phone="9876543210", callback_url=None
    )
    assert json.loads(status_query_body("VAL-1")) == {"orderId": "VAL-1"}


RECORD = {"mid": "MID1", "orderId": "VAL-1", "paytmOrderId": "P-9", "beneficiaryPhoneNo": "9876543210"}


@pytest.mark.parametrize(
    ("document", "outcome", "has_record", "amount"),
    [
        ({"status": "SUCCESS", "statusCode": "DE_001", "result": {**RECORD, "amount": "1.00"}},
         OC.SUCCESS, True, Decimal("1.00")),
        ({"status": "SUCCESS", "statusCode": "DE_001", "result": {**RECORD, "amount": 1}},
         OC.SUCCESS, True, Decimal("1.00")),
        ({"status": "SUCCESS", "statusCode": "DE_1222", "result": RECORD}, OC.FINAL_FAILURE, True, None),
        ({"status": "PENDING", "statusCode": "DE_101", "result": RECORD}, OC.PENDING, True, None),
        # Without Paytm's record the answer speaks of the status request only.
        ({"status": "FAILURE", "statusCode": "DE_039"}, OC.NOT_FOUND, False, None),
        ({"status": "FAILURE", "statusCode": "DE_409"}, OC.CONFIGURATION_ERROR, False, None),
        ({"status": "FAILURE", "statusCode": "DE_010"}, OC.AMBIGUOUS, False, None),
        ({"status": "SUCCESS", "statusCode": "DE_001"}, OC.AMBIGUOUS, False, None),
        ({"status": "FAILURE", "statusCode": "DE_039", "result": RECORD}, OC.AMBIGUOUS, True, None),
        ({"status": "SUCCESS", "statusCode": "DE_1222", "result": {**RECORD, "amount": "x"}},
         OC.FINAL_FAILURE, True, None),
        ([], OC.AMBIGUOUS, False, None),
    ],
)  # fmt: skip
def test_status_answers_decide_only_with_paytms_record(
    document: Any, outcome: Outcome, has_record: bool, amount: Decimal | None
) -> None:
    answer = read_status_answer(document)
    assert (answer.outcome, answer.has_record, answer.amount) == (outcome, has_record, amount)
    if has_record:
        assert (answer.order_id, answer.paytm_order_id, answer.phone, answer.mid) == (
            "VAL-1",
            "P-9",
            "9876543210",
            "MID1",
        )


@pytest.mark.parametrize(
    ("document", "outcome", "code"),
    [
        (
            {"status": "ACCEPTED", "statusCode": "DE_002", "statusMessage": "Request accepted"},
            OC.PENDING,
            "DE_002",
        ),
        ({"status": "FAILURE", "statusCode": "DE_011"}, OC.INVALID_REQUEST, "DE_011"),
        ({"status": "FAILURE", "statusCode": "DE_040"}, OC.AMBIGUOUS, "DE_040"),
        ({"status": "FAILURE", "statusCode": "DE_409"}, OC.CONFIGURATION_ERROR, "DE_409"),
        ({"status": "FAILURE"}, OC.AMBIGUOUS, None),
        ("not an object", OC.AMBIGUOUS, None),
    ],
)
def test_validate_answers_are_read_with_the_catalogue(
    document: Any, outcome: Outcome, code: str | None
) -> None:
    answer = read_validate_answer(document)
    assert (answer.outcome, answer.code) == (outcome, code)
    if code:
        assert answer.message  # Paytm's text, or the seed's meaning when it sent none
