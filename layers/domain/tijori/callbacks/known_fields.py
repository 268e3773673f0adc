"""What each kind of Paytm callback is documented to carry, and which fields say what.

Paytm's params checksum signs the VALUES in key order, not the field names, so a field renamed to
a name that sorts in the same place keeps a valid signature. A verified callback therefore proves
who sent the values, not what they mean: Tijori reads exactly the documented name of each field it
uses (no aliases), keeps everything else as received, and logs the names it does not know.

Sources:
- PG form callback: seed 002 "Response Sent by Paytm" plus the two extra fields of its
  "Transaction Status API" response (TXNTYPE, REFUNDAMT); seed 004 documents `udf1`..`udf3` and
  `mercUnqRef` as coming back "in the callback and transaction status API response".
- Payouts (wallet validation) JSON callback: seed 001's response attributes (`status`,
  `statusCode`, `statusMessage`). The seed does not list the `result` object; its fields here
  are the ones the simulator sends (decision documented in local/tijori_local/sim/README.md):
  `mid`, `orderId`, `paytmOrderId`, `beneficiaryPhoneNo`, `amount`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class CallbackKind(StrEnum):
    PG = "pg"
    PAYOUTS = "payouts"


@dataclass(frozen=True)
class CallbackFields:
    """One kind's documented fields (nested ones as dotted paths) and the ones Tijori reads."""

    known: frozenset[str]
    order_id: str
    status: str
    paytm_id: str


CALLBACK_FIELDS: Mapping[CallbackKind, CallbackFields] = {
    CallbackKind.PG: CallbackFields(
        known=frozenset(
            {
                # seed 002, "Response Sent by Paytm"
                "MID",
                "TXNID",
                "ORDERID",
                "BANKTXNID",
                "TXNAMOUNT",
                "CURRENCY",
                "STATUS",
                "RESPCODE",
                "RESPMSG",
                "TXNDATE",
                "GATEWAYNAME",
                "BANKNAME",
                "PAYMENTMODE",
                # seed 002, "Transaction Status API" response
                "TXNTYPE",
                "REFUNDAMT",
                # seed 004, user-defined parameters returned in the callback
                "udf1",
                "udf2",
                "udf3",
                "mercUnqRef",
            }
        ),
        order_id="ORDERID",
        status="STATUS",
        paytm_id="TXNID",
    ),
    CallbackKind.PAYOUTS: CallbackFields(
        known=frozenset(
            {
                "status",
                "statusCode",
                "statusMessage",
                "result",
                "result.mid",
                "result.orderId",
                "result.paytmOrderId",
                "result.beneficiaryPhoneNo",
                "result.amount",
            }
        ),
        order_id="result.orderId",
        status="status",
        paytm_id="result.paytmOrderId",
    ),
}


def field_value(fields: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`result.orderId`), or None if any step is missing."""
    value: Any = fields
    for name in path.split("."):
        if not isinstance(value, Mapping) or name not in value:
            return None
        value = value[name]
    return value


def unknown_field_names(kind: CallbackKind, fields: Mapping[str, Any]) -> list[str]:
    """Names (dotted paths) of the fields the kind's documents do not list, sorted.

    An unknown object is reported by its own name only; a known object is looked into."""
    known = CALLBACK_FIELDS[kind].known
    unknown: list[str] = []

    def walk(scope: Mapping[str, Any], prefix: str) -> None:
        for name, value in scope.items():
            path = f"{prefix}{name}"
            if path not in known:
                unknown.append(path)
            elif isinstance(value, Mapping):
                walk(value, f"{path}.")

    walk(fields, "")
    return sorted(unknown)
