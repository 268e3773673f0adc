"""Paytm auto-debit's catalogues (seed 002): every code the seed lists, read from a copy of the
seed, has the outcome Tijori gives it; withdraw's codes are the ones the simulator answers with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tijori.lifecycle.outcomes import CodeCatalogue, Outcome
from tijori.paytm.autodebit_codes import (
    CHECK_BALANCE_CATALOGUE,
    SEND_OTP_CATALOGUE,
    TOKEN_REJECTED_MESSAGES,
    VALIDATE_TOKEN_CATALOGUE,
    VERIFY_OTP_CATALOGUE,
    WITHDRAW_CATALOGUE,
)
from tijori.paytm.autodebit_mapping import classify_withdraw
from tijori_local.sim.codes import PRODUCED_CODES

SUCCESS, PENDING, FAILED, INVALID, CONFIG, AMBIGUOUS = (
    Outcome.SUCCESS,
    Outcome.PENDING,
    Outcome.FINAL_FAILURE,
    Outcome.INVALID_REQUEST,
    Outcome.CONFIGURATION_ERROR,
    Outcome.AMBIGUOUS,
)

# A copy of ../shared/seeds/002_*.txt, so that the catalogues are checked against the document.
SEED_002 = (Path(__file__).parents[1] / "fixtures" / "seed_002_auto_debit.txt").read_text(encoding="utf-8")
_ROW = re.compile(r"^\|\s*([A-Z]*_?\d+)\s*\|\s*([^|]+?)\s*\|?\s*$")


def seed_codes(heading: str) -> dict[str, str]:
    """The `|code|text|` rows of the table under the line `heading`, up to the next heading."""
    lines = SEED_002.splitlines()
    start = lines.index(heading)
    rows: dict[str, str] = {}
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        match = _ROW.match(line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


SEND_OTP_EXPECTED = {
    "430": CONFIG,
    "431": INVALID,
    "432": FAILED,
    "433": FAILED,
    "434": INVALID,
    "465": INVALID,
}
VERIFY_OTP_EXPECTED = {"430": CONFIG, "434": INVALID, "403": FAILED, "513": FAILED, "432": FAILED}
VALIDATE_TOKEN_EXPECTED = {"530": FAILED, "434": INVALID}
CHECK_BALANCE_EXPECTED = {
    "CS_0000": SUCCESS,
    "CS_0001": INVALID,
    "CS_0002": FAILED,  # the token is dead: link again
    "CS_0004": INVALID,
    "CS_0005": INVALID,
    "AGM_0006": FAILED,
    "AGM_0007": FAILED,
    "GE_0003": AMBIGUOUS,  # "Please try again"
    "GE_0001": AMBIGUOUS,  # "Unknown Error"
    "GE_1": CONFIG,  # our signature or client id
    "GE_2": INVALID,
    "GE_1026": AMBIGUOUS,  # "Please try later"
    "GE_1027": FAILED,
    "GE_1043": CONFIG,  # our MID
    "GE_1035": CONFIG,  # our merchant account
    "RWL_2001": FAILED,  # the customer's debit limit
}
# directPay: seed 002's "01" and the PG codes the simulator's withdraw answers with.
WITHDRAW_EXPECTED = {
    "01": SUCCESS,
    "402": PENDING,
    "235": FAILED,  # balance short: add money first
    "227": FAILED,
    "2004": FAILED,  # Authorization failed: the token is dead
    "1001": INVALID,
    "1007": INVALID,
    "2007": INVALID,
    "330": CONFIG,
    "305": CONFIG,
    "325": AMBIGUOUS,  # duplicate order id: ask the status
    "501": AMBIGUOUS,
}
SIM_WITHDRAW_CODES = {"01", "235", "227", "2004", "1001", "1007", "2007", "330", "305", "325"}


@pytest.mark.parametrize(
    ("heading", "catalogue", "expected", "count"),
    [
        pytest.param("#### ERROR CODES", SEND_OTP_CATALOGUE, SEND_OTP_EXPECTED, 6, id="send OTP"),
        pytest.param("#### Error Code:", VERIFY_OTP_CATALOGUE, VERIFY_OTP_EXPECTED, 5, id="verify OTP"),
        pytest.param(
            "##### Error Code:", VALIDATE_TOKEN_CATALOGUE, VALIDATE_TOKEN_EXPECTED, 2, id="validate token"
        ),
        pytest.param(
            "##### Status Codes", CHECK_BALANCE_CATALOGUE, CHECK_BALANCE_EXPECTED, 16, id="check balance"
        ),
    ],
)
def test_every_code_of_the_seeds_table_has_its_outcome_and_the_seeds_text(
    heading: str, catalogue: CodeCatalogue, expected: dict[str, Outcome], count: int
) -> None:
    in_seed = seed_codes(heading)

    assert len(in_seed) == count
    assert set(in_seed) == set(expected)
    for code, text in in_seed.items():
        assert catalogue.outcome_of(code) is expected[code], code
        assert (catalogue.meaning_of(code) or "").casefold() == text.casefold(), code


def test_send_otp_reads_both_success_codes_of_the_seed_login_and_register() -> None:
    assert "|responseCode|01 / 02 (Note: 01-login, 02-Register)|" in SEED_002.replace(" |", "|").replace(
        "| ", "|"
    )
    assert (SEND_OTP_CATALOGUE.outcome_of("01"), SEND_OTP_CATALOGUE.outcome_of("02")) == (SUCCESS, SUCCESS)


def test_withdraw_reads_the_seeds_success_code_and_every_code_the_simulator_answers_a_withdraw_with() -> None:
    assert '"ResponseCode": "01"' in SEED_002
    assert set(WITHDRAW_EXPECTED) >= SIM_WITHDRAW_CODES
    assert set(PRODUCED_CODES["pg-txn"]) >= SIM_WITHDRAW_CODES
    for code, outcome in WITHDRAW_EXPECTED.items():
        assert WITHDRAW_CATALOGUE.outcome_of(code) is outcome, code


def test_insufficient_balance_is_final_and_says_the_customer_must_add_money() -> None:
    assert WITHDRAW_CATALOGUE.outcome_of("235") is FAILED
    assert "add money" in (WITHDRAW_CATALOGUE.meaning_of("235") or "")


def test_the_faqs_authorization_failed_is_the_text_of_the_token_refusal() -> None:
    assert "“Authorization failed” error response in case of invalid/null SSO token" in SEED_002
    assert PRODUCED_CODES["pg-txn"]["2004"].upper() in TOKEN_REJECTED_MESSAGES
    assert "Authorization Error".upper() in TOKEN_REJECTED_MESSAGES


@pytest.mark.parametrize(
    "catalogue",
    [
        SEND_OTP_CATALOGUE,
        VERIFY_OTP_CATALOGUE,
        VALIDATE_TOKEN_CATALOGUE,
        CHECK_BALANCE_CATALOGUE,
        WITHDRAW_CATALOGUE,
    ],
    ids=lambda catalogue: catalogue.family,
)
@pytest.mark.parametrize("code", ["999", "CS_9999", "", None, "00023424/234234234"])
def test_a_code_no_table_lists_is_ambiguous(catalogue: CodeCatalogue, code: str | None) -> None:
    assert catalogue.outcome_of(code) is AMBIGUOUS


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        ("TXN_SUCCESS", "01", SUCCESS),
        ("txn_success", " 01 ", SUCCESS),
        ("TXN_FAILURE", "01", AMBIGUOUS),  # a success code with a failure: contradictory
        (None, "01", AMBIGUOUS),
        ("TXN_FAILURE", "235", FAILED),
        ("TXN_SUCCESS", "235", AMBIGUOUS),
        ("TXN_FAILURE", "2004", FAILED),
        ("TXN_FAILURE", "1007", INVALID),
        ("TXN_FAILURE", "330", CONFIG),
        ("TXN_PENDING", "402", PENDING),
        ("PENDING", "402", PENDING),
        ("TXN_FAILURE", "402", AMBIGUOUS),
        ("TXN_FAILURE", "325", AMBIGUOUS),
        ("TXN_FAILURE", "999", AMBIGUOUS),
    ],
)
def test_a_withdraw_status_must_agree_with_its_code(status: str | None, code: str, expected: Outcome) -> None:
    assert classify_withdraw(status, code) is expected
