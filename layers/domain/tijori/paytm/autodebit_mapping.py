"""Paytm auto-debit (seed 002) requests and answers as pure functions (no I/O; table-tested).

Two hosts, two ways of signing:
- Account linking on the OAuth host (accounts.paytm.com): Send OTP, Verify OTP (Basic
  `clientId:clientSecret`), Validate Token (`session_token` header), Revoke (DELETE with the token
  in the path; see `autodebit_client` for how the token is kept out of traces). Plain JSON, no
  checksum.
- Payments on the PG host (securegw.paytm.in), signed with the PG merchant key:
  check balance (`/paymentservices/pay/consult`, `head.signature` over the exact text of `body`,
  as seed 004's initiateTransaction; the answer is verified the same way), withdraw
  (`/order/directPay`, a `JsonData` form field whose `CheckSum` is the params checksum of its other
  fields; the answer's `CheckSum`, when Paytm sends one, is verified over the answer's other fields
  as their JSON text), and add money (an HTML form the customer's browser posts to
  `/theia/processTransaction`, `CHECKSUMHASH` over the other fields).

Seed 002 spells the same field several ways (`Status`/`status`, `MID`/`MId`, `CustId`/`CustomerId`,
`ResponseCode`/`RESPCODE`, `checkSum`/`CheckSum`), so answers are read by any of their names, case
aside. Whether an answer is about the order and amount we sent is checked here (an answer about
another order is no answer); whether the money is Tijori's to keep is the status API's call.

Tokens, the client secret and checksums travel as `SecretStr` or inside request bytes, never in a
repr: answers hold the access token as `SecretStr`, and `AddMoneyForm`'s repr hides what it signs.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import SecretStr

from paytm_signing import MerchantCredentials, generate_signature, verify_signature_current_or_previous
from tijori.lifecycle.outcomes import CodeCatalogue, Outcome
from tijori.paytm.autodebit_codes import (
    AUTHORIZATION_FAILED,
    BALANCE_TOKEN_REJECTED,
    CHECK_BALANCE_CATALOGUE,
    SEND_OTP_CATALOGUE,
    TOKEN_REJECTED_MESSAGES,
    TOKEN_UNKNOWN,
    VALIDATE_TOKEN_CATALOGUE,
    VERIFY_OTP_CATALOGUE,
    WITHDRAW_CATALOGUE,
    WITHDRAW_TOKEN_REJECTED,
    WRONG_OTP,
)
from tijori.paytm.pg_codes import PENDING_STATUSES, TXN_FAILURE, TXN_SUCCESS
from tijori.paytm.pg_mapping import PgMerchant, money_text, pg_merchant, top_level_member_spans

SEND_OTP_PATH = "/signin/otp"
VERIFY_OTP_PATH = "/signin/validate/otp"
USER_DETAILS_PATH = "/user/details"
REVOKE_PATH = "/oauth2/accessToken/"
REVOKE_PATH_TEMPLATE = REVOKE_PATH + "{session_token}"
CONSULT_PATH = "/paymentservices/pay/consult"
DIRECT_PAY_PATH = "/order/directPay"
ADD_MONEY_PATH = "/theia/processTransaction"

CONSULT_VERSION = "v1"
WITHDRAW_REQ_TYPE = "WITHDRAW"
WALLET_PAYMENT_MODE = "PPI"
WALLET_AUTH_MODE = "USRPWD"
CURRENCY = "INR"
# directPay's AppIP and DeviceId describe the customer's device; a charge Tijori makes server to
# server has none. The seed's sample sends AppIP 127.0.0.1 and its curl an empty DeviceId.
SERVER_APP_IP = "127.0.0.1"
NO_DEVICE_ID = ""
ADD_MONEY_REQUEST_TYPE = "ADD_MONEY"
DIRECT_PAY_CHECKSUM_FIELD = "CheckSum"
ADD_MONEY_CHECKSUM_FIELD = "CHECKSUMHASH"
_ANSWER_CHECKSUM_FIELDS = frozenset({"CHECKSUM", "CHECKSUMHASH"})  # compared upper-cased
CHECKSUM_MISMATCH = "330"  # our PG key: a wrong key also makes Paytm's answer fail our check
UNAUTHORIZED_ACCESS = "GE_1"  # consult's refusal of our signature, likewise
_WRONG_KEY = "a wrong PG key does both"
SUCCESS_STATUS = "SUCCESS"
_A = Outcome.AMBIGUOUS
FAILURE_STATUS = "FAILURE"


# ---- the merchant -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AutoDebitMerchant:
    """Who Tijori is to auto-debit: the OAuth client (id, secret, and the values Paytm shares for
    Send OTP) and the PG merchant (MID, website, key) that signs the payment calls."""

    pg: PgMerchant
    client_id: str
    client_secret: SecretStr
    scope: str
    response_type: str
    industry_type: str
    channel: str

    @property
    def mid(self) -> str:
        return self.pg.mid

    def basic_authorization(self) -> str:
        """Seed 002's `Authorization` header value: Basic base64(clientId:clientSecret)."""
        pair = f"{self.client_id}:{self.client_secret.get_secret_value()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


def autodebit_merchant(credentials: MerchantCredentials) -> AutoDebitMerchant:
    """The auto-debit product of the merchant secret: its `auto_debit` and `pg` sections (raises
    `MerchantCredentialsError` naming the one that is absent)."""
    auto_debit = credentials.auto_debit
    return AutoDebitMerchant(
        pg=pg_merchant(credentials),
        client_id=auto_debit.client_id,
        client_secret=auto_debit.client_secret,
        scope=auto_debit.scope,
        response_type=auto_debit.response_type,
        industry_type=auto_debit.industry_type,
        channel=auto_debit.channel,
    )


# ---- reading answers ----------------------------------------------------------------------------

_CURLY_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"'})
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _compact(document: Any) -> str:
    # ASCII only: the signed characters and the bytes on the wire are then the same thing.
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True)


def _literal_document(raw: bytes | str) -> Any:
    """JSON with every number kept as the text it was written as ("1", "1.50"): what Paytm's
    params checksum signs, and an exact amount without a float in between. Raises ValueError
    (JSONDecodeError, UnicodeDecodeError) or RecursionError on what is not JSON."""
    return json.loads(raw, parse_int=str, parse_float=str, parse_constant=str)


def _lenient_document(raw: bytes) -> Any:
    """JSON, or the nearly-JSON of seed 002's Validate Token sample (curly quotes, a trailing
    comma), repaired; raises ValueError if even that is not JSON."""
    try:
        return _literal_document(raw)
    except (ValueError, RecursionError):
        pass
    text = raw.decode("utf-8").translate(_CURLY_QUOTES)
    return _literal_document(_TRAILING_COMMA.sub(r"\1", text))


def _member(document: Mapping[str, Any], *names: str) -> Any:
    """The first of `names` the object holds, compared case-insensitively (seed 002 spells its
    fields both ways); None when it holds none."""
    by_lower = {str(key).lower(): value for key, value in document.items()}
    for name in names:
        value = by_lower.get(name.lower())
        if value is not None:
            return value
    return None


def _text(value: Any) -> str | None:
    """A value as text (numbers already are: see `_literal_document`); None for nothing, JSON
    null, objects and lists; blank text is nothing too."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


def _amount(value: Any) -> Decimal | None:
    text = _text(value)
    if text is None:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _flag(value: Any) -> bool | None:
    """A JSON boolean, or its text."""
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower()
    return {"true": True, "false": False}.get(text)


def _epoch_ms(value: Any) -> datetime | None:
    """An epoch in milliseconds (number or digits) as a UTC datetime, exactly (no float)."""
    text = _text(value)
    if text is None or not text.isdigit():
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(text))


def _object(raw: bytes, reader: Any = _literal_document) -> dict[str, Any] | str:
    """The answer as a JSON object, or why it is not one."""
    try:
        document = reader(raw)
    except (ValueError, RecursionError):
        return "answer is not JSON"
    return document if isinstance(document, dict) else "answer is not a JSON object"


def _explained(catalogue: CodeCatalogue, outcome: Outcome, code: str | None, status: str | None) -> str:
    """Why an answer reads as `outcome`: the code's meaning, or what made it ambiguous."""
    meaning = catalogue.meaning_of(code)
    if code is None:
        return f"no result code (status {status!r})"
    if meaning is None:
        return f"unknown code {code!r} (status {status!r})"
    if outcome is not catalogue.outcome_of(code):
        return f"{code} {meaning} with status {status!r}: contradictory"
    return f"{code} {meaning}"


def _oauth_refusal(catalogue: CodeCatalogue, status: str | None, code: str | None) -> Outcome:
    """A linking refusal's outcome: the code's, when the status does not contradict it (the
    seed's refusals say FAILURE; one without a status is read by its code)."""
    outcome = catalogue.outcome_of(code)
    if outcome is Outcome.SUCCESS or (status is not None and status.upper() != FAILURE_STATUS):
        return Outcome.AMBIGUOUS
    return outcome


# ---- Send OTP -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OtpAnswer:
    """Send OTP's answer: on SUCCESS, `state` is what Verify OTP takes with the customer's OTP
    (`code` 01 for a known Paytm user, 02 for a number Paytm will register)."""

    outcome: Outcome
    state: str | None
    code: str | None
    message: str | None
    reason: str = ""

    @classmethod
    def no_answer(cls, reason: str) -> OtpAnswer:
        return cls(Outcome.AMBIGUOUS, None, None, None, reason)


def send_otp_request(merchant: AutoDebitMerchant, phone: str, email: str | None) -> bytes:
    """Seed 002's Send OTP body: email (when given), phone, clientId, scope, responseType."""
    body: dict[str, str] = {}
    if email:
        body["email"] = email
    body |= {
        "phone": phone,
        "clientId": merchant.client_id,
        "scope": merchant.scope,
        "responseType": merchant.response_type,
    }
    return _compact(body).encode("ascii")


def read_send_otp_answer(raw: bytes) -> OtpAnswer:
    document = _object(raw)
    if isinstance(document, str):
        return OtpAnswer.no_answer(document)
    status = _text(_member(document, "status"))
    code = _text(_member(document, "responseCode"))
    message = _text(_member(document, "message"))
    state = _text(_member(document, "state"))
    if (status or "").upper() != SUCCESS_STATUS:
        outcome = _oauth_refusal(SEND_OTP_CATALOGUE, status, code)
        return OtpAnswer(outcome, None, code, message, _explained(SEND_OTP_CATALOGUE, outcome, code, status))
    outcome = SEND_OTP_CATALOGUE.outcome_of(code)
    if outcome is Outcome.SUCCESS and state is not None:
        return OtpAnswer(outcome, state, code, message, _explained(SEND_OTP_CATALOGUE, outcome, code, status))
    reason = "success without a state" if state is None else _explained(SEND_OTP_CATALOGUE, _A, code, status)
    return OtpAnswer(_A, None, code, message, reason)


# ---- Verify OTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenAnswer:
    """Verify OTP's answer: on SUCCESS the customer's access token (the SSO token every payment
    call takes), when it expires, and Paytm's customer id. `wrong_otp`: the customer typed another
    number than the one sent (403); they may try again with the same state."""

    outcome: Outcome
    access_token: SecretStr | None
    expires_at: datetime | None
    resource_owner_id: str | None
    code: str | None
    message: str | None
    wrong_otp: bool
    reason: str = ""

    @classmethod
    def no_answer(cls, reason: str) -> TokenAnswer:
        return cls(Outcome.AMBIGUOUS, None, None, None, None, None, False, reason)


def verify_otp_request(state: str, otp: str) -> bytes:
    """Seed 002's Verify OTP body (the Basic authorization goes in a header)."""
    return _compact({"otp": otp, "state": state}).encode("ascii")


def read_verify_otp_answer(raw: bytes) -> TokenAnswer:
    document = _object(raw)
    if isinstance(document, str):
        return TokenAnswer.no_answer(document)
    status = _text(_member(document, "status"))
    code = _text(_member(document, "responseCode"))
    message = _text(_member(document, "message"))
    token = _text(_member(document, "access_token"))
    if (
        token is not None
        and (status or SUCCESS_STATUS).upper() == SUCCESS_STATUS
        and code not in VERIFY_OTP_CATALOGUE
    ):
        return TokenAnswer(
            Outcome.SUCCESS,
            SecretStr(token),
            _epoch_ms(_member(document, "expires")),
            _text(_member(document, "resourceOwnerId")),
            code,
            message,
            False,
            "access token issued",
        )
    if token is not None:
        return TokenAnswer(
            Outcome.AMBIGUOUS,
            None,
            None,
            None,
            code,
            message,
            False,
            "a token beside a refusal: contradictory",
        )
    outcome = _oauth_refusal(VERIFY_OTP_CATALOGUE, status, code)
    wrong_otp = outcome is Outcome.FINAL_FAILURE and code == WRONG_OTP
    reason = _explained(VERIFY_OTP_CATALOGUE, outcome, code, status)
    return TokenAnswer(outcome, None, None, None, code, message, wrong_otp, reason)


# ---- Validate Token -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenDetailsAnswer:
    """Validate Token's answer: `known` True with Paytm's customer id and the token's expiry;
    False when Paytm says the token is invalid (530: expired, revoked, signed out); None when the
    answer does not say."""

    outcome: Outcome
    known: bool | None
    customer_id: str | None
    expires_at: datetime | None
    code: str | None
    message: str | None
    reason: str = ""

    @classmethod
    def no_answer(cls, reason: str) -> TokenDetailsAnswer:
        return cls(Outcome.AMBIGUOUS, None, None, None, None, None, reason)


def read_token_details_answer(raw: bytes) -> TokenDetailsAnswer:
    """Read leniently: the seed's own sample is not valid JSON, and `mobile` and `expires` come
    as numbers or text (neither is taken as a number here: `mobile` is not read at all)."""
    document = _object(raw, _lenient_document)
    if isinstance(document, str):
        return TokenDetailsAnswer.no_answer(document)
    status = _text(_member(document, "status"))
    code = _text(_member(document, "responseCode"))
    message = _text(_member(document, "message"))
    customer_id = _text(_member(document, "id"))
    if (
        customer_id is not None
        and (status or SUCCESS_STATUS).upper() == SUCCESS_STATUS
        and code not in VALIDATE_TOKEN_CATALOGUE
    ):
        expires_at = _epoch_ms(_member(document, "expires"))
        return TokenDetailsAnswer(
            Outcome.SUCCESS, True, customer_id, expires_at, code, message, "token valid"
        )
    outcome = _oauth_refusal(VALIDATE_TOKEN_CATALOGUE, status, code)
    if customer_id is not None:
        outcome = Outcome.AMBIGUOUS
    known = False if outcome is Outcome.FINAL_FAILURE and code == TOKEN_UNKNOWN else None
    reason = _explained(VALIDATE_TOKEN_CATALOGUE, outcome, code, status)
    return TokenDetailsAnswer(outcome, known, None, None, code, message, reason)


# ---- Revoke -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevokeAnswer:
    """Revoke's answer, read from the HTTP status only (seed 002): 200 revoked; 404 no such token
    (already revoked or expired: gone either way); 401 our client id or secret."""

    outcome: Outcome
    http_status: int | None
    reason: str = ""

    @classmethod
    def no_answer(cls, reason: str) -> RevokeAnswer:
        return cls(Outcome.AMBIGUOUS, None, reason)


_REVOKE_OUTCOMES: dict[int, tuple[Outcome, str]] = {
    200: (Outcome.SUCCESS, "Access token successfully deleted."),
    404: (Outcome.NOT_FOUND, "Access token not found."),
    401: (Outcome.CONFIGURATION_ERROR, "Authorization header invalid."),
}


def read_revoke_answer(http_status: int) -> RevokeAnswer:
    outcome, meaning = _REVOKE_OUTCOMES.get(http_status, (Outcome.AMBIGUOUS, "unexpected status"))
    return RevokeAnswer(outcome, http_status, f"HTTP {http_status} {meaning}")


# ---- check balance (consult) --------------------------------------------------------------------


@dataclass(frozen=True)
class BalanceAnswer:
    """Check balance's answer (verified as Paytm's): whether the wallet (or Postpaid) can pay
    `amount`, and if not, the `deficit` to add and whether adding money is allowed.
    `token_rejected`: Paytm says the SSO token is invalid (CS_0002): the customer must link again."""

    outcome: Outcome
    funds_sufficient: bool | None
    add_money_allowed: bool | None
    deficit: Decimal | None
    code: str | None
    message: str | None
    token_rejected: bool = False
    reason: str = ""

    @classmethod
    def no_answer(cls, reason: str, code: str | None = None, message: str | None = None) -> BalanceAnswer:
        return cls(Outcome.AMBIGUOUS, None, None, None, code, message, reason=reason)


def check_balance_request(
    merchant: AutoDebitMerchant, token: SecretStr, amount: Decimal, *, now_ms: int
) -> bytes:
    """Seed 002's consult request: `head` {clientId, version, requestTimestamp, channelId,
    signature} and `body` {userToken, totalAmount, Mid}; the signature is over the exact `body`
    characters that are sent (serialized once, signed, embedded as they are)."""
    body = {"userToken": token.get_secret_value(), "totalAmount": money_text(amount), "Mid": merchant.mid}
    body_text = _compact(body)
    head = {
        "clientId": merchant.client_id,
        "version": CONSULT_VERSION,
        "requestTimestamp": str(now_ms),
        "channelId": merchant.channel,
        "signature": generate_signature(body_text, merchant.pg.key),
    }
    return ('{"head":' + _compact(head) + ',"body":' + body_text + "}").encode("ascii")


def _consult_outcome(status: str | None, code: str | None) -> Outcome:
    """The code's outcome, unless `resultStatus` contradicts it. The seed spells success three
    ways ("Sucesss", "Success", "SUCCESS"), so the first letter is what is compared."""
    outcome = CHECK_BALANCE_CATALOGUE.outcome_of(code)
    initial = (status or "").strip()[:1].upper()
    if outcome is Outcome.SUCCESS and initial != "S":
        return Outcome.AMBIGUOUS
    if outcome not in (Outcome.SUCCESS, Outcome.AMBIGUOUS) and initial != "F":
        return Outcome.AMBIGUOUS
    return outcome


def read_check_balance_answer(raw: bytes, merchant: AutoDebitMerchant) -> BalanceAnswer:
    """A consult answer, read only once Paytm's `head.signature` over the exact text of its
    `body` verifies under the PG key. An unverified answer is AMBIGUOUS, except an "Unauthorized
    Access" refusal (GE_1), which a wrong key of ours causes along with the failed check: it is
    read as CONFIGURATION_ERROR, which never finalises anything."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return BalanceAnswer.no_answer("answer is not UTF-8 text")
    spans = top_level_member_spans(text)
    document = _object(raw)
    if spans is None or isinstance(document, str) or "body" not in spans:
        return BalanceAnswer.no_answer("answer is not one JSON object with a body (or repeats a member)")
    body, head = document.get("body"), document.get("head")
    result = body.get("resultInfo") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(result, dict):
        return BalanceAnswer.no_answer("answer has no body.resultInfo")
    code = _text(result.get("resultCode"))
    status = _text(result.get("resultStatus"))
    message = _text(result.get("resultMsg"))
    signature = head.get("signature") if isinstance(head, dict) else None
    start, end = spans["body"]
    if not verify_signature_current_or_previous(text[start:end], merchant.pg.checksum_key, signature):
        reason = "answer signature missing" if signature is None else "answer signature invalid"
        if code == UNAUTHORIZED_ACCESS and _consult_outcome(status, code) is Outcome.CONFIGURATION_ERROR:
            return BalanceAnswer(
                Outcome.CONFIGURATION_ERROR,
                None,
                None,
                None,
                code,
                message,
                reason=f"{code} {CHECK_BALANCE_CATALOGUE.meaning_of(code)} ({reason}: {_WRONG_KEY})",
            )
        return BalanceAnswer.no_answer(reason, code, message)
    outcome = _consult_outcome(status, code)
    reason = _explained(CHECK_BALANCE_CATALOGUE, outcome, code, status)
    if outcome is not Outcome.SUCCESS:
        rejected = outcome is Outcome.FINAL_FAILURE and code in BALANCE_TOKEN_REJECTED
        return BalanceAnswer(outcome, None, None, None, code, message, rejected, reason)
    sufficient = _flag(body.get("fundsSufficient"))
    allowed_flags = [_flag(body.get(name)) for name in ("addMoneyAllowed", "addMoneyRequired")]
    known_flags = [flag for flag in allowed_flags if flag is not None]
    add_money_allowed = any(known_flags) if known_flags else None
    deficit = _amount(body.get("deficitAmount"))
    if sufficient is None:
        return BalanceAnswer.no_answer("success without fundsSufficient", code, message)
    if deficit is not None and (deficit < 0 or (deficit > 0) is sufficient):
        return BalanceAnswer.no_answer(
            f"fundsSufficient {sufficient} with deficitAmount {deficit}", code, message
        )
    if not sufficient and deficit is None:
        return BalanceAnswer.no_answer("insufficient funds without a deficitAmount", code, message)
    return BalanceAnswer(
        Outcome.SUCCESS, sufficient, add_money_allowed, deficit, code, message, False, reason
    )


# ---- withdraw (directPay) -----------------------------------------------------------------------


@dataclass(frozen=True)
class WithdrawAnswer:
    """directPay's answer. SUCCESS says Paytm debited the wallet for this order and amount (the
    status API confirms it before the charge is PAID); FINAL_FAILURE that it did not and will
    not (`token_rejected`: because the SSO token is dead, so the customer must link again; code
    235: the balance is short, so the customer must add money). AMBIGUOUS is no answer: a
    timeout, a body that is not Paytm's answer for this order, or one whose `CheckSum` does not
    verify (`checksum_verified` False). `checksum_verified` is None when Paytm sent no checksum."""

    outcome: Outcome
    status: str | None
    order_id: str | None
    amount: Decimal | None
    txn_id: str | None
    bank_txn_id: str | None
    code: str | None
    message: str | None
    token_rejected: bool
    checksum_verified: bool | None
    reason: str = ""

    @classmethod
    def no_answer(cls, reason: str, checksum_verified: bool | None = None) -> WithdrawAnswer:
        return cls(
            Outcome.AMBIGUOUS, None, None, None, None, None, None, None, False, checksum_verified, reason
        )


def _signed_params(params: dict[str, str], key: str, checksum_field: str) -> dict[str, str]:
    return {**params, checksum_field: generate_signature(params, key)}


def direct_pay_json_data(
    merchant: AutoDebitMerchant, order_id: str, amount: Decimal, token: SecretStr, cust_id: str
) -> str:
    """Seed 002's withdraw request as the `JsonData` JSON text, `CheckSum` the params checksum of
    the other fields (PG merchant key)."""
    params = {
        "MID": merchant.mid,
        "ReqType": WITHDRAW_REQ_TYPE,
        "TxnAmount": money_text(amount),
        "AppIP": SERVER_APP_IP,
        "OrderId": order_id,
        "DeviceId": NO_DEVICE_ID,
        "Currency": CURRENCY,
        "SSOToken": token.get_secret_value(),
        "PaymentMode": WALLET_PAYMENT_MODE,
        "CustId": cust_id,
        "IndustryType": merchant.industry_type,
        "Channel": merchant.channel,
        "AuthMode": WALLET_AUTH_MODE,
    }
    return _compact(_signed_params(params, merchant.pg.key, DIRECT_PAY_CHECKSUM_FIELD))


def _signed_text(value: Any) -> str | None:
    """A field as Paytm's params checksum signs it: text as sent, numbers as written."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _withdraw_checksum(document: Mapping[str, Any], merchant: AutoDebitMerchant) -> bool | None:
    """None when the answer carries no checksum (the seed's sample sends it empty); otherwise
    whether it verifies over the answer's other fields."""
    checksums = [v for k, v in document.items() if str(k).upper() in _ANSWER_CHECKSUM_FIELDS]
    present = [value for value in checksums if isinstance(value, str) and value.strip()]
    if not present and all(value is None or value == "" for value in checksums):
        return None
    if len(present) != 1:
        return False
    signed = {
        str(k): _signed_text(v) for k, v in document.items() if str(k).upper() not in _ANSWER_CHECKSUM_FIELDS
    }
    return verify_signature_current_or_previous(signed, merchant.pg.checksum_key, present[0].strip())


_WITHDRAW_STATUS_FOR = {
    Outcome.SUCCESS: frozenset({TXN_SUCCESS}),
    Outcome.PENDING: PENDING_STATUSES,
    Outcome.FINAL_FAILURE: frozenset({TXN_FAILURE}),
    Outcome.INVALID_REQUEST: frozenset({TXN_FAILURE}),
    Outcome.CONFIGURATION_ERROR: frozenset({TXN_FAILURE}),
}


def classify_withdraw(status: str | None, code: str | None) -> Outcome:
    """The code's outcome when `Status` agrees with it; AMBIGUOUS otherwise."""
    outcome = WITHDRAW_CATALOGUE.outcome_of(code)
    if outcome is Outcome.AMBIGUOUS or (status or "").upper() not in _WITHDRAW_STATUS_FOR[outcome]:
        return Outcome.AMBIGUOUS
    return outcome


def _identity_mismatch(
    merchant: AutoDebitMerchant,
    outcome: Outcome,
    asked_order_id: str,
    asked_amount: Decimal,
    order_id: str | None,
    amount: Decimal | None,
    mid: str | None,
) -> str | None:
    """Why the answer is not about what we sent, if it is not. A success must name the order and
    amount; a refusal may leave them out."""
    if outcome is Outcome.SUCCESS and (order_id is None or amount is None):
        return "success without OrderId and TxnAmount"
    if order_id is not None and order_id != asked_order_id:
        return f"answer is for OrderId {order_id!r}, not {asked_order_id!r}"
    if amount is not None and amount != asked_amount:
        return f"answer is for TxnAmount {amount}, not {asked_amount}"
    if mid is not None and mid != merchant.mid:
        return f"answer is for MID {mid!r}, not ours"
    return None


def read_direct_pay_answer(
    raw: bytes, merchant: AutoDebitMerchant, *, order_id: str, amount: Decimal
) -> WithdrawAnswer:
    document = _object(raw)
    if isinstance(document, str):
        return WithdrawAnswer.no_answer(document)
    status = _text(_member(document, "Status", "STATUS"))
    code = _text(_member(document, "ResponseCode", "RESPCODE"))
    message = _text(_member(document, "ResponseMessage", "RESPMSG"))
    checksum_verified = _withdraw_checksum(document, merchant)
    if checksum_verified is False:
        if code == CHECKSUM_MISMATCH and classify_withdraw(status, code) is Outcome.CONFIGURATION_ERROR:
            reason = f"{code} {WITHDRAW_CATALOGUE.meaning_of(code)} (answer CheckSum invalid: {_WRONG_KEY})"
            return WithdrawAnswer(
                Outcome.CONFIGURATION_ERROR,
                status,
                None,
                None,
                None,
                None,
                code,
                message,
                False,
                False,
                reason,
            )
        return WithdrawAnswer.no_answer("answer CheckSum invalid", checksum_verified=False)
    answered_order = _text(_member(document, "OrderId", "ORDERID"))
    answered_amount = _amount(_member(document, "TxnAmount", "TXNAMOUNT"))
    outcome = classify_withdraw(status, code)
    reason = _explained(WITHDRAW_CATALOGUE, outcome, code, status)
    mismatch = _identity_mismatch(
        merchant,
        outcome,
        order_id,
        amount,
        answered_order,
        answered_amount,
        _text(_member(document, "MID", "MId")),
    )
    if mismatch is not None:
        outcome, reason = Outcome.AMBIGUOUS, mismatch
    token_rejected = (
        mismatch is None
        and (status or "").upper() == TXN_FAILURE
        and (
            (code in WITHDRAW_TOKEN_REJECTED and outcome is Outcome.FINAL_FAILURE)
            or (message or "").strip().rstrip(".").upper() in TOKEN_REJECTED_MESSAGES
        )
    )
    if token_rejected and code != AUTHORIZATION_FAILED:
        reason = f"{reason}; {message}: the SSO token is invalid or expired"
    return WithdrawAnswer(
        outcome,
        status,
        answered_order,
        answered_amount,
        _text(_member(document, "TxnId", "TXNID")),
        _text(_member(document, "BankTxnId", "BANKTXNID")),
        code,
        message,
        token_rejected,
        checksum_verified,
        reason,
    )


# ---- add money ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddMoneyForm:
    """The HTML form the customer's browser posts to Paytm to add money to the wallet (seed 002
    STEP 3): `action` and the hidden `fields`. Its repr hides the SSO token and the checksum."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        shown = {
            k: ("***" if k in ("SSO_TOKEN", ADD_MONEY_CHECKSUM_FIELD) else v) for k, v in self.fields.items()
        }
        return f"AddMoneyForm(action={self.action!r}, fields={shown!r})"


def add_money_form(
    merchant: AutoDebitMerchant,
    pg_base_url: str,
    *,
    order_id: str,
    amount: Decimal,
    token: SecretStr,
    cust_id: str,
    callback_url: str,
) -> AddMoneyForm:
    """Seed 002's Add Money form: REQUEST_TYPE ADD_MONEY, MID, ORDER_ID, CUST_ID, TXN_AMOUNT,
    CHANNEL_ID, INDUSTRY_TYPE_ID, WEBSITE, SSO_TOKEN, CALLBACK_URL, and CHECKSUMHASH over them."""
    params = {
        "REQUEST_TYPE": ADD_MONEY_REQUEST_TYPE,
        "MID": merchant.mid,
        "ORDER_ID": order_id,
        "CUST_ID": cust_id,
        "TXN_AMOUNT": money_text(amount),
        "CHANNEL_ID": merchant.channel,
        "INDUSTRY_TYPE_ID": merchant.industry_type,
        "WEBSITE": merchant.pg.website_name,
        "SSO_TOKEN": token.get_secret_value(),
        "CALLBACK_URL": callback_url,
    }
    fields = _signed_params(params, merchant.pg.key, ADD_MONEY_CHECKSUM_FIELD)
    return AddMoneyForm(pg_base_url.rstrip("/") + ADD_MONEY_PATH, fields)
