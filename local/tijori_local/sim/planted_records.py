"""A test affordance: what Paytm's status APIs show for one order (or refund), planted after the
fact, as if Paytm's record had changed behind the merchant's back (a reversal, a corrected
amount). Only the status answers change; no money moves and the ledger is untouched, so a
reconciliation test can plant exactly one disagreement and expect exactly that one reported.

`POST /_sim/orders/{id}/plant {"api": "wallet" | "pg" | "refund", "status"?, "amount"?}`:
- wallet (checkStatus by merchantOrderId): status SUCCESS, FAILURE, REFUNDED_BACK or PENDING;
- pg (transaction status by ORDERID): status SUCCESS, FAILURE or PENDING;
- refund (refund status by REFID; the id is the REFID): status SUCCESS, FAILURE or PENDING;
`amount` (a decimal string) replaces the record's amount (txnAmount, TXNAMOUNT, REFUNDAMOUNT).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from tijori_local.sim.state import SimState

PLANTED_RECORDS = "planted-records"
"""`state.records` key: "<api>:<id>" -> {"status"?, "amount"?}."""

# status word -> what each API's record shows
_WALLET = {
    "SUCCESS": (1, "SUCCESS"),
    "FAILURE": (2, "FAILURE"),
    "REFUNDED_BACK": (2, "REFUNDED_BACK"),
    "PENDING": (3, "PENDING"),
}
_PG = {"SUCCESS": ("TXN_SUCCESS", "01"), "FAILURE": ("TXN_FAILURE", "227"), "PENDING": (None, "402")}
_REFUND = {"SUCCESS": ("TXN_SUCCESS", "10"), "FAILURE": ("TXN_FAILURE", "602"), "PENDING": (None, "601")}
STATUSES: dict[str, dict[str, Any]] = {"wallet": _WALLET, "pg": _PG, "refund": _REFUND}


def plant(state: SimState, item_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Validate and store one planted record; ValueError names the field."""
    api = str(body.get("api", ""))
    if api not in STATUSES:
        raise ValueError(f"api must be one of {sorted(STATUSES)}")
    planted: dict[str, Any] = {}
    if body.get("status") is not None:
        status = str(body["status"]).upper()
        if status not in STATUSES[api]:
            raise ValueError(f"status for {api} must be one of {sorted(STATUSES[api])}")
        planted["status"] = status
    if body.get("amount") is not None:
        try:
            amount = Decimal(str(body["amount"]))
        except InvalidOperation:
            raise ValueError("amount must be a decimal string") from None
        if not amount.is_finite() or amount <= 0:
            raise ValueError("amount must be a positive decimal")
        planted["amount"] = amount
    if not planted:
        raise ValueError("plant a status, an amount or both")
    with state.lock:
        state.records.setdefault(PLANTED_RECORDS, {})[f"{api}:{item_id}"] = planted
    return {"api": api, "id": item_id, **{key: str(value) for key, value in planted.items()}}


def _planted(state: SimState, api: str, item_id: str | None) -> dict[str, Any] | None:
    found: dict[str, Any] | None = state.records.get(PLANTED_RECORDS, {}).get(f"{api}:{item_id}")
    return found


def wallet_entry(state: SimState, entry: dict[str, Any]) -> dict[str, Any]:
    """A checkStatus txnList entry as planted (the entry itself when nothing is)."""
    planted = _planted(state, "wallet", entry.get("merchantOrderId"))
    if planted is None:
        return entry
    changed = dict(entry)
    if "status" in planted:
        changed["status"], changed["message"] = _WALLET[planted["status"]]
    if "amount" in planted:
        changed["txnAmount"] = planted["amount"]
    return changed


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def planted_pg_status(state: SimState, payload: dict[str, Any], pending_literal: str) -> dict[str, Any]:
    return _planted_payload(
        state, "pg", str(payload.get("ORDERID")), payload, _PG, "TXNAMOUNT", pending_literal
    )


def planted_refund_status(state: SimState, payload: dict[str, Any], pending_literal: str) -> dict[str, Any]:
    return _planted_payload(
        state, "refund", str(payload.get("REFID")), payload, _REFUND, "REFUNDAMOUNT", pending_literal
    )


def _planted_payload(
    state: SimState,
    api: str,
    item_id: str,
    payload: dict[str, Any],
    statuses: dict[str, tuple[str | None, str]],
    amount_field: str,
    pending_literal: str,
) -> dict[str, Any]:
    planted = _planted(state, api, item_id)
    if planted is None:
        return payload
    changed = dict(payload)
    if "status" in planted:
        status, code = statuses[planted["status"]]
        changed["STATUS"], changed["RESPCODE"] = status or pending_literal, code
    if "amount" in planted:
        changed[amount_field] = _money(planted["amount"])
    return changed
