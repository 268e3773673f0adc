"""Every code the simulator can answer with, and its text as the seed gives it.

`PRODUCED_CODES` is the claim "the simulator produces this code" (per API, since the seeds reuse
numbers); tests/sim checks that each one is reached by at least one test. Messages are copied
from the seeds.
"""

from __future__ import annotations

__all__ = ["PRODUCED_CODES", "message_for"]

# Seed 000, wallet payouts (salesToUserCredit / checkStatus).
WALLET_CODES: dict[str, str] = {
    "SUCCESS": "SUCCESS",
    "SS_001": "SUCCESS",
    "GE_2": "Bad request",
    "GE_0001": "Unknown error",
    "GE_0003": "Could not complete request. Please retry again.",
    "GE_1007": "Invalid Transaction Amount.",
    "GE_1008": "Invalid HMAC Value",
    "GE_1011": "Invalid email address.",
    "GE_1017": "Invalid merchant.",
    "GE_1018": "Invalid currency code",
    "GE_1026": "User wallet is in inactive mode.",
    "GE_1032": "Invalid Phone no.",
    "GE_1035": "Merchant is in inactive state.",
    "STUC_1000": "Sales wallet not found, please verify walletGuid.",
    "STUC_1001": "Payee wallet could not found.",
    "STUC_1002": "Payee record not found, please verify emailId/ssoId.",
    "STUC_1003": "Merchant can't transfer money to his own wallet.",
    "STUC_1004": "Invalid salesWalletGuid, as given wallet is not of type sales wallet.",
    "STUC_1005": "Invalid salesWalletName/salesWalletGuid parameter, please verify.",
    "STUC_1006": "Invalid merchantOrderId parameter value.",
    "STUC_1007": "Invalid merchantOrderId, systemTxnRequest with given merchantOrderId already exist.",
    "STUC_1008": "Invalid userId, email or phone no.",
    "STUC_1009": "sales to user credit txn not found.",
    "STUC_1010": "Payee mobile not verified",
    "STUC_1011": "Payee email not verified",
    "STUC_1012": "Payee mobile and email not verified",
    "WA_1002": "User wallet not found.",
    "WA_1004": "Payee wallet not found.",
    "RWL_0003": "Exceeded maximum per transaction amount",
    "RWL_0004": "Exceeded maximum no of allowed transactions",
    "RWL_1000": "May exceed maximum allowed balance",
    "RWL_1001": "Exceeds allowed maximum credit throughput",
    # The seed has no low-balance code; MWL_2001 (seed text "Exceeds allowed maximum debit
    # throughput") is the closest merchant-debit code, and the message says what happened.
    "MWL_2001": "Insufficient balance in the merchant sales sub-wallet.",
    "CTS_0001": "Invalid request type,It can be pgTxnId or pgRefundId or merchantTxnId or walletTxnId",
}

# Seed 001, wallet validation. DE_001 is not in the seed (it is silent on the success code).
VALIDATION_CODES: dict[str, str] = {
    "DE_001": "Wallet validated successfully",
    "DE_002": "Request accepted",
    "DE_101": "Your request is in process. Kindly check after sometime",
    "DE_010": "param is mandatory and it's can't be null or blank",
    "DE_011": "param doesn't contain a valid value",
    "DE_013": "param doesn't contain valid length, It should be <length> or less",
    "DE_019": "MID is not valid",
    "DE_023": "Mid is not active",
    "DE_029": "Total amount to be disbursed is more than the subwallet balance",
    "DE_039": "No record found",
    "DE_040": "Duplicate order id",
    "DE_057": "Invalid request",
    "DE_401": "Authentication Parameters Required",
    "DE_408": "Checksum Required",
    "DE_409": "Checksum Verification Failed",
    "DE_702": "User doesn't exist",
    "DE_704": "Sub wallet not found",
    "DE_1222": "Invalid wallet detail",
    "DE_1223": "Wallet Limit exceeded",
}

# Seed 003, prepaid creditAccount (`responseCode`).
PREPAID_CODES: dict[str, str] = {
    "00": "SUCCESS",
    "1009": "CARD_CANCELLED_CLOSED_EXPIRED",
    "1010": "CARD_TEMPORARY_BLOCK",
    "1012": "CARD_PENDING_CANCELLATION",
    "1030": "INVALID_MESSAGE",
    "1056": "INVALID MESSAGE CODE",
    "1093": "INVALID CLIENT TXN ID",
    "1101": "UNKNOWN_SOURCE_ACCOUNT_TYPE",
    "1121": "CARD_CREDIT_DEBIT_BLOCK",
    "1303": "CUSTOMER DETAILS NOT PRESENT",
    "1304": "MORE THAN ONE CUSTOMER IDENTIFIER NOT ALLOWED",
    "1322": "TRANSACTION AMOUNT CANNOT BE ZERO",
    "1325": "FUND FLOW TYPE MISMATCH",
    "1353": "COOLING OFF PERIOD BETWEEN TWO LOADS NOT COMPLETED",
    "1357": "WALLET DETAILS NOT FOUND",
    "1359": "INVALID LOAD AMOUNT",
    "1369": "SUBWALLET OR ACCOUNTNO SHOULD BE PRESENT",
    "10153": "AMOUNT IS NOT WITHIN MIN-MAX RANGE",
    "10163": "PROGRAM DAILY LIMIT EXCEEDED",
}

# Seed 004, PG initiateTransaction (`body.resultInfo.resultCode`), texts as in the seed.
PG_CODES: dict[str, str] = {
    "0000": "Success",
    "0002": "Success Idempotent",
    "1001": "Request parameters are not valid",
    "1006": "Your Session has expired",
    "1007": "Missing mandatory element",
    "1008": "Pipe character is not allowed",
    "2004": "SSO Token is invalid",
    "2005": "Checksum provided is invalid",
    "2007": "Txn amount is invalid",
    "2013": "MID in the query param doesn\u2019t match with the Mid sent in the request",
    "2014": "OrderId in the query param doesn\u2019t match with the OrderId sent in the request",
    "2023": "Repeat Request Inconsistent",
}

# PG / auto-debit transaction RESPCODEs (PG callback, transaction status, withdraw, add money).
# The seeds point at an "Annexure A" they do not include: these are Paytm's PG codes (decision),
# except 01's text (seed 002's withdraw sample) and 1007/2007 (seed 004's texts, reused).
PG_TXN_CODES: dict[str, str] = {
    "01": "Txn Successful.",
    "1001": "Request parameters are not valid",
    "141": "User has not completed transaction.",
    "227": "Your payment has been declined by your bank. Please contact your bank for any queries.",
    "235": "Wallet balance Insufficient",
    "305": "Invalid Merchant Id",
    "325": "Duplicate order id",
    "330": "Paytm checksum mismatch.",
    "334": "Invalid Order Id.",
    "402": "Looks like the payment is not complete. Please wait while we confirm the status with your bank.",
    "1007": "Missing mandatory element",
    "2004": "Authorization failed",
    "2007": "Txn amount is invalid",
}

# Refund and refund status RESPCODEs (Paytm's refund codes; the seed's annexure is missing).
PG_REFUND_CODES: dict[str, str] = {
    "10": "Refund Successfull",
    "330": "Paytm checksum mismatch.",
    "334": "Invalid Order Id.",
    "600": "Invalid refund request or restricted to refund",
    "601": "Refund request was raised for this transaction. But it is pending state",
    "602": "Refund Failed",
    "617": "Refund Already Raised",
    "619": "Invalid refund amount",
    "627": "Order Details Mismatch",
    "631": "Record not found",
}

# Seed 002, account linking (send OTP, verify OTP, validate token): `responseCode` / `message`.
OAUTH_CODES: dict[str, str] = {
    "01": "login",
    "02": "Register",
    "403": "Invalid Otp",
    "430": "Invalid Authorization",
    "431": "Invalid Mobile",
    "433": "Account Blocked",
    "434": "Bad Request",
    "465": "Invalid Email",
    "513": "Invalid Code",
    "530": "Invalid Token",
}

# Seed 002, check balance (`/paymentservices/pay/consult`): `body.resultInfo.resultCode`.
CONSULT_CODES: dict[str, str] = {
    "CS_0000": "Request served successfully.",
    "CS_0001": "Invalid request/ requestBody received.",
    "CS_0002": "Invalid userToken received.",
    "CS_0004": "Invalid amount received.",
    "CS_0005": "Neither User token nor AgreementId was in the request.",
    "GE_1": "Unauthorized Access",
    "GE_1035": "Merchant is in inactive state.",
    "GE_1043": "Merchant does not exist",
}

PRODUCED_CODES: dict[str, dict[str, str]] = {
    "wallet": WALLET_CODES,
    "validation": VALIDATION_CODES,
    "prepaid": PREPAID_CODES,
    "pg": PG_CODES,
    "pg-txn": PG_TXN_CODES,
    "pg-refund": PG_REFUND_CODES,
    "oauth": OAUTH_CODES,
    "consult": CONSULT_CODES,
}
"""API name -> {code: message}: every code the simulator claims to produce, per API."""


def message_for(code: str, api: str = "wallet") -> str:
    """The seed's text for a code; a scripted code the simulator does not know reads as itself."""
    return PRODUCED_CODES[api].get(code, code)
