"""Paytm PG's catalogues (seed 004 initiateTransaction; seed 002 status, refund, refund status):
every code's outcome as a table, and how STATUS and RESPCODE are read together."""

from __future__ import annotations

import pytest

from tijori.lifecycle.outcomes import CodeCatalogue, Outcome
from tijori.paytm.pg_codes import (
    INITIATE_CATALOGUE,
    INITIATE_CODES,
    PENDING_STATUSES,
    REFUND_CATALOGUE,
    REFUND_CODES,
    REFUND_STATUS_CATALOGUE,
    REFUND_STATUS_CODES,
    STATUS_REQUEST_CATALOGUE,
    STATUS_REQUEST_CODES,
    TXN_CATALOGUE,
    TXN_CODES,
    classify_initiate,
    classify_refund,
    classify_refund_status,
    classify_status_request,
    classify_txn,
)
from tijori_local.sim.codes import PRODUCED_CODES

SUCCESS, PENDING, FAILED, INVALID, CONFIG, AMBIGUOUS, NOT_FOUND = (
    Outcome.SUCCESS,
    Outcome.PENDING,
    Outcome.FINAL_FAILURE,
    Outcome.INVALID_REQUEST,
    Outcome.CONFIGURATION_ERROR,
    Outcome.AMBIGUOUS,
    Outcome.NOT_FOUND,
)

# Seed 004, "Response Codes & Messages", every row, with the outcome Tijori gives it.
SEED_004_CODES = {
    "0000": SUCCESS,
    "0002": SUCCESS,
    "196": INVALID,
    "1001": INVALID,
    "1006": AMBIGUOUS,  # the order exists, its session ended: its status says how
    "1007": INVALID,
    "1008": INVALID,
    "1009": INVALID,
    "1011": INVALID,
    "1012": INVALID,
    "2004": INVALID,
    "2005": CONFIG,
    "2007": INVALID,
    "2013": CONFIG,  # only a bug of ours can make the query and the body differ
    "2014": CONFIG,
    "2023": AMBIGUOUS,  # the order id exists with another body: ask the status, match the record
    "2100": INVALID,
    "00000900": AMBIGUOUS,
}

TXN_EXPECTED = {
    "01": SUCCESS,
    "400": PENDING,
    "402": PENDING,
    "141": FAILED,
    "196": FAILED,
    "227": FAILED,
    "235": FAILED,
    "295": FAILED,
    "810": FAILED,
}

STATUS_REQUEST_EXPECTED = {"334": NOT_FOUND, "330": CONFIG, "305": CONFIG, "335": CONFIG, "501": AMBIGUOUS}

REFUND_EXPECTED = {
    "10": SUCCESS,
    "601": PENDING,
    "628": PENDING,
    "600": INVALID,
    "619": INVALID,
    "627": INVALID,
    "635": INVALID,
    "334": INVALID,
    "602": FAILED,
    "607": FAILED,
    "620": FAILED,
    "617": AMBIGUOUS,  # REFID already used: ask the refund status
    "626": AMBIGUOUS,
    "629": AMBIGUOUS,
    "501": AMBIGUOUS,
    "330": CONFIG,
    "305": CONFIG,
    "335": CONFIG,
}

REFUND_STATUS_EXPECTED = {
    "10": SUCCESS,
    "601": PENDING,
    "628": PENDING,
    "631": NOT_FOUND,
    "334": NOT_FOUND,
    "602": FAILED,
    "600": FAILED,
    "607": FAILED,
    "619": FAILED,
    "620": FAILED,
    "627": FAILED,
    "635": FAILED,
    "501": AMBIGUOUS,
    "330": CONFIG,
    "305": CONFIG,
    "335": CONFIG,
}


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (INITIATE_CODES, SEED_004_CODES),
        (TXN_CODES, TXN_EXPECTED),
        (STATUS_REQUEST_CODES, STATUS_REQUEST_EXPECTED),
        (REFUND_CODES, REFUND_EXPECTED),
        (REFUND_STATUS_CODES, REFUND_STATUS_EXPECTED),
    ],
    ids=["initiate", "txn", "status-request", "refund", "refund-status"],
)
def test_every_code_has_the_outcome_decided_for_it(
    codes: dict[str, Outcome], expected: dict[str, Outcome]
) -> None:
    assert codes == expected


@pytest.mark.parametrize(
    "catalogue",
    [
        INITIATE_CATALOGUE,
        TXN_CATALOGUE,
        STATUS_REQUEST_CATALOGUE,
        REFUND_CATALOGUE,
        REFUND_STATUS_CATALOGUE,
    ],
    ids=lambda catalogue: catalogue.family,
)
def test_every_catalogued_code_has_a_meaning_and_unknown_codes_are_ambiguous(
    catalogue: CodeCatalogue,
) -> None:
    assert set(catalogue.meanings) == set(catalogue.outcomes)
    assert all(catalogue.meanings.values())
    for unknown in ("9999", "", None, "PENDING"):
        assert catalogue.outcome_of(unknown) is AMBIGUOUS


def test_request_level_status_codes_are_never_payment_verdicts() -> None:
    # The status API's own refusals are not in the payment table, so no failed payment is read
    # from them, and they never finalise: NOT_FOUND, CONFIGURATION_ERROR or AMBIGUOUS only.
    assert set(STATUS_REQUEST_CODES).isdisjoint(TXN_CODES)
    assert set(STATUS_REQUEST_CODES.values()) <= {NOT_FOUND, CONFIG, AMBIGUOUS}


def test_both_spellings_of_pending_are_known() -> None:
    assert {"TXN_PENDING", "PENDING"} == PENDING_STATUSES


def test_the_simulators_initiate_and_refund_codes_are_all_known() -> None:
    assert set(PRODUCED_CODES["pg"]) - set(INITIATE_CODES) == set()
    assert set(PRODUCED_CODES["pg-refund"]) - (set(REFUND_CODES) | set(REFUND_STATUS_CODES)) == set()


def test_the_simulators_status_codes_are_known_to_one_of_the_two_status_tables() -> None:
    # Codes the simulator gives add-money and withdraw *requests* (refusals before any order),
    # never a status answer: they stay unknown here, hence AMBIGUOUS if a status answer had one.
    request_refusals_of_other_apis = {"1001", "1007", "2004", "2007", "325"}
    status_codes = set(PRODUCED_CODES["pg-txn"]) - request_refusals_of_other_apis
    assert status_codes - (set(TXN_CODES) | set(STATUS_REQUEST_CODES)) == set()


@pytest.mark.parametrize(
    ("result_status", "code", "outcome"),
    [
        ("S", "0000", SUCCESS),
        ("S", "0002", SUCCESS),
        ("F", "1007", INVALID),
        ("F", "2005", CONFIG),
        ("F", "2023", AMBIGUOUS),
        ("F", "00000900", AMBIGUOUS),
        ("U", "00000900", AMBIGUOUS),
        ("f", " 1007 ", INVALID),
        ("F", "0000", AMBIGUOUS),  # a success code that says it failed
        ("U", "0000", AMBIGUOUS),
        ("S", "1007", AMBIGUOUS),  # a refusal that says it succeeded
        (None, "0000", AMBIGUOUS),
        ("F", "4242", AMBIGUOUS),
        ("S", None, AMBIGUOUS),
    ],
)
def test_classify_initiate(result_status: str | None, code: str | None, outcome: Outcome) -> None:
    assert classify_initiate(result_status, code) is outcome


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        ("TXN_SUCCESS", "01", SUCCESS),
        ("TXN_PENDING", "402", PENDING),
        ("PENDING", "402", PENDING),
        ("PENDING", "400", PENDING),
        ("TXN_PENDING", "400", PENDING),
        ("pending", "402", PENDING),
        ("TXN_FAILURE", "227", FAILED),
        ("TXN_FAILURE", "141", FAILED),
        ("TXN_FAILURE", "01", AMBIGUOUS),  # contradictions
        ("TXN_SUCCESS", "227", AMBIGUOUS),
        ("PENDING", "01", AMBIGUOUS),
        ("TXN_SUCCESS", "402", AMBIGUOUS),
        ("TXN_FAILURE", "9999", AMBIGUOUS),  # an unknown failure code: ask again, never guess
        ("TXN_SUCCESS", None, AMBIGUOUS),
        ("SUCCESS", "01", AMBIGUOUS),  # not a STATUS value of this API
        (None, "01", AMBIGUOUS),
        ("TXN_FAILURE", "334", AMBIGUOUS),  # request-level codes are not read as the payment's
        ("TXN_FAILURE", "330", AMBIGUOUS),
    ],
)
def test_classify_txn(status: str | None, code: str | None, outcome: Outcome) -> None:
    assert classify_txn(status, code) is outcome


@pytest.mark.parametrize(
    ("status", "code", "carries_txn", "outcome"),
    [
        ("TXN_FAILURE", "334", False, NOT_FOUND),
        ("TXN_FAILURE", "334", True, AMBIGUOUS),  # "no such order" with a transaction id: contradictory
        ("TXN_SUCCESS", "334", False, AMBIGUOUS),
        ("PENDING", "334", False, AMBIGUOUS),
        (None, "334", False, AMBIGUOUS),
        ("TXN_FAILURE", "330", False, CONFIG),
        ("TXN_FAILURE", "305", False, CONFIG),
        ("TXN_FAILURE", "335", False, CONFIG),
        ("TXN_FAILURE", "501", False, AMBIGUOUS),
        ("PENDING", "501", False, AMBIGUOUS),
    ],
)
def test_classify_status_request(status: str | None, code: str, carries_txn: bool, outcome: Outcome) -> None:
    assert classify_status_request(status, code, carries_txn=carries_txn) is outcome


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        ("TXN_SUCCESS", "10", SUCCESS),
        ("PENDING", "601", PENDING),
        ("TXN_PENDING", "601", PENDING),
        ("PENDING", "628", PENDING),
        ("TXN_FAILURE", "619", INVALID),
        ("TXN_FAILURE", "627", INVALID),
        ("TXN_FAILURE", "600", INVALID),
        ("TXN_FAILURE", "602", FAILED),
        ("TXN_FAILURE", "617", AMBIGUOUS),
        ("TXN_FAILURE", "330", CONFIG),
        ("TXN_FAILURE", "10", AMBIGUOUS),
        ("TXN_SUCCESS", "601", AMBIGUOUS),
        ("PENDING", "10", AMBIGUOUS),
        ("TXN_FAILURE", "631", AMBIGUOUS),  # not an answer of the refund call
        ("TXN_FAILURE", "777", AMBIGUOUS),
        (None, "10", AMBIGUOUS),
    ],
)
def test_classify_refund(status: str | None, code: str | None, outcome: Outcome) -> None:
    assert classify_refund(status, code) is outcome


@pytest.mark.parametrize(
    ("status", "code", "carries_refund", "outcome"),
    [
        ("TXN_SUCCESS", "10", True, SUCCESS),
        ("PENDING", "601", True, PENDING),
        ("TXN_PENDING", "601", True, PENDING),
        ("TXN_FAILURE", "631", False, NOT_FOUND),
        ("TXN_FAILURE", "631", True, AMBIGUOUS),  # "no such refund" with a REFUNDID: contradictory
        ("TXN_SUCCESS", "631", False, AMBIGUOUS),
        ("TXN_FAILURE", "602", True, FAILED),
        ("TXN_FAILURE", "330", False, CONFIG),
        ("TXN_FAILURE", "617", False, AMBIGUOUS),
        ("TXN_FAILURE", "10", True, AMBIGUOUS),
    ],
)
def test_classify_refund_status(
    status: str | None, code: str | None, carries_refund: bool, outcome: Outcome
) -> None:
    assert classify_refund_status(status, code, carries_refund=carries_refund) is outcome
