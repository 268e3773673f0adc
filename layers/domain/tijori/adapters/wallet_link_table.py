"""WalletLinksTable in DynamoDB (key `link_id`), on the lifecycle engine's transitions (links have
no due index: nothing about a link is asked on a schedule).

Beside the links, the same table holds two kinds of short-lived items, keyed so that no link id
can collide with them (a link id has no `#`) and removed by the table's TTL (`expires_at_epoch`):
- `#add-money#<sha256 of the one-time URL's secret>`: an add-money form not yet served;
- `#rate#<action>#<sha256 of the phone>#<window start>`: a per-phone counter (PhoneRateLimiter).
The phone is hashed in these keys: a key is never masked in logs or the console.

The customer's token is stored only sealed (`sealed_token`, tijori.adapters.token_vault), and
leaving LINKED removes it and Paytm's OTP `state` in the same conditional write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tijori.adapters.item_fields import history_steps, text_field, time_field
from tijori.lifecycle.announcements import KindEvents, MerchantEvents
from tijori.lifecycle.store import (
    IndexedRepository,
    LifecycleTable,
    UpdateParts,
    epoch,
    history_entry,
    update_if,
)
from tijori.payments.models import Step
from tijori.wallet_links.lifecycle import WALLET_LINK_EVENT_TYPES, WALLET_LINK_LIFECYCLE, WalletLinkStatus
from tijori.wallet_links.models import AddMoneyTicket, WalletLink
from tijori.wallet_links.ports import RateDecision
from tijori.wallet_links.rate_window import room_left, seconds_until_allowed

__all__ = [
    "WALLET_LINK_EVENTS",
    "DynamoDbPhoneRateLimiter",
    "DynamoDbWalletLinkRepository",
    "item_to_link",
    "link_to_item",
]

_TICKET_PREFIX = "#add-money#"
_RATE_PREFIX = "#rate#"
# A form's item outlives its order by a day, so a late replay finds it used rather than unknown.
_TICKET_RETENTION = timedelta(days=1)


def link_to_item(link: WalletLink) -> dict[str, Any]:
    item: dict[str, Any] = {
        "link_id": link.link_id,
        "phone": link.phone,
        "request_fingerprint": link.request_fingerprint,
        "status": link.status.value,
        "wrong_otps": 0,
        "created_at": link.created_at.isoformat(),
        "updated_at": link.updated_at.isoformat(),
        "history": [history_entry(None, link.status, link.created_at, link.history[0].reason)],
    }
    if link.email is not None:
        item["email"] = link.email
    return item


def item_to_link(item: Mapping[str, Any]) -> WalletLink:
    return WalletLink(
        link_id=str(item["link_id"]),
        phone=str(item["phone"]),
        email=text_field(item, "email"),
        request_fingerprint=str(item["request_fingerprint"]),
        status=WalletLinkStatus(item["status"]),
        paytm_state=text_field(item, "paytm_state"),
        sealed_token=text_field(item, "sealed_token"),
        token_expires_at=time_field(item, "token_expires_at"),
        paytm_customer_id=text_field(item, "paytm_customer_id"),
        wrong_otps=int(item.get("wrong_otps", 0)),
        paytm_code=text_field(item, "paytm_code"),
        reason=text_field(item, "reason"),
        created_at=datetime.fromisoformat(str(item["created_at"])),
        updated_at=datetime.fromisoformat(str(item["updated_at"])),
        history=history_steps(item, Step),
    )


WALLET_LINK_EVENTS = KindEvents(
    "wallet_link", WALLET_LINK_EVENT_TYPES, lambda item: item_to_link(item).public_view()
)


class DynamoDbWalletLinkRepository(IndexedRepository):
    """Links are never asked about on a schedule; the due index holds only a final link whose event
    is not out yet (the sweep publishes it: tijori.wallet_links.announcements)."""

    def __init__(self, table: Any, events: MerchantEvents | None = None) -> None:
        self.table = table
        self.store: LifecycleTable[WalletLinkStatus] = LifecycleTable(
            table,
            key="link_id",
            lifecycle=WALLET_LINK_LIFECYCLE,
            indexed=frozenset(),
            pending=None,
            events=WALLET_LINK_EVENTS,
            outlet=events,
        )

    def create(self, link: WalletLink) -> None:
        self.store.put_new(link_to_item(link), first_check_at=None)

    def get(self, link_id: str) -> WalletLink | None:
        item = self.store.get_item(link_id)
        return None if item is None else item_to_link(item)

    def record_otp_sent(self, link_id: str, *, state: str, at: datetime) -> None:
        update_if(
            self.table,
            Key={"link_id": link_id},
            UpdateExpression="SET paytm_state = :state, updated_at = :at, otp_sent_at = :at",
            ConditionExpression="#status = :otp_sent AND attribute_not_exists(paytm_state)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":state": state,
                ":at": at.isoformat(),
                ":otp_sent": WalletLinkStatus.OTP_SENT.value,
            },
        )

    def record_wrong_otp(
        self, link_id: str, *, at: datetime, code: str | None, fail_at: int
    ) -> WalletLink | None:
        counted = update_if(
            self.table,
            Key={"link_id": link_id},
            UpdateExpression="SET wrong_otps = wrong_otps + :one, updated_at = :at, paytm_code = :code",
            ConditionExpression="#status = :otp_sent",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":one": 1,
                ":at": at.isoformat(),
                ":code": code or "",
                ":otp_sent": WalletLinkStatus.OTP_SENT.value,
            },
            ReturnValues="ALL_NEW",
        )
        if counted is None:
            return None
        link = item_to_link(counted["Attributes"])
        if link.wrong_otps >= fail_at:
            parts = UpdateParts()
            parts.set("reason", f"{link.wrong_otps} wrong OTPs: a new link is needed")
            parts.removes.append("paytm_state")
            parts.condition = "wrong_otps >= :fail_at"
            parts.values[":fail_at"] = fail_at
            item = update_if(
                self.table,
                **self.store.transition_update(
                    link_id,
                    expected=WalletLinkStatus.OTP_SENT,
                    target=WalletLinkStatus.FAILED,
                    at=at,
                    reason=f"{link.wrong_otps} wrong OTPs: a new link is needed",
                    next_check_at=None,
                    extra=parts,
                ),
                ReturnValues="ALL_NEW",
            )
            if item is None:
                return link
            self.store.announce_committed(link_id, dict(item["Attributes"]))
            return item_to_link(item["Attributes"])
        return link

    def transition(
        self,
        link_id: str,
        *,
        expected: WalletLinkStatus,
        target: WalletLinkStatus,
        at: datetime,
        reason: str,
        code: str | None = None,
        sealed_token: str | None = None,
        token_expires_at: datetime | None = None,
        customer_id: str | None = None,
    ) -> None:
        parts = UpdateParts()
        parts.set("reason", reason)
        if code:
            parts.set("paytm_code", code)
        if target is WalletLinkStatus.LINKED:
            if sealed_token is None:
                raise ValueError("a link becomes LINKED only with its sealed token")
            parts.set("sealed_token", sealed_token)
            parts.removes.append("paytm_state")
            if token_expires_at is not None:
                parts.set("token_expires_at", token_expires_at.isoformat())
            if customer_id:
                parts.set("paytm_customer_id", customer_id)
        else:
            # Every other target ends what the link could do: the token and the OTP state go.
            parts.removes += ["sealed_token", "paytm_state"]
        self.store.transition(
            link_id, expected=expected, target=target, at=at, reason=reason, next_check_at=None, extra=parts
        )

    # ---- one-time add-money forms -------------------------------------------------------------
    def create_ticket(self, ticket_key: str, ticket: AddMoneyTicket) -> None:
        self.table.put_item(
            Item={
                "link_id": _TICKET_PREFIX + ticket_key,
                "order_id": ticket.order_id,
                "owner_link_id": ticket.link_id,
                "amount": f"{ticket.amount:.2f}",
                "expires_at": ticket.expires_at.isoformat(),
                "callback_url": ticket.callback_url,
                "paytm_pg_base_url": ticket.paytm_pg_base_url,
                "expires_at_epoch": epoch(ticket.expires_at + _TICKET_RETENTION),
                "used": False,
            },
            ConditionExpression="attribute_not_exists(link_id)",
        )

    def take_ticket(self, ticket_key: str, *, now: datetime) -> AddMoneyTicket | None:
        taken = update_if(
            self.table,
            Key={"link_id": _TICKET_PREFIX + ticket_key},
            UpdateExpression="SET used = :true, used_at = :now",
            ConditionExpression="attribute_exists(link_id) AND used = :false AND expires_at > :now",
            ExpressionAttributeValues={":true": True, ":false": False, ":now": now.isoformat()},
            ReturnValues="ALL_NEW",
        )
        if taken is None:
            return None
        item = taken["Attributes"]
        return AddMoneyTicket(
            order_id=str(item["order_id"]),
            link_id=str(item["owner_link_id"]),
            amount=Decimal(str(item["amount"])),
            expires_at=datetime.fromisoformat(str(item["expires_at"])),
            callback_url=str(item["callback_url"]),
            paytm_pg_base_url=str(item["paytm_pg_base_url"]),
        )


class DynamoDbPhoneRateLimiter:
    """A rolling window per phone and action over two fixed-window counters (the current and the
    previous window, see tijori.wallet_links.rate_window): one read of the previous counter and
    one conditional ADD per request, refused once the weighted count reached the limit."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def _key(self, action: str, phone_hash: str, window_start: int) -> dict[str, str]:
        return {"link_id": f"{_RATE_PREFIX}{action}#{phone_hash}#{window_start}"}

    def _hits(self, key: Mapping[str, str]) -> int:
        item = self.table.get_item(Key=dict(key), ConsistentRead=True).get("Item") or {}
        return int(item.get("hits", 0))

    def take(
        self, phone: str, action: str, *, limit: int, window_seconds: int, now: datetime
    ) -> RateDecision:
        now_epoch = epoch(now)
        window_start = now_epoch - now_epoch % window_seconds
        elapsed = now_epoch - window_start
        phone_hash = hashlib.sha256(phone.encode("utf-8")).hexdigest()
        previous_hits = self._hits(self._key(action, phone_hash, window_start - window_seconds))
        room = room_left(previous_hits, elapsed, limit, window_seconds)
        current_key = self._key(action, phone_hash, window_start)
        taken = room > 0 and update_if(
            self.table,
            Key=current_key,
            UpdateExpression="ADD hits :one SET expires_at_epoch = :expires",
            ConditionExpression="attribute_not_exists(hits) OR hits < :room",
            ExpressionAttributeValues={
                ":one": 1,
                ":room": room,
                ":expires": window_start + 2 * window_seconds,
            },
        )
        if not taken:
            wait = seconds_until_allowed(
                previous_hits, self._hits(current_key), elapsed, limit, window_seconds
            )
            return RateDecision(False, wait)
        return RateDecision(True)
