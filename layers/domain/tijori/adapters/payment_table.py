"""PaymentsTable and RefundsTable in DynamoDB, on the lifecycle engine's table mechanics.

PaymentsTable (key `order_id`): the payment's fields, money as exact decimal strings or numbers
(`refund_reserved` and `refunded_amount` are DynamoDB numbers so that refunds can add to them in
a condition), history, the due index (CREATED payments are due when their token has expired;
PENDING ones are filed by their pending clock).

RefundsTable (key `refund_id`, which is Paytm's REFID: unique across the merchant). A refund is
created in one transaction with the reservation of its amount on the payment, conditional on the
payment being PAID and `refund_reserved + amount <= paid_amount`: concurrent refunds can never
over-refund, whatever their order. A refund that ends FAILED gives its amount back in the same
transaction as its transition; one that ends SUCCESS adds it to `refunded_amount`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from tijori.adapters.item_fields import history_steps, money_field, text_field, time_field
from tijori.lifecycle.announcements import KindEvents, MerchantEvents
from tijori.lifecycle.store import (
    IndexedRepository,
    LifecycleTable,
    StaleTransitionError,
    UpdateParts,
    cancellation_codes,
    epoch,
    history_entry,
    is_conditional_failure,
    lease_seconds,
    sweep_bucket,
    transact_item,
    update_if,
)
from tijori.payments.lifecycle import (
    PAYMENT_EVENT_TYPES,
    PAYMENT_LIFECYCLE,
    PAYMENT_OPEN_STATUSES,
    REFUND_EVENT_TYPES,
    REFUND_LIFECYCLE,
    REFUND_OPEN_STATUSES,
    PaymentStatus,
    RefundStatus,
)
from tijori.payments.models import Customer, Payment, Refund, Step
from tijori.payments.ports import PaytmFacts, RefundExistsError, RefundRefusedError

# A claimed refund is looked at again this long after the claim, if its attempt dies.
_ATTEMPT_GRACE = timedelta(minutes=15)

_FACT_ATTRIBUTES = (
    ("code", "last_status_code"),
    ("message", "last_status_message"),
    ("paytm_txn_id", "paytm_txn_id"),
    ("bank_txn_id", "bank_txn_id"),
    ("payment_mode", "payment_mode"),
    ("paytm_refund_id", "paytm_refund_id"),
)


def _facts(facts: PaytmFacts | None, parts: UpdateParts) -> UpdateParts:
    if facts is None:
        return parts
    for name, attribute in _FACT_ATTRIBUTES:
        value = getattr(facts, name)
        if value:
            parts.set(attribute, str(value))
    if facts.paid_amount is not None:
        # What refunds may still take, as a number a conditional write can subtract from.
        parts.set("paid_amount", f"{facts.paid_amount:.2f}")
        if facts.refundable:
            parts.set("refundable_left", facts.paid_amount)
    return parts


def payment_to_item(payment: Payment) -> dict[str, Any]:
    item: dict[str, Any] = {
        "order_id": payment.order_id,
        "status": payment.status.value,
        "amount": f"{payment.amount:.2f}",
        "currency": payment.currency,
        "customer": payment.customer.model_dump(exclude_none=True),
        "metadata": dict(payment.metadata),
        "request_fingerprint": payment.request_fingerprint,
        "refunded_amount": Decimal("0"),
        "status_checks": payment.status_checks,
        "created_at": payment.created_at.isoformat(),
        "updated_at": payment.updated_at.isoformat(),
        "history": [history_entry(None, payment.status, payment.created_at, payment.history[0].reason)],
    }
    if payment.return_url is not None:
        item["return_url"] = payment.return_url
    if payment.method != "checkout":
        item["method"] = payment.method
        item["attempts"] = payment.attempts
    if payment.link_id is not None:
        item["link_id"] = payment.link_id
    return item


def _stored_customer(stored: Mapping[str, Any]) -> Customer:
    values = {name: str(stored[name]) for name in ("customer_id", "phone", "email") if stored.get(name)}
    return Customer.model_construct(_fields_set=set(values), **values)


def item_to_payment(item: Mapping[str, Any]) -> Payment:
    customer = item["customer"]
    return Payment(
        order_id=str(item["order_id"]),
        amount=Decimal(str(item["amount"])),
        currency=str(item["currency"]),
        # Validated at intake; read back as stored (a rule tightened later never hides a payment).
        customer=_stored_customer(customer),
        return_url=text_field(item, "return_url"),
        metadata={str(k): str(v) for k, v in item.get("metadata", {}).items()},
        request_fingerprint=str(item["request_fingerprint"]),
        status=PaymentStatus(item["status"]),
        method=str(item.get("method", "checkout")),
        link_id=text_field(item, "link_id"),
        attempts=int(item.get("attempts", 0)),
        lease_until=None if item.get("lease_until") is None else float(item["lease_until"]),
        first_sent_at=time_field(item, "first_sent_at"),
        txn_token=text_field(item, "txn_token"),
        token_expires_at=time_field(item, "token_expires_at"),
        paytm_txn_id=text_field(item, "paytm_txn_id"),
        bank_txn_id=text_field(item, "bank_txn_id"),
        payment_mode=text_field(item, "payment_mode"),
        paid_amount=money_field(item, "paid_amount"),
        refunded_amount=money_field(item, "refunded_amount") or Decimal("0.00"),
        refundable_left=money_field(item, "refundable_left"),
        last_status_code=text_field(item, "last_status_code"),
        last_status_message=text_field(item, "last_status_message"),
        status_checks=int(item.get("status_checks", 0)),
        pending_since=time_field(item, "pending_since"),
        created_at=datetime.fromisoformat(str(item["created_at"])),
        updated_at=datetime.fromisoformat(str(item["updated_at"])),
        history=history_steps(item, Step),
    )


def refund_to_item(refund: Refund) -> dict[str, Any]:
    item: dict[str, Any] = {
        "refund_id": refund.refund_id,
        "order_id": refund.order_id,
        "status": refund.status.value,
        "amount": f"{refund.amount:.2f}",
        "request_fingerprint": refund.request_fingerprint,
        "attempts": 0,
        "status_checks": 0,
        "created_at": refund.created_at.isoformat(),
        "updated_at": refund.updated_at.isoformat(),
        "history": [history_entry(None, refund.status, refund.created_at, refund.history[0].reason)],
    }
    if refund.reason is not None:
        item["reason"] = refund.reason
    return item


def item_to_refund(item: Mapping[str, Any]) -> Refund:
    lease = item.get("lease_until")
    return Refund(
        refund_id=str(item["refund_id"]),
        order_id=str(item["order_id"]),
        amount=Decimal(str(item["amount"])),
        reason=text_field(item, "reason"),
        request_fingerprint=str(item["request_fingerprint"]),
        status=RefundStatus(item["status"]),
        paytm_refund_id=text_field(item, "paytm_refund_id"),
        last_status_code=text_field(item, "last_status_code"),
        last_status_message=text_field(item, "last_status_message"),
        attempts=int(item.get("attempts", 0)),
        status_checks=int(item.get("status_checks", 0)),
        lease_until=None if lease is None else float(lease),
        pending_since=time_field(item, "pending_since"),
        first_sent_at=time_field(item, "first_sent_at"),
        created_at=datetime.fromisoformat(str(item["created_at"])),
        updated_at=datetime.fromisoformat(str(item["updated_at"])),
        history=history_steps(item, Step),
    )


# A final payment's or refund's event carries it as its GET shows it. Only a CREATED payment's
# view carries the checkout (with the MID); a final one's never does, so no MID is needed here.
PAYMENT_EVENTS = KindEvents(
    "payment", PAYMENT_EVENT_TYPES, lambda item: item_to_payment(item).public_view(mid="")
)
REFUND_EVENTS = KindEvents("refund", REFUND_EVENT_TYPES, lambda item: item_to_refund(item).public_view())


class DynamoDbPaymentRepository(IndexedRepository):
    def __init__(self, table: Any, events: MerchantEvents | None = None) -> None:
        self.table = table
        self.store: LifecycleTable[PaymentStatus] = LifecycleTable(
            table,
            key="order_id",
            lifecycle=PAYMENT_LIFECYCLE,
            indexed=PAYMENT_OPEN_STATUSES,
            pending=PaymentStatus.PENDING,
            records_pending_since=True,
            events=PAYMENT_EVENTS,
            outlet=events,
        )

    def create(self, payment: Payment, *, first_check_at: datetime) -> None:
        self.store.put_new(payment_to_item(payment), first_check_at=first_check_at)

    def get(self, order_id: str) -> Payment | None:
        item = self.store.get_item(order_id)
        return None if item is None else item_to_payment(item)

    def record_token(self, order_id: str, *, txn_token: str, expires_at: datetime, at: datetime) -> None:
        """Keep the txnToken of a CREATED payment (a repeat of initiate answers the same one)."""
        update_if(
            self.table,
            Key={"order_id": order_id},
            UpdateExpression="SET txn_token = :token, token_expires_at = :expires, updated_at = :at",
            ConditionExpression="#status = :created",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":token": txn_token,
                ":expires": expires_at.isoformat(),
                ":at": at.isoformat(),
                ":created": PaymentStatus.CREATED.value,
            },
        )

    def transition(
        self,
        order_id: str,
        *,
        expected: PaymentStatus,
        target: PaymentStatus,
        at: datetime,
        reason: str,
        next_check_at: datetime | None,
        facts: PaytmFacts | None = None,
        pending_since: datetime | None = None,
        release_attempt: bool = False,
        unless_leased_at: float | None = None,
    ) -> None:
        """`release_attempt`: the writer holds the attempt's lease and ends it in the same write;
        `unless_leased_at`: refuse (StaleTransitionError) while another attempt's lease runs."""
        parts = _facts(facts, UpdateParts())
        if release_attempt:
            parts.removes.append("lease_until")
        if unless_leased_at is not None:
            parts.condition = "attribute_not_exists(lease_until) OR lease_until < :wall_now"
            parts.values[":wall_now"] = lease_seconds(unless_leased_at)
        self.store.transition(
            order_id,
            expected=expected,
            target=target,
            at=at,
            reason=reason,
            next_check_at=next_check_at,
            pending_since=pending_since,
            extra=parts,
        )

    def record_check(
        self,
        order_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        facts: PaytmFacts | None,
        release_attempt: bool = False,
    ) -> None:
        parts = _facts(facts, UpdateParts())
        self.store.record_check(
            order_id, at=at, next_check_at=next_check_at, extra=parts, release_attempt=release_attempt
        )

    # ---- charges: the attempt lease (Tijori sends them itself, from the queue) ----------------
    def claim(self, order_id: str, *, at: datetime, lease_until: float) -> Payment | None:
        """ACCEPTED -> PROCESSING with a lease, the first attempt counted; None if not ACCEPTED."""
        item = self.store.claim_attempt(
            order_id,
            expected=PaymentStatus.ACCEPTED,
            target=PaymentStatus.PROCESSING,
            at=at,
            lease_until=lease_until,
            next_check_at=at + _ATTEMPT_GRACE,
            reason="claimed by the payout function",
        )
        return None if item is None else item_to_payment(item)

    def take_over(self, order_id: str, *, wall_now: float, lease_until: float) -> Payment | None:
        item = self.store.take_over_attempt(
            order_id, status=PaymentStatus.PROCESSING, wall_now=wall_now, lease_until=lease_until
        )
        return None if item is None else item_to_payment(item)

    def release_attempt(self, order_id: str) -> None:
        self.store.release_attempt(order_id)


class DynamoDbRefundRepository(IndexedRepository):
    def __init__(self, table: Any, payments_table: Any, events: MerchantEvents | None = None) -> None:
        self.table = table
        self.payments_table = payments_table
        self._client = table.meta.client
        self.store: LifecycleTable[RefundStatus] = LifecycleTable(
            table,
            key="refund_id",
            lifecycle=REFUND_LIFECYCLE,
            indexed=REFUND_OPEN_STATUSES,
            pending=RefundStatus.PENDING,
            records_pending_since=True,
            events=REFUND_EVENTS,
            outlet=events,
        )

    def create_reserving(self, refund: Refund, *, first_check_at: datetime) -> None:
        item = refund_to_item(refund)
        item["sweep_bucket"], item["next_check_at"] = sweep_bucket(refund.refund_id), epoch(first_check_at)
        put = transact_item(
            self.table, "Put", {"Item": item, "ConditionExpression": "attribute_not_exists(refund_id)"}
        )
        reserve = transact_item(
            self.payments_table,
            "Update",
            {
                "Key": {"order_id": refund.order_id},
                "UpdateExpression": "SET refundable_left = refundable_left - :amount",
                "ConditionExpression": "#status = :paid AND refundable_left >= :amount",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":amount": refund.amount, ":paid": PaymentStatus.PAID.value},
            },
        )
        try:
            self._client.transact_write_items(TransactItems=[put, reserve])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            codes = cancellation_codes(error)
            if codes and codes[0] == "ConditionalCheckFailed":
                raise RefundExistsError(refund.refund_id) from None
            raise RefundRefusedError(refund.order_id) from None

    def get(self, refund_id: str) -> Refund | None:
        item = self.store.get_item(refund_id)
        return None if item is None else item_to_refund(item)

    def claim(self, refund_id: str, *, at: datetime, lease_until: float) -> Refund | None:
        item = self.store.claim_attempt(
            refund_id,
            expected=RefundStatus.ACCEPTED,
            target=RefundStatus.PROCESSING,
            at=at,
            lease_until=lease_until,
            next_check_at=at + _ATTEMPT_GRACE,
            reason="claimed by the payout function",
        )
        return None if item is None else item_to_refund(item)

    def take_over(
        self, refund_id: str, *, wall_now: float, lease_until: float, at: datetime
    ) -> Refund | None:
        item = self.store.take_over_attempt(
            refund_id, status=RefundStatus.PROCESSING, wall_now=wall_now, lease_until=lease_until
        )
        return None if item is None else item_to_refund(item)

    def settle(
        self,
        refund: Refund,
        *,
        expected: RefundStatus,
        target: RefundStatus,
        at: datetime,
        reason: str,
        next_check_at: datetime | None,
        facts: PaytmFacts | None,
        pending_since: datetime | None = None,
        unless_leased_at: float | None = None,
    ) -> None:
        parts = _facts(facts, UpdateParts())
        parts.removes.append("lease_until")
        if unless_leased_at is not None:
            parts.condition = "attribute_not_exists(lease_until) OR lease_until < :wall_now"
            parts.values[":wall_now"] = lease_seconds(unless_leased_at)
        update = self.store.transition_update(
            refund.refund_id,
            expected=expected,
            target=target,
            at=at,
            reason=reason,
            next_check_at=next_check_at,
            pending_since=pending_since,
            extra=parts,
        )
        payment_change = {
            RefundStatus.SUCCESS: "SET refunded_amount = refunded_amount + :amount, updated_at = :at",
            RefundStatus.FAILED: "SET refundable_left = refundable_left + :amount, updated_at = :at",
        }.get(target)
        if payment_change is None:
            try:
                self.table.update_item(**update)
            except ClientError as error:
                if is_conditional_failure(error):
                    raise StaleTransitionError(f"{refund.refund_id} is not {expected}") from None
                raise
            return
        payment = transact_item(
            self.payments_table,
            "Update",
            {
                "Key": {"order_id": refund.order_id},
                "UpdateExpression": payment_change,
                "ExpressionAttributeValues": {":amount": refund.amount, ":at": at.isoformat()},
            },
        )
        try:
            refund_update = transact_item(self.table, "Update", update)
            self._client.transact_write_items(TransactItems=[refund_update, payment])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise StaleTransitionError(f"{refund.refund_id} is not {expected}") from None
            raise
        # Both final statuses go through the transaction: announced once it is committed.
        self.store.announce_committed(refund.refund_id)

    def record_check(
        self,
        refund_id: str,
        *,
        at: datetime,
        next_check_at: datetime,
        facts: PaytmFacts | None,
        release_attempt: bool = False,
    ) -> None:
        parts = _facts(facts, UpdateParts())
        self.store.record_check(
            refund_id, at=at, next_check_at=next_check_at, extra=parts, release_attempt=release_attempt
        )

    def release_attempt(self, refund_id: str) -> None:
        self.store.release_attempt(refund_id)
