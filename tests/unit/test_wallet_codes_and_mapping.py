"""The seed 000 error catalogue, request bodies and answer reading, as tables of cases."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest
from tijori.payouts.settlement import settle_credit_answer, settle_status_answer
from tijori.paytm.wallet_codes import (
    CHECK_STATUS_CODES,
    WALLET_CATALOGUE,
    WALLET_CODES,
    WalletOutcome,
    classify,
    classify_check_status,
)
from tijori.paytm.wallet_mapping import (
    TxnStatus,
    WalletAnswer,
    check_status_body,
    decode_answer,
    read_credit_answer,
    read_status_answer,
    sales_to_user_credit_body,
)
from tijori_local.template import PROJECT_ROOT

# A copy of ../shared/seeds/000_*.txt, so that the catalogue is checked against the document.
SEED_000 = (PROJECT_ROOT / "tests" / "fixtures" / "seed_000_wallet_payouts.txt").read_text(encoding="utf-8")
WO = WalletOutcome


def test_every_code_in_seed_000_is_in_the_catalogue() -> None:
    in_seed = set(re.findall(r"\b([A-Z]{2,6}_\d{1,4})\b", SEED_000))
    assert len(in_seed) > 150
    assert in_seed - set(WALLET_CODES) == set()


def test_every_code_of_the_catalogue_but_success_has_the_seed_s_own_meaning() -> None:
    # The annexure's text, flattened: the document wraps lines in the middle of its entries.
    annexure = " ".join(SEED_000[SEED_000.index("Annexure: Error Codes") :].split())
    for code in set(WALLET_CODES) - {"SUCCESS", "SS_001"}:
        meaning = WALLET_CATALOGUE.meaning_of(code)
        assert meaning, code
        for text in meaning.split(" / "):
            assert re.search(rf"{code}\s*=\s*{re.escape(text)}", annexure), (code, text)


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        ("MWL_2001", "Exceeds allowed maximum debit throughput"),
        ("stuc_1002 ", "Payee record not found, please verify emailId/ssoId."),
        ("GE_0000", "System not configured"),
        ("NOT_A_CODE", None),
    ],
)
def test_meaning_of_a_wallet_code(code: str, meaning: str | None) -> None:
    assert WALLET_CATALOGUE.meaning_of(code) == meaning


def test_seed_pending_codes_are_pending() -> None:
    pending_section = SEED_000.split("Error Codes for Pending Transactions")[1].split(
        "Error Codes for Failed"
    )[0]
    for code in re.findall(r"\b([A-Z]{2,6}_\d{1,4})\b", pending_section):
        assert WALLET_CODES[code] is WO.PENDING, code


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        ("SUCCESS", "SUCCESS", WO.SUCCESS),
        ("SUCCESS", "SS_001", WO.SUCCESS),
        ("PENDING", "GE_1026", WO.PENDING),
        ("PENDING", "RWL_0003", WO.PENDING),
        ("FAILURE", "STUC_1002", WO.FINAL_FAILURE),
        ("FAILURE", "GE_1007", WO.INVALID_REQUEST),
        ("FAILURE", "GE_1008", WO.CONFIGURATION_ERROR),
        ("FAILURE", "GE_1035", WO.CONFIGURATION_ERROR),
        ("FAILURE", "STUC_1000", WO.CONFIGURATION_ERROR),
        ("FAILURE", "STUC_1007", WO.AMBIGUOUS),
        ("FAILURE", "STUC_1009", WO.NOT_FOUND),
        ("FAILURE", "GE_3", WO.AMBIGUOUS),
        ("FAILURE", "NEVER_SEEN_1", WO.AMBIGUOUS),
        ("FAILURE", None, WO.AMBIGUOUS),
        ("FAILURE", "GE_1026", WO.AMBIGUOUS),  # a pending code with FAILURE: contradictory
        ("PENDING", "SUCCESS", WO.AMBIGUOUS),
        (None, "SUCCESS", WO.AMBIGUOUS),
        ("success", "success", WO.SUCCESS),
    ],
)
def test_classify(status: str | None, code: str | None, outcome: WalletOutcome) -> None:
    assert classify(status, code) is outcome


def _payout(**change: Any) -> Payout:
    request = PayoutRequest.model_validate(
        {"order_id": "ORD-1", "amount": "10.5", "payee": {"phone": "9876543210"}, **change}
    )
    return Payout.accept(request, datetime(2026, 11, 22, tzinfo=UTC))


@pytest.mark.parametrize(
    ("change", "verify_only", "expected"),
    [
        (
            {},
            False,
            {
                "requestType": None,
                "appliedToNewUsers": "N",
                "amount": "10.50",
                "payeePhoneNumber": "9876543210",
            },
        ),
        ({"mode": "any_user"}, False, {"appliedToNewUsers": "Y"}),
        ({"mode": "verified_user"}, True, {"requestType": "VERIFY", "applyVerifiedUser": "1"}),
        (
            {"mode": "verified_user", "payee": {"email": "a@b.in"}},
            True,
            {"applyVerifiedUser": "2", "payeeEmailId": "a@b.in"},
        ),
        ({"pending_days_limit": 2}, False, {"pendingDaysLimit": "2"}),
    ],
)
def test_sales_to_user_credit_body(
    change: dict[str, Any], verify_only: bool, expected: dict[str, Any]
) -> None:
    body = json.loads(
        sales_to_user_credit_body(
            _payout(**change), merchant_guid="MG", sales_wallet_guid="SW", verify_only=verify_only
        )
    )
    assert body["operationType"] == "SALES_TO_USER_CREDIT"
    assert body["platformName"] == "PayTM"
    assert body["request"]["merchantOrderId"] == "ORD-1"
    assert body["request"]["merchantGuid"] == "MG"
    assert body["request"]["salesWalletGuid"] == "SW"
    for key, value in expected.items():
        assert body["request"][key] == value


def test_check_status_body_asks_by_merchant_order_id() -> None:
    body = json.loads(check_status_body("ORD-1", merchant_guid="MG"))
    assert body == {
        "request": {
            "requestType": "merchanttxnid",
            "txnType": "salestouser",
            "txnId": "ORD-1",
            "merchantGuid": "MG",
        },
        "platformName": "PayTM",
        "operationType": "CHECK_TXN_STATUS",
    }


def test_read_credit_answer_takes_the_wallet_txn_id() -> None:
    answer = read_credit_answer(
        {
            "status": "SUCCESS",
            "statusCode": "SUCCESS",
            "statusMessage": "SUCCESS",
            "response": {"walletSysTransactionId": "1234150"},
        }
    )
    assert (answer.outcome, answer.wallet_txn_id) == (WO.SUCCESS, "1234150")


def test_read_verify_answer() -> None:
    assert (
        read_credit_answer({"status": "SUCCESS", "statusCode": "SUCCESS", "response": True}).verified is True
    )
    assert (
        read_credit_answer({"status": "FAILURE", "statusCode": "STUC_1010", "response": False}).verified
        is False
    )


def _status_doc(status: int, message: str, order_id: str = "ORD-1") -> dict[str, Any]:
    return {
        "status": "SUCCESS",
        "statusCode": "SS_001",
        "statusMessage": "SUCCESS",
        "response": {
            "txnList": [
                {
                    "txnGuid": "77",
                    "txnAmount": 10,
                    "status": status,
                    "message": message,
                    "merchantOrderId": order_id,
                    "isLimitPending": False,
                }
            ]
        },
    }


@pytest.mark.parametrize(
    ("document", "outcome", "txn_status", "refunded"),
    [
        (_status_doc(1, "SUCCESS"), WO.SUCCESS, TxnStatus.SUCCESS, False),
        (_status_doc(3, "PENDING"), WO.PENDING, TxnStatus.PENDING, False),
        (_status_doc(0, "INIT"), WO.PENDING, TxnStatus.INIT, False),
        (_status_doc(2, "REFUNDED_BACK"), WO.FINAL_FAILURE, TxnStatus.FAILURE, True),
        (_status_doc(9, "??"), WO.AMBIGUOUS, None, False),
        (_status_doc(1, "SUCCESS", order_id="SOMEONE-ELSE"), WO.AMBIGUOUS, None, False),
        (
            {"status": "FAILURE", "statusCode": "STUC_1009", "statusMessage": "not found"},
            WO.NOT_FOUND,
            None,
            False,
        ),
        ("<html>502</html>", WO.AMBIGUOUS, None, False),
    ],
)
def test_read_status_answer(
    document: Any, outcome: WalletOutcome, txn_status: TxnStatus | None, refunded: bool
) -> None:
    answer = read_status_answer(document, "ORD-1")
    assert answer.outcome is outcome
    assert answer.txn_status == txn_status
    assert answer.refunded_back is refunded


def _answer(outcome: WalletOutcome, message: str = "") -> WalletAnswer:
    return WalletAnswer(outcome, "X", message)


S = PayoutStatus


@pytest.mark.parametrize(
    ("outcome", "target"),
    [
        (WO.SUCCESS, S.SUCCESS),
        (WO.PENDING, S.PENDING),
        (WO.FINAL_FAILURE, S.FAILED),
        (WO.INVALID_REQUEST, S.FAILED),
        (WO.AMBIGUOUS, None),
        (WO.NOT_FOUND, None),
        (WO.CONFIGURATION_ERROR, None),
    ],
)
def test_a_credit_answer_settles_only_what_it_proves(
    outcome: WalletOutcome, target: PayoutStatus | None
) -> None:
    settlement = settle_credit_answer(_answer(outcome))
    assert (settlement.target if settlement else None) is target


def test_no_ambiguous_answer_ever_leads_to_failed() -> None:
    for current in (S.PROCESSING, S.PENDING):
        payout = _payout().model_copy(update={"status": current})
        assert settle_status_answer(_answer(WO.AMBIGUOUS), payout) is None
    assert settle_credit_answer(_answer(WO.AMBIGUOUS)) is None


# ---- checkStatus's own request-level codes (issue 9, A2) ------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        ("SUCCESS", "SS_001", WO.SUCCESS),
        ("FAILURE", "STUC_1009", WO.NOT_FOUND),
        ("FAILURE", "GE_1008", WO.CONFIGURATION_ERROR),  # checksum
        ("FAILURE", "GE_1017", WO.CONFIGURATION_ERROR),  # merchant / MID
        ("FAILURE", "GE_1035", WO.CONFIGURATION_ERROR),
        ("FAILURE", "STUC_1000", WO.CONFIGURATION_ERROR),  # sub-wallet
        ("FAILURE", "CTS_0001", WO.AMBIGUOUS),
        # Codes that would finalise a credit mean nothing for the credit when the status request
        # itself answers them: never FAILED or REVERSED on them.
        ("FAILURE", "GE_1003", WO.AMBIGUOUS),
        ("FAILURE", "STUC_1002", WO.AMBIGUOUS),
        ("FAILURE", "GE_1007", WO.AMBIGUOUS),
        ("PENDING", "GE_1026", WO.AMBIGUOUS),
        ("FAILURE", "GE_2", WO.AMBIGUOUS),
        ("FAILURE", "NEVER_SEEN_9", WO.AMBIGUOUS),
        ("SUCCESS", "STUC_1009", WO.AMBIGUOUS),  # contradictory envelope
        ("FAILURE", "SS_001", WO.AMBIGUOUS),
        (None, None, WO.AMBIGUOUS),
    ],
)
def test_check_status_request_level_codes_are_read_with_their_own_table(
    status: str | None, code: str | None, outcome: WalletOutcome
) -> None:
    assert classify_check_status(status, code) is outcome


def test_every_configuration_code_of_check_status_is_a_configuration_code_of_the_catalogue() -> None:
    configuration = {
        code for code, outcome in CHECK_STATUS_CODES.items() if outcome is WO.CONFIGURATION_ERROR
    }
    assert configuration
    assert all(WALLET_CODES[code] is WO.CONFIGURATION_ERROR for code in configuration)


@pytest.mark.parametrize("code", ["GE_1003", "STUC_1002", "WA_1002", "CTS_0001", "GE_1026"])
def test_a_request_level_failure_of_check_status_is_never_a_credit_failure(code: str) -> None:
    answer = read_status_answer({"status": "FAILURE", "statusCode": code, "statusMessage": "x"}, "ORD-1")
    assert answer.outcome is WO.AMBIGUOUS
    assert answer.txn_status is None


def test_seed_check_status_sample_is_read_with_its_exact_amount_and_sso_id() -> None:
    # Seed 000's "Successful transaction" sample, as Paytm sends it.
    raw = (
        b'{"type":null,"requestGuid":null,"orderId":null,"status":"SUCCESS","statusCode":"SS_001",'
        b'"statusMessage":"SUCCESS","response":{"txnList":[{"txnGuid":"2922191129","txnAmount":6223.75,'
        b'"status":1,"message":"SUCCESS","txnErrorCode":null,"ssoId":"190017931",'
        b'"txnType":"SALES_TO_USER_CREDIT","merchantOrderId":"3737","pgTxnId":"null",'
        b'"pgRefundId":"null","cashbackTxnId":null,"isLimitPending":false}]},"metadata":null}'
    )
    answer = read_status_answer(decode_answer(raw), "3737")
    assert answer.outcome is WO.SUCCESS
    assert answer.txn_amount == Decimal("6223.75")
    assert str(answer.txn_amount) == "6223.75"
    assert answer.txn_sso_id == "190017931"
    assert answer.wallet_txn_id == "2922191129"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(10, Decimal("10")), ("10.50", Decimal("10.50")), (True, None), ("ten", None), (None, None)],
)
def test_txn_amount_is_read_exactly_or_not_at_all(amount: Any, expected: Decimal | None) -> None:
    document = _status_doc(1, "SUCCESS")
    document["response"]["txnList"][0]["txnAmount"] = amount
    assert read_status_answer(document, "ORD-1").txn_amount == expected
