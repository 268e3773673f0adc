"""Paytm PG requests and answers as pure functions (no I/O; tested with tables of cases).

- initiateTransaction (seed 004): `{"body": {...}, "head": {"signature"}}`, the signature over the
  exact text of `body` that is sent (serialized once, signed, and those same characters embedded);
  the answer's `head.signature` is checked over the exact text of the answer's `body` member as it
  stands in the raw bytes, never over a re-serialization. An answer that does not verify is no
  answer: it can only be AMBIGUOUS (or CONFIGURATION_ERROR, which never finalises anything; see
  `read_initiate_answer`).
- Transaction status, refund and refund status (seed 002): a `JsonData` JSON object carrying
  Paytm's params checksum (values in key order joined by "|") of its other fields, in
  `CHECKSUMHASH` (the refund table names it `CHECKSUM`). Seed 002 shows `JsonData` in a query
  string and says "passed as JSON string in `JsonData` parameter name"; Paytm's kits POST it as a
  form field. Tijori POSTs it as an `application/x-www-form-urlencoded` field: no URL length limit,
  no signed text in access logs, and the form encoding carries the checksum's `+`, `/` and `=`
  intact (the seed's "URL-encoded checksum" is about putting it in a URL, which we do not).

Answers are parsed faithfully; whether Paytm's record matches Tijori's payment (amount, MID,
order) is the domain's decision, not this module's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

from paytm_signing import (
    InvalidMerchantKeyError,
    MerchantCredentials,
    RotatingKey,
    generate_signature,
    verify_signature_current_or_previous,
)
from tijori.lifecycle.outcomes import CodeCatalogue, Outcome
from tijori.paytm.pg_codes import (
    INITIATE_CATALOGUE,
    REFUND_CATALOGUE,
    REFUND_STATUS_CATALOGUE,
    STATUS_REQUEST_CATALOGUE,
    TXN_CATALOGUE,
    classify_initiate,
    classify_refund,
    classify_refund_status,
    classify_status_request,
    classify_txn,
    is_status_request_refusal,
)

INITIATE_PATH = "/theia/api/v1/initiateTransaction"
CURRENCY = "INR"
REQUEST_TYPE = "Payment"
REFUND_TXN_TYPE = "REFUND"
STATUS_CHECKSUM_FIELD = "CHECKSUMHASH"
REFUND_CHECKSUM_FIELD = "CHECKSUM"  # seed 002's refund table names it so
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"
CHECKSUM_REFUSED = "2005"  # seed 004: "Checksum provided is invalid"

_CENT = Decimal("0.01")
_AES_KEY_LENGTHS = (16, 24, 32)


# ---- the merchant -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgMerchant:
    """Who Tijori is to Paytm PG: the MID, the website name and the PG merchant key.

    Independent of how the merchant secret is laid out. `previous_key` is the key being rotated
    out: accepted when verifying what Paytm signs, never used to sign. Keys never appear in repr.
    """

    mid: str
    website_name: str
    key: str = field(repr=False)
    previous_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.mid:
            raise ValueError("mid must not be empty")
        for name, value in (("key", self.key), ("previous_key", self.previous_key)):
            if value is not None and len(value.encode("utf-8")) not in _AES_KEY_LENGTHS:
                raise InvalidMerchantKeyError(f"PG merchant {name} must be 16, 24 or 32 bytes")

    @property
    def checksum_key(self) -> RotatingKey:
        return RotatingKey(self.key, self.previous_key)


# ---- shared reading helpers --------------------------------------------------------------------


def pg_merchant(credentials: MerchantCredentials) -> PgMerchant:
    """The PG product of the merchant secret (its `pg` section: raises naming it when absent)."""
    pg = credentials.pg
    previous = pg.previous_merchant_key
    return PgMerchant(
        mid=credentials.mid,
        website_name=pg.website_name,
        key=pg.merchant_key.get_secret_value(),
        previous_key=None if previous is None else previous.get_secret_value(),
    )


def decode_answer(content: bytes) -> Any:
    """A JSON answer with every fractional number as an exact Decimal. Raises ValueError
    (JSONDecodeError, UnicodeDecodeError) or RecursionError on what is not JSON."""
    return json.loads(content, parse_float=Decimal)


def money_text(amount: Decimal) -> str:
    """An INR amount as Paytm takes it: two decimals, from the Decimal's digits, never a float.

    Refuses (ValueError) what cannot be sent exactly: non-finite, not positive, or more than two
    decimal places (1.005 is not silently rounded)."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"amount must be a finite Decimal, got {amount!r}")
    cents = amount.quantize(_CENT)
    if cents != amount:
        raise ValueError(f"amount {amount} has more than two decimal places")
    if cents <= 0:
        raise ValueError(f"amount must be positive, got {amount}")
    return format(cents, "f")


def _text(value: Any) -> str | None:
    """A field's value as text; None when absent or JSON null. Numbers keep their exact digits."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _amount(value: Any) -> Decimal | None:
    """An exact amount from numeric text or a JSON number; None for anything else (or nothing)."""
    if value is None or isinstance(value, bool | dict | list | float):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _present(value: str | None) -> bool:
    return value is not None and value.strip() not in ("", "null", "NULL")


def _compact(document: Any) -> str:
    # ASCII only: the signed characters and the bytes on the wire are then the same thing.
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True)


# ---- initiateTransaction (seed 004) -------------------------------------------------------------


@dataclass(frozen=True)
class InitiateAnswer:
    """What one initiateTransaction call told us. `reason` says why `outcome` was read so."""

    outcome: Outcome
    reason: str
    result_code: str | None = None
    result_status: str | None = None
    message: str | None = None  # Paytm's resultMsg
    txn_token: str | None = None
    signature_verified: bool = False

    @classmethod
    def no_answer(cls, reason: str) -> InitiateAnswer:
        return cls(Outcome.AMBIGUOUS, reason)


def initiate_transaction_request(
    merchant: PgMerchant,
    order_id: str,
    amount: Decimal,
    customer_id: str,
    *,
    callback_url: str,
    phone: str | None = None,
    email: str | None = None,
) -> tuple[str, bytes]:
    """(path with `?mid=&orderId=`, the exact request bytes), seed 004's shape.

    `body` is serialized once; the signature is over those characters, and the same characters
    are what is sent (`{"body":<them>,"head":{"signature":...}}`)."""
    user_info: dict[str, str] = {"custId": customer_id}
    if phone:
        user_info["mobile"] = phone
    if email:
        user_info["email"] = email
    body = {
        "requestType": REQUEST_TYPE,
        "mid": merchant.mid,
        "websiteName": merchant.website_name,
        "orderId": order_id,
        "txnAmount": {"value": money_text(amount), "currency": CURRENCY},
        "userInfo": user_info,
        "callbackUrl": callback_url,
    }
    body_text = _compact(body)
    signature = generate_signature(body_text, merchant.key)
    content = '{"body":' + body_text + ',"head":' + _compact({"signature": signature}) + "}"
    query = urlencode({"mid": merchant.mid, "orderId": order_id}, quote_via=quote)
    return f"{INITIATE_PATH}?{query}", content.encode("ascii")


_WHITESPACE = " \t\n\r"
_SCANNER = json.JSONDecoder(parse_float=Decimal)


def top_level_member_spans(text: str) -> dict[str, tuple[int, int]] | None:
    """For a JSON object text, each top-level member's value as a [start, end) span of `text`.

    None if `text` is not exactly one JSON object, or if a member name is repeated (a repeated
    `body` would let the signed text and the parsed value be two different things)."""

    def skip(i: int) -> int:
        while i < len(text) and text[i] in _WHITESPACE:
            i += 1
        return i

    try:
        i = skip(0)
        if text[i : i + 1] != "{":
            return None
        i = skip(i + 1)
        spans: dict[str, tuple[int, int]] = {}
        if text[i : i + 1] == "}":
            return spans if skip(i + 1) == len(text) else None
        while True:
            if text[i : i + 1] != '"':
                return None
            name, i = _SCANNER.raw_decode(text, i)
            i = skip(i)
            if text[i : i + 1] != ":" or name in spans:
                return None
            start = skip(i + 1)
            _, end = _SCANNER.raw_decode(text, start)
            spans[name] = (start, end)
            i = skip(end)
            if text[i : i + 1] == ",":
                i = skip(i + 1)
                continue
            if text[i : i + 1] != "}":
                return None
            return spans if skip(i + 1) == len(text) else None
    except (ValueError, RecursionError):
        return None


def read_initiate_answer(raw: bytes, merchant: PgMerchant) -> InitiateAnswer:
    """An initiateTransaction answer, read only once Paytm's signature over its `body` verifies.

    An unverified answer (signature missing, wrong, or over other text) is no answer: AMBIGUOUS,
    never success, never a final refusal. One exception, which cannot finalise anything: a refusal
    whose code says our checksum key is wrong (2005) is read as CONFIGURATION_ERROR even when its
    signature does not verify under our key, because a wrong key is exactly what makes both fail.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return InitiateAnswer.no_answer("answer is not UTF-8 text")
    spans = top_level_member_spans(text)
    if spans is None:
        return InitiateAnswer.no_answer("answer is not one JSON object (or repeats a member)")
    try:
        document = decode_answer(raw)
    except (ValueError, RecursionError):
        return InitiateAnswer.no_answer("answer is not JSON")
    body, head = document.get("body"), document.get("head")
    if not isinstance(body, dict) or "body" not in spans:
        return InitiateAnswer.no_answer("answer has no body object")
    result_info = body.get("resultInfo")
    if not isinstance(result_info, dict):
        return InitiateAnswer.no_answer("answer has no resultInfo")
    code = _text(result_info.get("resultCode"))
    status = _text(result_info.get("resultStatus"))
    message = _text(result_info.get("resultMsg"))
    token = _text(body.get("txnToken"))
    signature = head.get("signature") if isinstance(head, dict) else None
    start, end = spans["body"]
    verified = verify_signature_current_or_previous(text[start:end], merchant.checksum_key, signature)
    if not verified:
        reason = "answer signature missing" if signature is None else "answer signature invalid"
        refused = classify_initiate(status, code) is Outcome.CONFIGURATION_ERROR
        if refused and (code or "").strip() == CHECKSUM_REFUSED:
            return InitiateAnswer(
                Outcome.CONFIGURATION_ERROR,
                f"{code} {INITIATE_CATALOGUE.meaning_of(code)} ({reason}: a wrong merchant key does both)",
                code,
                status,
                message,
            )
        return InitiateAnswer(Outcome.AMBIGUOUS, reason, code, status, message)
    outcome = classify_initiate(status, code)
    if outcome is Outcome.SUCCESS and not _present(token):
        return InitiateAnswer(
            Outcome.AMBIGUOUS, "success without a txnToken", code, status, message, signature_verified=True
        )
    return InitiateAnswer(
        outcome,
        _reason(INITIATE_CATALOGUE, outcome, code, f"resultStatus {status!r}"),
        code,
        status,
        message,
        token if outcome is Outcome.SUCCESS else None,
        True,
    )


# ---- JsonData requests (seed 002: status, refund, refund status) ------------------------------


def _signed_json_data(params: dict[str, str], key: str, checksum_field: str) -> str:
    """The `JsonData` JSON text: `params` plus Paytm's params checksum of them in `checksum_field`."""
    return _compact({**params, checksum_field: generate_signature(params, key)})


def json_data_form(json_data: str) -> bytes:
    """The POST body that carries `JsonData` as a form field."""
    return ("JsonData=" + quote_plus(json_data)).encode("ascii")


def transaction_status_json_data(merchant: PgMerchant, order_id: str, *, txn_type: str | None = None) -> str:
    """Seed 002's transaction status request: MID, ORDERID, optional TXN_TYPE (e.g. WITHDRAW for
    an auto-debit charge), CHECKSUMHASH over the others."""
    params = {"MID": merchant.mid, "ORDERID": order_id}
    if txn_type:
        params["TXN_TYPE"] = txn_type
    return _signed_json_data(params, merchant.key, STATUS_CHECKSUM_FIELD)


def refund_json_data(
    merchant: PgMerchant,
    *,
    order_id: str,
    txn_id: str,
    ref_id: str,
    amount: Decimal,
    comments: str | None = None,
) -> str:
    """Seed 002's refund request: MID, TXNID, ORDERID, REFUNDAMOUNT, TXNTYPE (REFUND), COMMENTS?,
    REFID, and CHECKSUM (the seed's name for this API) over the others."""
    params = {
        "MID": merchant.mid,
        "TXNID": txn_id,
        "ORDERID": order_id,
        "REFUNDAMOUNT": money_text(amount),
        "TXNTYPE": REFUND_TXN_TYPE,
        "REFID": ref_id,
    }
    if comments:
        params["COMMENTS"] = comments
    return _signed_json_data(params, merchant.key, REFUND_CHECKSUM_FIELD)


def refund_status_json_data(merchant: PgMerchant, *, order_id: str, ref_id: str) -> str:
    """Seed 002's refund status request: MID, ORDERID, REFID, CHECKSUMHASH over the others."""
    params = {"MID": merchant.mid, "ORDERID": order_id, "REFID": ref_id}
    return _signed_json_data(params, merchant.key, STATUS_CHECKSUM_FIELD)


# ---- transaction status answer ------------------------------------------------------------------


@dataclass(frozen=True)
class TxnStatusAnswer:
    """A transaction status answer, field by field as Paytm sent it (amounts as exact Decimals).

    `outcome` is SUCCESS / PENDING / FINAL_FAILURE for the payment when the answer is about an
    order Paytm has, or NOT_FOUND / CONFIGURATION_ERROR / AMBIGUOUS when it is about the request.
    `asked_order_id` / `asked_mid` are what was asked, kept beside what Paytm answered so the
    domain can compare them; this module does not."""

    outcome: Outcome
    reason: str
    asked_order_id: str | None = None
    asked_mid: str | None = None
    status: str | None = None
    resp_code: str | None = None
    resp_msg: str | None = None
    txn_id: str | None = None
    bank_txn_id: str | None = None
    order_id: str | None = None
    mid: str | None = None
    txn_amount: Decimal | None = None
    payment_mode: str | None = None
    gateway_name: str | None = None
    bank_name: str | None = None
    refund_amount: Decimal | None = None  # REFUNDAMT: refunded so far
    txn_date: str | None = None
    txn_type: str | None = None

    @property
    def is_request_level(self) -> bool:
        """True when the answer is about the status request, not about the payment."""
        return is_status_request_refusal(self.resp_code)

    @classmethod
    def no_answer(
        cls, reason: str, *, order_id: str | None = None, mid: str | None = None
    ) -> TxnStatusAnswer:
        return cls(Outcome.AMBIGUOUS, reason, asked_order_id=order_id, asked_mid=mid)


def read_status_answer(raw: bytes, *, order_id: str, mid: str) -> TxnStatusAnswer:
    """A transaction status answer (seed 002 STEP 4).

    Request-level codes (334, 330, 305, ...) are read first, with their own table: a TXN_FAILURE
    carrying one of them is not a failed payment. Everything else is the payment's record: STATUS
    (TXN_SUCCESS, TXN_FAILURE, TXN_PENDING or PENDING) read with the RESPCODE, which must agree."""
    try:
        document = decode_answer(raw)
    except (ValueError, RecursionError):
        return TxnStatusAnswer.no_answer("answer is not JSON", order_id=order_id, mid=mid)
    if not isinstance(document, dict):
        return TxnStatusAnswer.no_answer("answer is not a JSON object", order_id=order_id, mid=mid)
    status = _text(document.get("STATUS"))
    code = _text(document.get("RESPCODE"))
    txn_id = _text(document.get("TXNID"))
    if is_status_request_refusal(code):
        outcome = classify_status_request(status, code, carries_txn=_present(txn_id))
        reason = _reason(STATUS_REQUEST_CATALOGUE, outcome, code, f"STATUS {status!r}")
        if outcome is not STATUS_REQUEST_CATALOGUE.outcome_of(code) and _present(txn_id):
            reason = f"{code} {STATUS_REQUEST_CATALOGUE.meaning_of(code)} yet TXNID {txn_id}: contradictory"
    else:
        outcome = classify_txn(status, code)
        reason = _reason(TXN_CATALOGUE, outcome, code, f"STATUS {status!r}")
    return TxnStatusAnswer(
        outcome,
        reason,
        asked_order_id=order_id,
        asked_mid=mid,
        status=status,
        resp_code=code,
        resp_msg=_text(document.get("RESPMSG")),
        txn_id=txn_id,
        bank_txn_id=_text(document.get("BANKTXNID")),
        order_id=_text(document.get("ORDERID")),
        mid=_text(document.get("MID")),
        txn_amount=_amount(document.get("TXNAMOUNT")),
        payment_mode=_text(document.get("PAYMENTMODE")),
        gateway_name=_text(document.get("GATEWAYNAME")),
        bank_name=_text(document.get("BANKNAME")),
        refund_amount=_amount(document.get("REFUNDAMT")),
        txn_date=_text(document.get("TXNDATE")),
        txn_type=_text(document.get("TXNTYPE")),
    )


# ---- refund and refund status answers -----------------------------------------------------------


@dataclass(frozen=True)
class RefundAnswer:
    """A refund or refund status answer, field by field (amounts as exact Decimals)."""

    outcome: Outcome
    reason: str
    status: str | None = None
    resp_code: str | None = None
    resp_msg: str | None = None
    ref_id: str | None = None  # REFID: Tijori's id of the refund
    refund_id: str | None = None  # REFUNDID: Paytm's
    refund_amount: Decimal | None = None
    total_refund_amount: Decimal | None = None  # TOTALREFUNDAMT (refund status only)
    txn_id: str | None = None
    order_id: str | None = None
    mid: str | None = None
    txn_amount: Decimal | None = None
    refund_date: str | None = None

    @classmethod
    def no_answer(cls, reason: str) -> RefundAnswer:
        return cls(Outcome.AMBIGUOUS, reason)


def _read_refund_document(raw: bytes, *, for_status: bool) -> RefundAnswer:
    try:
        document = decode_answer(raw)
    except (ValueError, RecursionError):
        return RefundAnswer.no_answer("answer is not JSON")
    if not isinstance(document, dict):
        return RefundAnswer.no_answer("answer is not a JSON object")
    status = _text(document.get("STATUS"))
    code = _text(document.get("RESPCODE"))
    refund_id = _text(document.get("REFUNDID"))
    if for_status:
        outcome = classify_refund_status(status, code, carries_refund=_present(refund_id))
        catalogue = REFUND_STATUS_CATALOGUE
    else:
        outcome = classify_refund(status, code)
        catalogue = REFUND_CATALOGUE
    reason = _reason(catalogue, outcome, code, f"STATUS {status!r}")
    if outcome is not catalogue.outcome_of(code) and catalogue.outcome_of(code) is Outcome.NOT_FOUND:
        reason = f"{code} {catalogue.meaning_of(code)} yet REFUNDID {refund_id}: contradictory"
    return RefundAnswer(
        outcome,
        reason,
        status=status,
        resp_code=code,
        resp_msg=_text(document.get("RESPMSG")),
        ref_id=_text(document.get("REFID")),
        refund_id=refund_id,
        refund_amount=_amount(document.get("REFUNDAMOUNT")),
        total_refund_amount=_amount(document.get("TOTALREFUNDAMT")),
        txn_id=_text(document.get("TXNID")),
        order_id=_text(document.get("ORDERID")),
        mid=_text(document.get("MID")),
        txn_amount=_amount(document.get("TXNAMOUNT")),
        refund_date=_text(document.get("REFUNDDATE")),
    )


def read_refund_answer(raw: bytes) -> RefundAnswer:
    """The refund call's answer (seed 002 STEP 5: STATUS, RESPCODE, REFID, REFUNDID, ...)."""
    return _read_refund_document(raw, for_status=False)


def read_refund_status_answer(raw: bytes) -> RefundAnswer:
    """The refund status call's answer: the refund's record under this REFID (631: none)."""
    return _read_refund_document(raw, for_status=True)


def _reason(catalogue: CodeCatalogue, outcome: Outcome, code: str | None, status: str) -> str:
    """Why an answer reads as `outcome`: the code's meaning, or what made it ambiguous. `status`
    names the status field beside the code and its value, for the contradictory case."""
    expected = catalogue.outcome_of(code)
    meaning = catalogue.meaning_of(code)
    if code is None:
        return f"no result code ({status})"
    if meaning is None:
        return f"unknown code {code!r} ({status})"
    if outcome is not expected:
        return f"{code} {meaning} with {status}: contradictory"
    return f"{code} {meaning}"
