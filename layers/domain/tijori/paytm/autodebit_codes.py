"""Paytm auto-debit's codes (seed 002) with what each means for linking a wallet or charging it
(DESIGN.md rule 7). One catalogue per API, because the same number means different things in
different answers (434 is a bad request everywhere, 430 our client id, but 403 only a wrong OTP):

- `SEND_OTP_CATALOGUE`: Send OTP's `responseCode` (01 login, 02 register, and its error table).
- `VERIFY_OTP_CATALOGUE`: Verify OTP's `responseCode` (its error table; success carries no code).
- `VALIDATE_TOKEN_CATALOGUE`: Validate Token's `responseCode` (530 Invalid Token, 434).
- `CHECK_BALANCE_CATALOGUE`: `body.resultInfo.resultCode` of `/paymentservices/pay/consult`.
- `WITHDRAW_CATALOGUE`: directPay's `ResponseCode`. Seed 002 gives only "01" (its sample) and
  points at an "Annexure A" it does not include; the failures are the PG transaction codes the
  simulator answers a withdraw with (`tijori_local/sim/codes.py`), seed 004's texts where the
  number is one of its codes, each marked where it comes from.

Outcomes, read for what the answer says (never more):
- a refusal that names our client id, MID or checksum key is CONFIGURATION_ERROR (fix, redrive);
- a refusal of the request's content is INVALID_REQUEST;
- a refusal about the customer (wrong OTP, blocked account, dead token, no money) is FINAL_FAILURE;
- "try again", "unknown error" and every code not listed are AMBIGUOUS.
"""

from __future__ import annotations

from tijori.lifecycle.outcomes import CodeCatalogue, Outcome

_S, _P, _F, _I, _C, _A = (
    Outcome.SUCCESS,
    Outcome.PENDING,
    Outcome.FINAL_FAILURE,
    Outcome.INVALID_REQUEST,
    Outcome.CONFIGURATION_ERROR,
    Outcome.AMBIGUOUS,
)

# ---- account linking: the OAuth host ------------------------------------------------------------

SEND_OTP_CODES: dict[str, Outcome] = {
    "01": _S,  # an OTP went to a known user (login)
    "02": _S,  # an OTP went to a number with no Paytm account yet (register)
    "430": _C,  # Invalid Authorization: our clientId
    "431": _I,  # Invalid Mobile
    "432": _F,  # Login Failed
    "433": _F,  # Account Blocked
    "434": _I,  # Bad Request
    "465": _I,  # Invalid Email
}

SEND_OTP_MEANINGS: dict[str, str] = {
    "01": "login",
    "02": "Register",
    "430": "Invalid Authorization",
    "431": "Invalid Mobile",
    "432": "Login Failed",
    "433": "Account Blocked",
    "434": "Bad Request",
    "465": "Invalid Email",
}

SEND_OTP_CATALOGUE = CodeCatalogue("autodebit-send-otp", SEND_OTP_CODES, SEND_OTP_MEANINGS)

VERIFY_OTP_CODES: dict[str, Outcome] = {
    "430": _C,  # Invalid Authorization: our clientId:clientSecret
    "434": _I,  # Bad Request
    "403": _F,  # Invalid OTP: the customer typed another number (they may try again)
    "513": _F,  # Invalid Code: the state expired or was used; a new OTP is needed
    "432": _F,  # Login Failed
}

VERIFY_OTP_MEANINGS: dict[str, str] = {
    "430": "Invalid Authorization",
    "434": "Bad Request",
    "403": "Invalid OTP",
    "513": "Invalid Code",
    "432": "Login Failed",
}

VERIFY_OTP_CATALOGUE = CodeCatalogue("autodebit-verify-otp", VERIFY_OTP_CODES, VERIFY_OTP_MEANINGS)

WRONG_OTP = "403"
TOKEN_UNKNOWN = "530"  # noqa: S105 - a response code

VALIDATE_TOKEN_CODES: dict[str, Outcome] = {
    # Invalid Token: expired, revoked, signed out or never issued; the customer must link again.
    TOKEN_UNKNOWN: _F,
    "434": _I,  # Bad Request
}

VALIDATE_TOKEN_MEANINGS: dict[str, str] = {TOKEN_UNKNOWN: "Invalid Token", "434": "Bad Request"}

VALIDATE_TOKEN_CATALOGUE = CodeCatalogue(
    "autodebit-validate-token", VALIDATE_TOKEN_CODES, VALIDATE_TOKEN_MEANINGS
)

# ---- check balance (consult) --------------------------------------------------------------------

CHECK_BALANCE_CODES: dict[str, Outcome] = {
    "CS_0000": _S,  # Request served successfully: fundsSufficient / deficitAmount say the rest
    "CS_0001": _I,  # Invalid request/ requestBody received
    "CS_0002": _F,  # Invalid userToken received: the link is dead; link again
    "CS_0004": _I,  # Invalid amount received
    "CS_0005": _I,  # Neither User token nor AgreementId was in the request
    "AGM_0006": _F,  # Agreement does not exists
    "AGM_0007": _F,  # Agreement status is invalid
    "GE_0003": _A,  # We could not get the requested details. Please try again.
    "GE_0001": _A,  # Unknown Error
    "GE_1": _C,  # Unauthorized Access: our signature (PG key) or client id
    "GE_2": _I,  # Bad request
    "GE_1026": _A,  # We can not process your request. Please try later.
    "GE_1027": _F,  # User doesn't exist
    "GE_1043": _C,  # Merchant does not exist: our MID
    "GE_1035": _C,  # Merchant is in inactive state
    "RWL_2001": _F,  # You will exceed allowed debit transaction amount in wallet
}

CHECK_BALANCE_MEANINGS: dict[str, str] = {
    "CS_0000": "Request served successfully.",
    "CS_0001": "Invalid request/ requestBody received.",
    "CS_0002": "Invalid userToken received.",
    "CS_0004": "Invalid amount received.",
    "CS_0005": "Neither User token nor AgreementId was in the request.",
    "AGM_0006": "Agreement does not exists.",
    "AGM_0007": "Agreement status is invalid.",
    "GE_0003": "We could not get the requested details. Please try again.",
    "GE_0001": "Unknown Error",
    "GE_1": "Unauthorized Access",
    "GE_2": "Bad request",
    "GE_1026": "We can not process your request. Please try later.",
    "GE_1027": "User doesn't exist.",
    "GE_1043": "Merchant does not exist",
    "GE_1035": "Merchant is in inactive state.",
    "RWL_2001": "You will exceed allowed debit transaction amount in wallet.",
}

CHECK_BALANCE_CATALOGUE = CodeCatalogue(
    "autodebit-check-balance", CHECK_BALANCE_CODES, CHECK_BALANCE_MEANINGS
)

BALANCE_TOKEN_REJECTED = frozenset({"CS_0002"})

# ---- withdraw (directPay) -----------------------------------------------------------------------

INSUFFICIENT_BALANCE = "235"
AUTHORIZATION_FAILED = "2004"

WITHDRAW_CODES: dict[str, Outcome] = {
    "01": _S,  # Txn Successful (seed 002's sample answer)
    "402": _P,  # not complete, confirming (PG code): the status API decides
    # Wallet balance Insufficient (PG code; the simulator's withdraw): nothing was debited; the
    # customer must add money (seed 002 STEP 3) before a new charge can succeed.
    INSUFFICIENT_BALANCE: _F,
    "227": _F,  # declined (PG code; the simulator's scripted withdraw failure)
    # SSO Token is invalid (seed 004's text), "Authorization failed" (seed 002 FAQ 9/10, the
    # simulator's text): the customer's token expired or was revoked; nothing was debited and the
    # customer must link again (`token_rejected` on the answer).
    AUTHORIZATION_FAILED: _F,
    "1001": _I,  # Request parameters are not valid (seed 004's text)
    "1007": _I,  # Missing mandatory element (seed 004's text)
    "2007": _I,  # Txn amount is invalid (seed 004's text)
    "330": _C,  # Paytm checksum mismatch (PG code): the PG merchant key
    "305": _C,  # Invalid Merchant Id (PG code)
    # Duplicate order id (PG code): an order with this id exists, maybe ours from an attempt whose
    # answer was lost: ask the status (rule 2), never call it failed.
    "325": _A,
    "501": _A,  # System Error (PG code)
}

WITHDRAW_MEANINGS: dict[str, str] = {
    "01": "Txn Successful.",
    "402": "Looks like the payment is not complete. Please wait while we confirm the status with your bank.",
    INSUFFICIENT_BALANCE: "Wallet balance Insufficient: the customer must add money to the Paytm wallet",
    "227": "Your payment has been declined by your bank.",
    AUTHORIZATION_FAILED: "Authorization failed: the customer's SSO token is invalid or expired; link again",
    "1001": "Request parameters are not valid",
    "1007": "Missing mandatory element",
    "2007": "Txn amount is invalid",
    "330": "Paytm checksum mismatch.",
    "305": "Invalid Merchant Id",
    "325": "Duplicate order id",
    "501": "System Error",
}

WITHDRAW_CATALOGUE = CodeCatalogue("autodebit-withdraw", WITHDRAW_CODES, WITHDRAW_MEANINGS)

WITHDRAW_TOKEN_REJECTED = frozenset({AUTHORIZATION_FAILED})
TOKEN_REJECTED_MESSAGES = frozenset({"AUTHORIZATION FAILED", "AUTHORIZATION ERROR"})
"""Seed 002 FAQ 9 and 10 name the refusal of a dead SSO token by its text, not by a code."""
