"""Every code of seed 000 (wallet payouts) with what it means for a payout (DESIGN.md rule 7).

Outcomes:
- SUCCESS: the user's wallet was credited.
- PENDING: Paytm accepted and holds the money (KYC, limits, new user); it resolves within the
  pending window, to success or a rollback to the sub-wallet.
- FINAL_FAILURE: Paytm refused or refunded at once; no money is with the user.
- INVALID_REQUEST: Paytm rejected the request's content before accepting it; no money moved.
- CONFIGURATION_ERROR: our side is wrong (checksum key, merchant, sub-wallet). The payout is not
  finalised: the message fails, reaches the DLQ, and a redrive after the fix resumes it.
- AMBIGUOUS: money may or may not have moved. Never FAILED: check status first.
- NOT_FOUND: checkStatus knows no such order (STUC_1009): only then may we send again.

Codes whose meaning for this API is unclear (user login, statements, sub-wallet creation) are
AMBIGUOUS on purpose: a status check is always safe, a guess is not. Unknown codes are AMBIGUOUS.
"""

from __future__ import annotations

from tijori.lifecycle.outcomes import CodeCatalogue, Outcome
from tijori.paytm.wallet_meanings import WALLET_MEANINGS

# The wallet family speaks the engine's outcomes (tijori.lifecycle.outcomes); the old name stays.
WalletOutcome = Outcome


_S, _P, _F, _I, _C, _A, _N = (
    WalletOutcome.SUCCESS,
    WalletOutcome.PENDING,
    WalletOutcome.FINAL_FAILURE,
    WalletOutcome.INVALID_REQUEST,
    WalletOutcome.CONFIGURATION_ERROR,
    WalletOutcome.AMBIGUOUS,
    WalletOutcome.NOT_FOUND,
)

WALLET_CODES: dict[str, WalletOutcome] = {
    "SUCCESS": _S,
    "SS_001": _S,
    # -- Error Codes for Pending Transactions
    "GE_0003": _P, "GE_1026": _P, "GE_1033": _P, "GE_1034": _P,
    "STUC_1001": _P, "STUC_1010": _P, "STUC_1011": _P, "STUC_1012": _P, "WA_1004": _P,
    "RWL_0001": _P, "RWL_0002": _P, "RWL_0003": _P, "RWL_0004": _P, "RWL_1000": _P, "RWL_1001": _P,
    # -- GENERIC ERRORS
    "GE_1": _C,  # Unauthorized Access
    "GE_2": _I,  # Bad request
    "GE_3": _A,  # Internal server error
    "GE_4": _A,  # Unusable cache
    "GE_0000": _C,  # System not configured
    "GE_0001": _A,  # Unknown error
    "GE_0002": _C,  # Security related problem
    "GE_1000": _A, "GE_1001": _A,  # user not logged in / session timed out: not this API's
    "GE_1002": _C,  # User not authorized to perform this operation
    "GE_1003": _F,  # Invalid user id
    "GE_1004": _A,  # Unable to perform database operation
    "GE_1005": _F,  # User identity cannot be established
    "GE_1006": _A,  # Object could not be found
    "GE_1007": _I,  # Invalid Transaction Amount
    "GE_1008": _C,  # Invalid HMAC Value (checksum key)
    "GE_1009": _I,  # Invalid transaction id
    "GE_1010": _I,  # Entity to persist is null
    "GE_1011": _I,  # Invalid email address
    "GE_1012": _I,  # Invalid Pincode
    "GE_1013": _A, "GE_1014": _A, "GE_1015": _A,
    "GE_1016": _A,  # Payment gateway error
    "GE_1017": _C,  # Invalid merchant
    "GE_1018": _I,  # Invalid currency code
    "GE_1019": _A, "GE_1020": _A, "GE_1021": _A, "GE_1022": _A, "GE_1023": _A,
    "GE_1024": _C,  # merchant exists but no wallet entry
    "GE_1025": _F,  # User doesn't exist, sent wallet create invitation
    "GE_1027": _F,  # User doesn't exist
    "GE_1028": _A, "GE_1029": _A,  # system wallet reversals: money may be anywhere
    "GE_1030": _I,  # User currency code mismatch with request
    "GE_1031": _A,  # Url timed out
    "GE_1032": _I,  # Invalid Phone no.
    "GE_1035": _C,  # Merchant is in inactive state
    # -- WALLET AVAILABILITY
    "WA_1000": _C, "WA_1001": _C, "WA_1005": _C, "WA_1006": _C,
    "WA_1002": _F,  # User wallet not found (refunded at once with appliedToNewUsers N)
    "WA_1003": _F,  # Payer wallet not found
    # -- USER MANAGER ERRORS (login flows, not this API)
    "UME_1000": _A, "UME_1001": _A, "UME_1002": _A, "UME_1003": _A, "UME_1004": _A, "UME_1005": _A,
    # -- VELOCITY FILTER ERRORS: limits refused the credit
    "VF_1000": _F, "VF_1001": _F, "VF_1002": _F, "VF_1003": _F, "VF_1005": _F, "VF_1006": _F,
    "VF_1007": _F, "VF_1008": _F, "VF_1009": _F,
    # -- MERCHANT WALLET LIMITS / CREDIT / DEBIT LIMITS: the sub-wallet cannot pay this
    "MWL_0001": _A, "MWL_0002": _F, "MWL_0003": _F, "MWL_1000": _F, "MWL_1001": _F, "MWL_2001": _F,
    # -- REFUND TO WALLET (PG refunds, not this API)
    "RTW_1000": _I, "RTW_1001": _I, "RTW_1002": _I,
    # -- SALES TO USER CREDIT ERRORS
    "STUC_1000": _C,  # Sales wallet not found
    "STUC_1002": _F,  # Payee record not found (refunded at once with N)
    "STUC_1003": _F,  # Merchant can't transfer money to his own wallet
    "STUC_1004": _C,  # not a sales wallet
    "STUC_1005": _C,  # Invalid salesWalletName/salesWalletGuid
    "STUC_1006": _I,  # Invalid merchantOrderId
    "STUC_1007": _A,  # merchantOrderId already exists: check status, never "failed"
    "STUC_1008": _I,  # Invalid userId, email or phone no.
    "STUC_1009": _N,  # sales to user credit txn not found
    # -- MERCHANT SERVICE (move funds, sub-wallet create/add funds): not this API
    "MS_1000": _C, "MS_1001": _C, "MS_1002": _A, "MS_1003": _C,
    "MSSWC_1000": _C, "MSSWC_1001": _C, "MSSWC_1002": _C, "MSSWC_1003": _C,
    "MSSWAF_1000": _A, "MSSWAF_1001": _A, "MSSWAF_1002": _A, "MSSWAF_1003": _A, "MSSWAF_1004": _A,
    "MSSWAF_1005": _A,
    # -- USER ACTIVE AND STATUS
    "UA_1000": _F, "UA_1003": _F, "UA_1007": _F, "UA_1008": _F, "UA_1013": _F,
    "UA_1001": _A, "UA_1002": _A, "UA_1004": _A, "UA_1005": _A, "UA_1006": _A, "UA_1009": _A,
    "UA_1010": _A, "UA_1011": _A, "UA_1012": _A, "UA_1014": _A, "UA_1015": _A, "UA_1016": _A,
    "UA_1017": _A, "UA_1018": _A, "UA_1019": _A,
    # -- CREATE WALLET (not this API)
    "CW_0001": _I, "CW_0002": _I, "CW_0004": _I, "CW_0003": _A, "CW_0005": _A,
    # -- CheckTxnStatus
    "CTS_0001": _I,
    # -- WALLET LIMIT (malformed limit requests)
    "WL_1000": _I, "WL_1001": _I, "WL_1002": _I, "WL_1003": _I, "WL_1004": _I, "WL_1005": _I,
    "WL_1006": _I, "WL_1007": _I, "WL_1008": _I, "WL_1009": _I, "WL_1010": _I, "WL_1011": _I,
    "WL_1012": _I,
    # -- MERCHANT VELOCITY AND COMMISSION (merchant set-up)
    "MVC_1001": _C, "MVC_1002": _C, "MVC_1003": _C, "MVC_1004": _C, "MVC_1005": _C, "MVC_1006": _C,
    "MVC_1007": _C, "MVC_1008": _C, "MVC_1009": _C, "MVC_1010": _C, "MVC_1011": _C,
    # -- WALLET STATEMENT API / WALLET STATEMENT (not this API)
    "WSA_1000": _I, "WSA_1001": _I, "WSA_1006": _I, "WSA_1007": _I,
    "WSA_1002": _A, "WSA_1003": _A, "WSA_1004": _A, "WSA_1005": _A,
    "WS_1000": _A, "WS_1001": _A, "WS_1002": _A, "WS_1003": _A, "WS_1004": _A, "WS_1005": _A,
    "WS_1006": _A,
    # -- OAuth Errors
    "OEC_1007": _C, "OEC_1024": _C,  # client permission / unauthorized access
    "OEC_1013": _F, "OEC_1014": _F, "OEC_1016": _F, "OEC_1017": _F, "OEC_1023": _F,
    "OEC_1027": _F, "OEC_1028": _F, "OEC_1029": _F,  # the user's account cannot receive
    "OEC_1002": _A, "OEC_1008": _A, "OEC_1010": _A, "OEC_1011": _A, "OEC_1012": _A, "OEC_1018": _A,
    "OEC_1020": _A, "OEC_1021": _A, "OEC_1022": _A, "OEC_1030": _A, "OEC_1031": _A, "OEC_1032": _A,
}  # fmt: skip

WALLET_CATALOGUE = CodeCatalogue("wallet", WALLET_CODES, WALLET_MEANINGS)

# What the response envelope's `status` must agree with for a code's outcome to be believed.
_ENVELOPE_STATUS = {
    WalletOutcome.SUCCESS: "SUCCESS",
    WalletOutcome.PENDING: "PENDING",
    WalletOutcome.FINAL_FAILURE: "FAILURE",
    WalletOutcome.INVALID_REQUEST: "FAILURE",
    WalletOutcome.CONFIGURATION_ERROR: "FAILURE",
    WalletOutcome.NOT_FOUND: "FAILURE",
}


def classify(envelope_status: str | None, status_code: str | None) -> WalletOutcome:
    """The outcome of a salesToUserCredit / checkStatus answer.

    Unknown codes, and answers whose `status` contradicts what their code means (a pending code
    with status FAILURE, say), are AMBIGUOUS: the truth is then asked for, not guessed.
    """
    outcome = WALLET_CATALOGUE.outcome_of(status_code)
    if outcome is WalletOutcome.AMBIGUOUS:
        return outcome
    expected = _ENVELOPE_STATUS[outcome]
    if (envelope_status or "").strip().upper() != expected:
        return WalletOutcome.AMBIGUOUS
    return outcome


# ---- checkStatus's own request-level answer -------------------------------------------------
# The envelope of a checkStatus answer says whether the *status request* worked, not what happened
# to the credit: that is in `response.txnList`. So its codes are read with this table, never with
# the salesToUserCredit catalogue above (where, say, GE_1003 would mean a refused credit). Only
# SS_001 carries an answer; STUC_1009 is Paytm saying it never took the order; codes that say our
# side is wrong (checksum, MID, merchant, sub-wallet) go to the DLQ; anything else, CTS_0001
# included, is AMBIGUOUS: the status is asked again later, and nothing is finalised on it.
CHECK_STATUS_CODES: dict[str, WalletOutcome] = {
    "SS_001": _S,  # the request worked: the transaction list is the answer
    "SUCCESS": _S,
    "STUC_1009": _N,  # sales to user credit txn not found
    "GE_1": _C,  # Unauthorized Access
    "GE_0000": _C,  # System not configured
    "GE_0002": _C,  # Security related problem
    "GE_1002": _C,  # User not authorized to perform this operation
    "GE_1008": _C,  # Invalid HMAC Value: the checksum key
    "GE_1017": _C,  # Invalid merchant (merchantGuid / MID)
    "GE_1024": _C,  # merchant exists but no wallet entry
    "GE_1035": _C,  # Merchant is in inactive state
    "WA_1001": _C,  # Merchant wallet not found
    "STUC_1000": _C, "STUC_1004": _C, "STUC_1005": _C,  # the sales sub-wallet
    "OEC_1007": _C, "OEC_1024": _C,  # client permission / unauthorized access
    "CTS_0001": _A,  # invalid request type: our request, but never a verdict on the credit
}  # fmt: skip

CHECK_STATUS_CATALOGUE = CodeCatalogue("wallet-check-status", CHECK_STATUS_CODES)

# What the envelope's `status` must say for the request-level code to be believed.
_CHECK_ENVELOPE_STATUS = {
    WalletOutcome.SUCCESS: "SUCCESS",
    WalletOutcome.NOT_FOUND: "FAILURE",
    WalletOutcome.CONFIGURATION_ERROR: "FAILURE",
}


def classify_check_status(envelope_status: str | None, status_code: str | None) -> WalletOutcome:
    """The request-level outcome of a checkStatus answer: SUCCESS (read the transaction list),
    NOT_FOUND, CONFIGURATION_ERROR, or AMBIGUOUS (unknown codes and contradictions included)."""
    outcome = CHECK_STATUS_CATALOGUE.outcome_of(status_code)
    if outcome is WalletOutcome.AMBIGUOUS:
        return outcome
    if (envelope_status or "").strip().upper() != _CHECK_ENVELOPE_STATUS[outcome]:
        return WalletOutcome.AMBIGUOUS
    return outcome
