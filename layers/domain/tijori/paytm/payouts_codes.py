"""Every code of seed 001 (Paytm Payouts, the Wallet Validation API) with its outcome and meaning
(DESIGN.md rule 7), and how a validation answer is read with them.

The seed gives each code with the `status` it comes with ("resultStatus"). Read exactly:
- DE_1222 "Invalid wallet detail" and DE_1223 "Wallet Limit exceeded" come with status SUCCESS:
  the validation ran and its verdict is that the wallet cannot take money. They are outcome
  FINAL_FAILURE (no penny moved, none will) and `PAYEE_INVALID_CODES` makes the validation
  INVALID, never VALID.
- DE_702 "User doesn't exist" and DE_703 "Wallet could not found" are definitive answers about the
  payee too: INVALID (not FAILED), so the merchant reads one status for "cannot be paid".
- DE_002 "Request accepted" is PENDING as an outcome (the result comes later); the validation stays
  ACCEPTED. DE_101 and DE_0618 are pending at Paytm: the validation becomes PENDING.
- Codes that say our side is wrong (MID, authentication, checksum, sub-wallet, merchant set-up)
  are CONFIGURATION_ERROR: the message fails to the DLQ, nothing is finalised.
- DE_039 "No record found" is NOT_FOUND: only then is a validate call repeated (same orderId).
- DE_040 "Duplicate order id", DE_041 / DE_636 "Unable to process", DE_648 "Product Service
  Unavailable" and DE_500 "System Error" are AMBIGUOUS: the status query is asked, never FAILED.
- Codes of other Payouts APIs the seed's table also lists (files, refunds, schedules) are
  INVALID_REQUEST: this API sends none of what they refuse, so seeing one means our request was
  refused before anything moved.
DE_001 is not in the seed (it is silent on the success code): it is Paytm Payouts' "Successful",
and the one success code. Unknown codes are AMBIGUOUS.
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

# code: (the seed's resultStatus, outcome, the seed's resultMsg)
SEED_001_CODES: dict[str, tuple[str, Outcome, str]] = {
    "DE_001": ("SUCCESS", _S, "Successful (not in seed 001: Paytm Payouts' success code)"),
    "DE_002": ("ACCEPTED", _P, "Request accepted"),
    "DE_101": ("PENDING", _P, "Your request is in process. Kindly check after sometime"),
    "DE_010": ("FAILURE", _I, "param is mandatory and it's can't be null or blank"),
    "DE_011": ("FAILURE", _I, "param doesn't contain a valid value"),
    "DE_012": ("FAILURE", _I, "Amount must be a positive number with maximal 2 decimal places"),
    "DE_013": ("FAILURE", _I, "param doesn't contain valid length, It should be <length> or less"),
    "DE_015": ("FAILURE", _I, "Purpose not valid"),
    "DE_016": ("FAILURE", _I, "Month not valid"),
    "DE_017": ("FAILURE", _I, "Year not valid"),
    "DE_018": ("FAILURE", _I, "You can disburse the amount up to 6 months before from the current month"),
    "DE_019": ("FAILURE", _C, "MID is not valid"),
    "DE_020": ("FAILURE", _I, "Uploaded file is blank"),
    "DE_021": ("FAILURE", _I, "Disburse amount should be Rs. 1 or more"),
    "DE_023": ("FAILURE", _C, "Mid is not active"),
    "DE_026": ("FAILURE", _I, "Uploaded file must be of csv format"),
    "DE_027": ("FAILURE", _I, "File must contain 4 headers"),
    "DE_028": ("FAILURE", _I, "Cannot exceed columns more than <length>"),
    "DE_029": ("FAILURE", _F, "Total amount to be disbursed is more than the subwallet balance"),
    "DE_030": ("FAILURE", _I, "File already exists with this name"),
    "DE_034": ("FAILURE", _I, "Invalid Pay Mode"),
    "DE_035": ("FAILURE", _F, "Your request has been rejected by your configured Approver."),
    "DE_036": ("FAILURE", _I, "Uploaded file contains records more than <param>records"),
    "DE_039": ("FAILURE", _N, "No record found"),
    "DE_040": ("FAILURE", _A, "Duplicate order id"),
    "DE_041": ("FAILURE", _A, "Unable to process your request. Please try after some time"),
    "DE_042": ("FAILURE", _I, "Date format is not correct as it should be yyyy-MM-dd"),
    "DE_057": ("FAILURE", _I, "Invalid request"),
    "DE_058": ("FAILURE", _C, "Merchant Commission not configured"),
    "DE_064": ("FAILURE", _C, "Upfront commission not supported on this transaction. Please contact Merchant Helpdesk."),  # noqa: E501
    "DE_400": ("FAILURE", _I, "Invalid Request Parameter"),
    "DE_401": ("FAILURE", _C, "Authentication Parameters Required"),
    "DE_402": ("FAILURE", _C, "Access Denied"),
    "DE_403": ("FAILURE", _C, "API Not Found"),
    "DE_404": ("FAILURE", _C, "Unable to authenticate the request"),
    "DE_405": ("FAILURE", _C, "Remote IP not whitelisted"),
    "DE_406": ("FAILURE", _C, "Invalid Client-Token"),
    "DE_407": ("FAILURE", _C, "Client-Token Required"),
    "DE_408": ("FAILURE", _C, "Checksum Required"),
    "DE_409": ("FAILURE", _C, "Checksum Verification Failed"),
    "DE_500": ("FAILURE", _A, "System Error"),
    "DE_632": ("FAILURE", _I, "Invalid payment reference"),
    "DE_633": ("FAILURE", _I, "Invalid amount"),
    "DE_634": ("FAILURE", _I, "Invalid transaction"),
    "DE_636": ("FAILURE", _A, "Unable to process"),
    "DE_647": ("FAILURE", _I, "Refund not allowed for this transaction type"),
    "DE_648": ("FAILURE", _A, "Product Service Unavailable"),
    "DE_649": ("FAILURE", _F, "Transaction cannot be processed as current account limits will be breached."),
    "DE_654": ("FAILURE", _I, "Refund Processing Service No successful parent transaction found for request."),  # noqa: E501
    "DE_655": ("FAILURE", _I, "Refund Processing service Refund amount is greater than max amount available for refund"),  # noqa: E501
    "DE_701": ("FAILURE", _C, "Merchant does not exists"),
    "DE_702": ("FAILURE", _F, "User doesn't exist"),
    "DE_703": ("FAILURE", _F, "Wallet could not found, please verify walletGuid"),
    "DE_704": ("FAILURE", _C, "Sub wallet not found"),
    "DE_705": ("FAILURE", _F, "Agent wallet balance cann't be negative. Please fund your wallet and try again"),  # noqa: E501
    "DE_706": ("FAILURE", _I, "Refund is not possible as refund possibly already done or current refund request may cause refund to exceed actual transaction amount"),  # noqa: E501
    "DE_707": ("FAILURE", _I, "Refund amount should be equal to the transaction amount"),
    "DE_1222": ("SUCCESS", _F, "Invalid wallet detail"),
    "DE_1223": ("SUCCESS", _F, "Wallet Limit exceeded"),
    "DE_1617": ("FAILURE", _I, "Schedule time format is not correct as it should be YYYY-MM-DD HH:MM:SS"),
    "DE_1618": ("FAILURE", _I, "Transactions can be scheduled after 1hr from now"),
    "DE_0618": ("PENDING", _P, "Your request is pending from Approver's end. Kindly check after sometime"),
    "DE_1623": ("FAILURE", _I, "Remitter name contains inappropriate word"),
}  # fmt: skip

# Final answers about the payee: its wallet cannot take money (validation INVALID, not FAILED).
PAYEE_INVALID_CODES = frozenset({"DE_1222", "DE_1223", "DE_702", "DE_703"})
# Paytm took the request and the result comes later: the validation stays ACCEPTED.
ACCEPTED_CODES = frozenset({"DE_002"})

PAYOUTS_CATALOGUE = CodeCatalogue(
    "payouts",
    {code: outcome for code, (_, outcome, _) in SEED_001_CODES.items()},
    {code: meaning for code, (_, _, meaning) in SEED_001_CODES.items()},
)


def seed_status_of(code: str | None) -> str | None:
    """The `status` the seed says the code comes with; None for a code it does not list."""
    entry = SEED_001_CODES.get((code or "").strip().upper())
    return None if entry is None else entry[0]


def classify(envelope_status: str | None, status_code: str | None) -> Outcome:
    """The outcome of a validate or status-query answer: the code's, when the envelope's `status`
    is the one the seed gives the code; an answer that contradicts it (DE_1222 with FAILURE, say)
    or an unknown code is AMBIGUOUS: the truth is asked for, not guessed."""
    outcome = PAYOUTS_CATALOGUE.outcome_of(status_code)
    if outcome is Outcome.AMBIGUOUS:
        return outcome
    if (envelope_status or "").strip().upper() != seed_status_of(status_code):
        return Outcome.AMBIGUOUS
    return outcome
