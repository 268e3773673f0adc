"""Paytm PG's codes (seed 004 initiateTransaction; seed 002's transaction status, refund and refund
status) with what each means for a payment or a refund (DESIGN.md rule 7).

Four APIs, five catalogues, because the same number means different things in different answers:
- `INITIATE_CATALOGUE`: `body.resultInfo.resultCode` of initiateTransaction (seed 004's list).
- `TXN_CATALOGUE`: the RESPCODE of a transaction status answer *about an order Paytm has*: what
  happened to the customer's payment.
- `STATUS_REQUEST_CATALOGUE`: the RESPCODEs with which the status API refuses *the status request
  itself* (unknown order, checksum, MID). Paytm sends them with STATUS TXN_FAILURE, but they are no
  verdict on the payment: a TXN_FAILURE carrying 334 says "no such order", not "the payment failed".
  They are read first, so they can never be mistaken for a failed payment (like the wallet family's
  checkStatus table beside its credit catalogue).
- `REFUND_CATALOGUE` and `REFUND_STATUS_CATALOGUE`: RESPCODEs of the refund call and of the refund
  status call (631 "record not found" is NOT_FOUND for the second; 617 "REFID already used" is a
  duplicate for the first).

Seed 002 points at an "Annexure A" for RESPCODEs that it does not include; the codes beyond the
seeds are Paytm's published PG codes (status, refund) and the simulator's tables
(`tijori_local/sim/codes.py`), each marked where it comes from. Codes not listed are AMBIGUOUS:
a status check is always safe, a guess is not.

The STATUS literal has to agree with what the code means, or the answer is AMBIGUOUS (a pending
code with TXN_SUCCESS, say). Pending is spelled two ways: `TXN_PENDING` (seed 002's add-money
table, the simulator's default) and `PENDING` (Paytm's public PG documents and SDKs); both are read.
"""

from __future__ import annotations

from tijori.lifecycle.outcomes import CodeCatalogue, Outcome

_S, _P, _F, _I, _C, _A, _N = (
    Outcome.SUCCESS,
    Outcome.PENDING,
    Outcome.FINAL_FAILURE,
    Outcome.INVALID_REQUEST,
    Outcome.CONFIGURATION_ERROR,
    Outcome.AMBIGUOUS,
    Outcome.NOT_FOUND,
)

TXN_SUCCESS = "TXN_SUCCESS"
TXN_FAILURE = "TXN_FAILURE"
PENDING_STATUSES = frozenset({"TXN_PENDING", "PENDING"})
"""Both spellings of a transaction or refund Paytm holds: seed 002 (`TXN_PENDING`), Paytm's docs
and SDKs (`PENDING`)."""


# ---- initiateTransaction (seed 004, "Response Codes & Messages") -----------------------------
# INVALID_REQUEST: Paytm refused the content and made no order; fixing the content (a new attempt
# at the domain's discretion) is the only way on. CONFIGURATION_ERROR: our side is wrong; the
# payment is not finalised (DLQ, alarm, redrive after the fix). AMBIGUOUS: an order with this id
# may exist: ask the transaction status before anything else.
INITIATE_CODES: dict[str, Outcome] = {
    "0000": _S,  # Success: an order and its txnToken
    "0002": _S,  # Success Idempotent: the same order id and body again; the same txnToken
    "196": _I,  # the amount exceeds the allowed limit
    "1001": _I,  # Request parameters are not valid
    # "Your Session has expired": the order id was initiated before and its txnToken (15 minutes)
    # is dead, so an order exists and has ended; its status says how (141, not completed).
    "1006": _A,
    "1007": _I,  # Missing mandatory element
    "1008": _I,  # Pipe character is not allowed
    "1009": _I,  # Promo code request is not valid
    "1011": _I,  # Invalid Promo Param
    "1012": _I,  # Promo amount cannot be more than transaction amount
    "2004": _I,  # SSO Token is invalid
    "2005": _C,  # Checksum provided is invalid: the merchant key
    "2007": _I,  # Txn amount is invalid
    # The query's mid/orderId differ from the body's. Tijori builds both from one value, so only a
    # bug of ours can cause it: never finalise the payment on it; alarm, fix, redrive.
    "2013": _C,
    "2014": _C,
    # Repeat Request Inconsistent: Paytm already has this order id with another body (a body that
    # changed between our attempts, or an id someone else used on this MID). An order with this
    # id exists and it is not the one we describe now, so this is neither success (no token for
    # us) nor a refusal that leaves nothing behind: ask the status, whose record (amount, MID) the
    # domain then matches against the payment (rule 3): a mismatch is NEEDS_REVIEW.
    "2023": _A,
    "2100": _I,  # Link details are not valid
    "00000900": _A,  # System error: an order may or may not have been made
}

INITIATE_MEANINGS: dict[str, str] = {
    "0000": "Success",
    "0002": "Success Idempotent",
    "196": "Payment failed as the amount entered exceeded the allowed limit",
    "1001": "Request parameters are not valid",
    "1006": "Your Session has expired",
    "1007": "Missing mandatory element",
    "1008": "Pipe character is not allowed",
    "1009": "Promo code request is not valid",
    "1011": "Invalid Promo Param",
    "1012": "Promo amount cannot be more than transaction amount.",
    "2004": "SSO Token is invalid",
    "2005": "Checksum provided is invalid",
    "2007": "Txn amount is invalid",
    "2013": "MID in the query param doesn't match with the Mid sent in the request",
    "2014": "OrderId in the query param doesn't match with the OrderId sent in the request",
    "2023": "Repeat Request Inconsistent",
    "2100": "Link details are not valid.",
    "00000900": "System error",
}

INITIATE_CATALOGUE = CodeCatalogue("pg-initiate", INITIATE_CODES, INITIATE_MEANINGS)

# seed 004: resultStatus "S, F, U"; what it must say for the code's outcome to be believed.
_INITIATE_RESULT_STATUS = {
    _S: "S",
    _I: "F",
    _C: "F",
}


def classify_initiate(result_status: str | None, result_code: str | None) -> Outcome:
    """The outcome of an initiateTransaction answer (already verified as Paytm's).

    AMBIGUOUS for unknown codes, for ambiguous codes, and when `resultStatus` contradicts the code
    (a success code with F or U, a refusal with S or U)."""
    outcome = INITIATE_CATALOGUE.outcome_of(result_code)
    if outcome is _A:
        return outcome
    if _normal(result_status) != _INITIATE_RESULT_STATUS[outcome]:
        return _A
    return outcome


# ---- transaction status: the payment (seed 002 STEP 4, Paytm's PG RESPCODEs) -----------------
# Only for answers about an order Paytm has. STATUS decides; the RESPCODE must agree with it.
TXN_CODES: dict[str, Outcome] = {
    "01": _S,  # Txn Successful (seed 002's sample)
    "400": _P,  # Transaction status not confirmed yet (Paytm)
    "402": _P,  # Looks like the payment is not complete... confirming with your bank (Paytm, simulator)
    "141": _F,  # User has not completed transaction (the checkout session ended; Paytm, simulator)
    "196": _F,  # the amount exceeded the allowed limit (seed 004's text)
    "227": _F,  # declined by the bank (Paytm, simulator)
    "235": _F,  # Wallet balance Insufficient (Paytm, simulator: auto-debit withdrawals)
    "295": _F,  # the UPI id entered is incorrect (Paytm)
    "810": _F,  # Txn Failed (Paytm)
}

TXN_MEANINGS: dict[str, str] = {
    "01": "Txn Successful.",
    "400": "Transaction status not confirmed yet.",
    "402": "Looks like the payment is not complete. Please wait while we confirm the status with your bank.",
    "141": "User has not completed transaction.",
    "196": "Payment failed as the amount entered exceeded the allowed limit.",
    "227": "Your payment has been declined by your bank.",
    "235": "Wallet balance Insufficient",
    "295": "Your payment failed as the UPI ID entered is incorrect.",
    "810": "Txn Failed",
}

TXN_CATALOGUE = CodeCatalogue("pg-txn", TXN_CODES, TXN_MEANINGS)

# ---- transaction status: the status request itself ------------------------------------------
# Read before TXN_CODES: an answer with one of these codes says nothing about the payment.
# NOT_FOUND is the only answer that allows the order to be sent again (rule 2), so it is believed
# only when the answer carries no transaction of its own (see `classify_status_request`).
STATUS_REQUEST_CODES: dict[str, Outcome] = {
    "334": _N,  # Invalid Order Id: Paytm has no order with this id for this MID
    "330": _C,  # Paytm checksum mismatch: the merchant key
    "305": _C,  # Invalid Merchant Id / Merchant Id not registered
    "335": _C,  # Mid is invalid (Paytm)
    "501": _A,  # System Error (Paytm): ask again later
}

STATUS_REQUEST_MEANINGS: dict[str, str] = {
    "334": "Invalid Order Id.",
    "330": "Paytm checksum mismatch.",
    "305": "Invalid Merchant Id",
    "335": "Mid is invalid",
    "501": "System Error",
}

STATUS_REQUEST_CATALOGUE = CodeCatalogue(
    "pg-txn-status-request", STATUS_REQUEST_CODES, STATUS_REQUEST_MEANINGS
)

# What STATUS must say for a code's outcome to be believed.
_TXN_STATUS_FOR = {
    _S: frozenset({TXN_SUCCESS}),
    _P: PENDING_STATUSES,
    _F: frozenset({TXN_FAILURE}),
    _I: frozenset({TXN_FAILURE}),
    _C: frozenset({TXN_FAILURE}),
    _N: frozenset({TXN_FAILURE}),
}


def is_status_request_refusal(resp_code: str | None) -> bool:
    """True when RESPCODE is one of the status API's own refusals (never a payment verdict)."""
    return resp_code is not None and resp_code in STATUS_REQUEST_CATALOGUE


def classify_status_request(status: str | None, resp_code: str | None, *, carries_txn: bool) -> Outcome:
    """The outcome of a status answer whose RESPCODE is a request-level code.

    NOT_FOUND, CONFIGURATION_ERROR or AMBIGUOUS; never a verdict on the payment. A "not found"
    that carries a transaction id of its own, or comes without TXN_FAILURE, contradicts itself and
    is AMBIGUOUS (it would otherwise allow a resend)."""
    outcome = STATUS_REQUEST_CATALOGUE.outcome_of(resp_code)
    if outcome is _A:
        return outcome
    if _normal(status) not in _TXN_STATUS_FOR[outcome]:
        return _A
    if outcome is _N and carries_txn:
        return _A
    return outcome


def classify_txn(status: str | None, resp_code: str | None) -> Outcome:
    """The payment's outcome from a status answer about an order Paytm has: SUCCESS, PENDING or
    FINAL_FAILURE when STATUS and RESPCODE agree; AMBIGUOUS for unknown codes, unknown STATUS
    values and contradictions. Request-level codes are never read here (AMBIGUOUS if passed)."""
    if is_status_request_refusal(resp_code):
        return _A
    outcome = TXN_CATALOGUE.outcome_of(resp_code)
    if outcome is _A:
        return outcome
    if _normal(status) not in _TXN_STATUS_FOR[outcome]:
        return _A
    return outcome


# ---- refund (seed 002 STEP 5, Paytm's refund RESPCODEs) -------------------------------------
REFUND_CODES: dict[str, Outcome] = {
    "10": _S,  # Refund Successful
    "601": _P,  # Refund request was raised for this transaction. But it is pending state
    "628": _P,  # Refund request was raised to the bank, pending from the bank's side
    "600": _I,  # Invalid refund request or restricted to refund
    "619": _I,  # Invalid refund amount (more than what is left to refund, malformed)
    "627": _I,  # Order Details Mismatch: TXNID is not this order's
    "635": _I,  # Partial refund under Rupee 1 is not allowed
    "334": _I,  # Invalid Order Id: Paytm has no such order to refund
    "602": _F,  # Refund failed
    "607": _F,  # Refund can not be initiated for a cancelled transaction
    "620": _F,  # BALANCE_NOT_ENOUGH: the merchant's balance cannot pay the refund
    # REFID already used: a refund under this REFID may already exist. Like any duplicate
    # refusal, it means "ask the refund status", never "failed" (rule 2).
    "617": _A,
    # Another refund on this order is in progress: this one was not taken; its status will say
    # so (631), after which the same REFID may be sent again.
    "626": _A,
    "629": _A,  # Refund is already Successful: which refund? ask the refund status
    "501": _A,  # System Error
    "330": _C,  # Paytm checksum mismatch: the merchant key
    "305": _C,  # Invalid Merchant Id
    "335": _C,  # Mid is invalid
}

REFUND_MEANINGS: dict[str, str] = {
    "10": "Refund Successful",
    "601": "Refund request was raised for this transaction. But it is pending state",
    "628": "Refund request was raised to respective bank. But it is in pending state from bank side.",
    "600": "Invalid refund request or restricted to refund",
    "619": "Invalid refund amount",
    "627": "Order Details Mismatch",
    "635": "Partial Refund under Rupee 1 is not allowed",
    "334": "Invalid Order Id.",
    "602": "Refund failed",
    "607": "Refund can not be initiated for a cancelled transaction.",
    "620": "BALANCE_NOT_ENOUGH",
    "617": "Refund Already Raised",
    "626": "Another Refund on same order is already in Progress, please retry after few minutes",
    "629": "Refund is already Successful",
    "501": "System Error",
    "330": "Paytm checksum mismatch.",
    "305": "Invalid Merchant Id",
    "335": "Mid is invalid",
}

REFUND_CATALOGUE = CodeCatalogue("pg-refund", REFUND_CODES, REFUND_MEANINGS)

# ---- refund status --------------------------------------------------------------------------
# The refund's record: its outcome. 631 is Paytm saying it has no refund under this REFID for the
# order: only then may the refund be sent again with the same REFID.
REFUND_STATUS_CODES: dict[str, Outcome] = {
    "10": _S,  # Refund Successful
    "601": _P,  # pending
    "628": _P,  # pending at the bank
    "631": _N,  # Record not found
    "334": _N,  # Invalid Order Id: no order, so no refund under it
    "602": _F,  # Refund failed
    # A refund record refused for its content or for the transaction's state: it will not happen.
    "600": _F,
    "607": _F,
    "619": _F,
    "620": _F,
    "627": _F,
    "635": _F,
    "501": _A,  # System Error
    "330": _C,  # Paytm checksum mismatch
    "305": _C,  # Invalid Merchant Id
    "335": _C,  # Mid is invalid
}

REFUND_STATUS_MEANINGS: dict[str, str] = {
    **{code: REFUND_MEANINGS[code] for code in REFUND_STATUS_CODES if code in REFUND_MEANINGS},
    "631": "Record not found",
}

REFUND_STATUS_CATALOGUE = CodeCatalogue("pg-refund-status", REFUND_STATUS_CODES, REFUND_STATUS_MEANINGS)


def _classify_refund_answer(
    catalogue: CodeCatalogue, status: str | None, resp_code: str | None, *, carries_refund: bool
) -> Outcome:
    outcome = catalogue.outcome_of(resp_code)
    if outcome is _A:
        return outcome
    if _normal(status) not in _TXN_STATUS_FOR[outcome]:
        return _A
    if outcome is _N and carries_refund:
        return _A
    return outcome


def classify_refund(status: str | None, resp_code: str | None) -> Outcome:
    """The outcome of a refund call's answer (STATUS must agree with RESPCODE)."""
    return _classify_refund_answer(REFUND_CATALOGUE, status, resp_code, carries_refund=False)


def classify_refund_status(status: str | None, resp_code: str | None, *, carries_refund: bool) -> Outcome:
    """The outcome of a refund status answer. A "not found" that carries a REFUNDID of its own
    contradicts itself and is AMBIGUOUS (it would otherwise allow the refund to be resent)."""
    return _classify_refund_answer(REFUND_STATUS_CATALOGUE, status, resp_code, carries_refund=carries_refund)


def _normal(value: str | None) -> str:
    return (value or "").strip().upper()
