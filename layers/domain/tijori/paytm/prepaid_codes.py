"""Seed 003's creditAccount response codes, each with what it says about the load.

Seed 003 gives no status API and does not say that a repeated `clientTxnId` is refused, so only an
answer decides a load: SUCCESS (00, the wallet is loaded), a refusal (no money moved), or our
configuration being wrong (the stack's settings: program, impl, fund flow, source type, message;
nothing moved, fix then redrive). 1501 and 1504 are the provider's own failures mid-request: the
load may or may not have been written, so they are AMBIGUOUS, like any code the seed does not list.
An ambiguous load is never resent and never called failed: a human decides (NEEDS_REVIEW).
"""

from __future__ import annotations

from tijori.lifecycle.outcomes import CodeCatalogue, Outcome

__all__ = ["PREPAID_CATALOGUE", "PREPAID_SUCCESS"]

PREPAID_SUCCESS = "00"

_S, _F, _I, _C, _A = (
    Outcome.SUCCESS,
    Outcome.FINAL_FAILURE,
    Outcome.INVALID_REQUEST,
    Outcome.CONFIGURATION_ERROR,
    Outcome.AMBIGUOUS,
)

# (outcome, the seed's description) for every code of seed 003's "API error codes".
_CODES: dict[str, tuple[Outcome, str]] = {
    "00": (_S, "SUCCESS"),
    # The wallet cannot take the load: refused, nothing moved.
    "1009": (_F, "CARD_CANCELLED_CLOSED_EXPIRED"),
    "1010": (_F, "CARD_TEMPORARY_BLOCK"),
    "1012": (_F, "CARD_PENDING_CANCELLATION"),
    "1013": (_F, "AML_MIN_LIMIT"),
    "1121": (_F, "CARD_CREDIT_DEBIT_BLOCK"),
    "1353": (_F, "COOLING OFF PERIOD BETWEEN TWO LOADS NOT COMPLETED"),
    "1354": (_F, "CORPORATE_LEVEL_LIMIT_EXCEEDED"),
    "10153": (_F, "AMOUNT IS NOT WITHIN MIN-MAX RANGE"),
    "10163": (_F, "PROGRAM DAILY LIMIT EXCEEDED"),
    "1045": (_F, "UNABLE_TO_PROCESS_REQUEST"),
    # The payout's own content names no wallet or a wrong amount: refused, nothing moved.
    "1058": (_I, "INVALID_WALLETS"),
    "1093": (_I, "INVALID CLIENT TXN ID"),
    "1135": (_I, "REFUND_AMOUNT_GREATER_THAN_ORIGINAL_TXN_AMOUNT"),
    "1246": (_I, "ORIGINAL_TXN_NOT_EXIST"),
    "1303": (_I, "CUSTOMER DETAILS NOT PRESENT"),
    "1304": (_I, "MORE THAN ONE CUSTOMER IDENTIFIER NOT ALLOWED"),
    "1322": (_I, "TRANSACTION AMOUNT CANNOT BE ZERO"),
    "1357": (_I, "WALLET DETAILS NOT FOUND"),
    "1359": (_I, "INVALID LOAD AMOUNT"),
    "1369": (_I, "SUBWALLET OR ACCOUNTNO SHOULD BE PRESENT"),
    # Ours: the envelope, the message or the stack's load settings. Nothing moved; fix, redrive.
    "1030": (_C, "INVALID_MESSAGE"),
    "1056": (_C, "INVALID MESSAGE CODE"),
    "1101": (_C, "UNKNOWN_SOURCE_ACCOUNT_TYPE"),
    "1247": (_C, "SOURCE_ACC_TYPE_NOT_MACHED_WITH_IMPL"),
    "1325": (_C, "FUND FLOW TYPE MISMATCH"),
    "1326": (_C, "IMPL ID MISMATCH"),
    "1366": (_C, "PROGRAM IS INACTIVE"),
    "1368": (_C, "PROGRAM NOT FOUND"),
    # The provider failed mid-request: the load may have been written.
    "1501": (_A, "SYSTEM_ERROR_DB"),
    "1504": (_A, "SYSTEM_CACHE_FAILURE"),
}

PREPAID_CATALOGUE = CodeCatalogue(
    family="prepaid creditAccount (seed 003)",
    outcomes={code: outcome for code, (outcome, _) in _CODES.items()},
    meanings={code: meaning for code, (_, meaning) in _CODES.items()},
)
