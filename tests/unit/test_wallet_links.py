"""Auto-debit's pure parts (issue 13): the wallet link table, the request models and views, what a
status answer does to a charge Tijori sent, the add-money page, and the charge settler's decisions
with fake ports (how many times it called directPay, and with what)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from tijori.lifecycle.outcomes import Outcome
from tijori.lifecycle.scheduled import CallBudget
from tijori.lifecycle.states import IllegalTransitionError
from tijori.lifecycle.store import StaleTransitionError
from tijori.payments.charges import ChargeConfigurationError, ChargeSettler, ChargeWallet
from tijori.payments.lifecycle import PaymentStatus
from tijori.payments.models import Customer, Payment, Step
from tijori.payments.ports import TxnStatusAnswer
from tijori.payments.rules import decide_payment
from tijori.wallet_links.add_money import add_money_page
from tijori.wallet_links.lifecycle import WALLET_LINK_LIFECYCLE, WalletLinkStatus
from tijori.wallet_links.models import WalletLink, WalletLinkRequest
from tijori.wallet_links.ports import AddMoneyForm, Withdrawal

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
MID = "TIJORITEST000000001"
W = WalletLinkStatus


# ---- the link table ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (W.OTP_SENT, W.LINKED, True),
        (W.OTP_SENT, W.FAILED, True),
        (W.OTP_SENT, W.REVOKED, True),
        (W.LINKED, W.EXPIRED, True),
        (W.LINKED, W.REVOKED, True),
        (W.EXPIRED, W.REVOKED, False),  # EXPIRED is final: a new link is needed
        (W.LINKED, W.OTP_SENT, False),
        (W.EXPIRED, W.LINKED, False),
        (W.REVOKED, W.LINKED, False),
        (W.FAILED, W.OTP_SENT, False),
        (W.FAILED, W.LINKED, False),
    ],
)
def test_a_link_moves_only_as_its_table_allows(current: W, target: W, allowed: bool) -> None:
    if allowed:
        WALLET_LINK_LIFECYCLE.check(current, target)
    else:
        with pytest.raises(IllegalTransitionError):
            WALLET_LINK_LIFECYCLE.check(current, target)
    assert WALLET_LINK_LIFECYCLE.finals == {W.EXPIRED, W.REVOKED, W.FAILED}


# ---- requests and views -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"link_id": "cust_42@shop!$", "phone": "9876543210"}, None),
        ({"link_id": "A" * 32, "phone": "6000000000", "email": "a@b.in"}, None),
        ({"link_id": "A" * 33, "phone": "9876543210"}, "link_id"),  # directPay's CustId: 32 characters
        (
            {"link_id": "with-dash", "phone": "9876543210"},
            "link_id",
        ),  # not among seed 002's CUST_ID characters
        ({"link_id": "L1", "phone": "5876543210"}, "phone"),
        ({"link_id": "L1", "phone": "9876543210", "email": "nope"}, "email"),
        ({"link_id": "L1", "phone": "9876543210", "state": "x"}, "state"),
    ],
)
def test_a_link_request_is_refused_naming_the_field(body: dict[str, Any], field: str | None) -> None:
    if field is None:
        WalletLinkRequest.model_validate(body)
        return
    with pytest.raises(ValidationError) as refused:
        WalletLinkRequest.model_validate(body)
    assert refused.value.errors()[0]["loc"][0] == field


def _link(**changes: Any) -> WalletLink:
    values: dict[str, Any] = {
        "link_id": "L1",
        "phone": "9876543210",
        "email": "asha@example.com",
        "request_fingerprint": "f",
        "status": W.LINKED,
        "paytm_state": "65cb6680-29f6-11e4-aad2-3c970ea8b87f",
        "sealed_token": "kms1.secret",
        "token_expires_at": NOW + timedelta(days=30),
        "created_at": NOW,
        "updated_at": NOW,
        **changes,
    }
    return WalletLink(**values)


def test_a_links_view_masks_the_customer_and_shows_neither_paytms_state_nor_the_sealed_token() -> None:
    view = _link().public_view()
    text = str(view)
    assert view["phone"] == "********10"
    assert view["email"] == "a***@example.com"
    assert "65cb6680" not in text
    assert "kms1" not in text
    assert "token_expires_at" in view


# ---- what a status answer does to a charge Tijori sent (PROCESSING) -----------------------------
def _charge(status: PaymentStatus = PaymentStatus.PROCESSING, amount: str = "120.00") -> Payment:
    return Payment(
        order_id="C1",
        amount=Decimal(amount),
        currency="INR",
        customer=Customer(customer_id="L1", phone="9876543210"),
        request_fingerprint="f",
        status=status,
        method="linked_wallet",
        link_id="L1",
        created_at=NOW,
        updated_at=NOW,
        history=(Step(from_status=None, to_status="ACCEPTED", at=NOW, reason="charge accepted"),),
    )


def _status(
    outcome: Outcome, amount: str | None = "120.00", code: str | None = "01", **extra: Any
) -> TxnStatusAnswer:
    values: dict[str, Any] = {
        "outcome": outcome,
        "status": {Outcome.SUCCESS: "TXN_SUCCESS", Outcome.FINAL_FAILURE: "TXN_FAILURE"}.get(
            outcome, "PENDING"
        ),
        "code": code,
        "message": "m",
        "order_id": "C1",
        "mid": MID,
        "amount": None if amount is None else Decimal(amount),
        "txn_id": "T1",
        **extra,
    }
    return TxnStatusAnswer(**values)


@pytest.mark.parametrize(
    ("answer", "target"),
    [
        (_status(Outcome.SUCCESS), "PAID"),
        (_status(Outcome.SUCCESS, amount="12.00"), "NEEDS_REVIEW"),
        (_status(Outcome.SUCCESS, order_id="C2"), "NEEDS_REVIEW"),
        (_status(Outcome.SUCCESS, mid="OTHER"), "NEEDS_REVIEW"),
        (_status(Outcome.FINAL_FAILURE, code="235"), "FAILED"),
        (_status(Outcome.FINAL_FAILURE, code="141"), "FAILED"),  # never EXPIRED: Tijori sent it
        (_status(Outcome.PENDING, code="402"), "PENDING"),
        (_status(Outcome.NOT_FOUND, amount=None, code="334"), None),  # the settler resends
        (_status(Outcome.AMBIGUOUS, amount=None, code=None), None),
    ],
)
def test_a_status_answer_decides_a_charge_tijori_sent(answer: TxnStatusAnswer, target: str | None) -> None:
    decision = decide_payment(_charge(), answer, mid=MID, now=NOW)
    assert (decision.target if decision else None) == target


# ---- the add-money page ----------------------------------------------------------------------
def test_the_add_money_page_escapes_every_value_runs_only_its_own_script_and_is_never_cached() -> None:
    form = AddMoneyForm(
        action="https://securegw.paytm.in/theia/processTransaction",
        fields={"ORDER_ID": 'A"><script>alert(1)</script>', "SSO_TOKEN": "tok"},
    )
    page, headers = add_money_page(form)
    assert "<script>alert(1)</script>" not in page
    assert "&quot;&gt;&lt;script&gt;" in page
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    script = re.search(r"<script>(.*?)</script>", page)
    assert script is not None
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in headers["Content-Security-Policy"]
    assert "form-action https://securegw.paytm.in" in headers["Content-Security-Policy"]
    assert "tok" not in repr(form)


# ---- the charge settler, with fake ports ---------------------------------------------------------
@dataclass
class FakePayments:
    charge: Payment
    transitions: list[tuple[str, str]] = field(default_factory=list)
    checks: int = 0
    leased: bool = False

    def claim(self, order_id: str, *, at: datetime, lease_until: float) -> Payment | None:
        if self.charge.status is not PaymentStatus.ACCEPTED:
            return None
        self.charge = self.charge.model_copy(update={"status": PaymentStatus.PROCESSING})
        self.leased = True
        return self.charge

    def take_over(self, order_id: str, *, wall_now: float, lease_until: float) -> Payment | None:
        if self.charge.status is not PaymentStatus.PROCESSING or self.leased:
            return None
        self.leased = True
        return self.charge

    def get(self, order_id: str) -> Payment | None:
        return self.charge

    def transition(self, order_id: str, *, expected: PaymentStatus, target: PaymentStatus, **_: Any) -> None:
        if self.charge.status is not expected:
            raise StaleTransitionError(order_id)
        self.transitions.append((expected.value, target.value))
        self.charge = self.charge.model_copy(update={"status": target})
        self.leased = False

    def record_check(self, order_id: str, **_: Any) -> None:
        self.checks += 1
        self.leased = False

    def release_attempt(self, order_id: str) -> None:
        self.leased = False

    def postpone_check(self, order_id: str, *, until: datetime) -> None: ...


@dataclass
class FakePg:
    answers: list[TxnStatusAnswer]
    mid: str = MID
    asked: list[str | None] = field(default_factory=list)

    async def transaction_status(
        self, order_id: str, *, timeout: float, txn_type: str | None = None
    ) -> TxnStatusAnswer:
        self.asked.append(txn_type)
        return self.answers.pop(0)


@dataclass
class FakeAutoDebit:
    answers: list[Withdrawal]
    sent: list[tuple[str, Decimal, str, str]] = field(default_factory=list)

    async def direct_pay(
        self, order_id: str, amount: Decimal, token: SecretStr, cust_id: str, *, timeout: float
    ) -> Withdrawal:
        self.sent.append((order_id, amount, token.get_secret_value(), cust_id))
        return self.answers.pop(0)


@dataclass
class FakeLinks:
    link: WalletLink
    moves: list[str] = field(default_factory=list)

    def get(self, link_id: str) -> WalletLink | None:
        return self.link

    def transition(self, link_id: str, *, expected: W, target: W, **_: Any) -> None:
        self.moves.append(f"{expected.value}->{target.value}")


class FakeVault:
    def open(self, link_id: str, sealed: str) -> SecretStr:
        return SecretStr("the-token")


def _settle(
    withdrawals: list[Withdrawal], statuses: list[TxnStatusAnswer], link: WalletLink | None = None
) -> tuple[FakePayments, FakeAutoDebit, FakePg, FakeLinks, str]:
    payments = FakePayments(_charge(PaymentStatus.ACCEPTED))
    autodebit, pg, links = FakeAutoDebit(withdrawals), FakePg(statuses), FakeLinks(link or _link())
    settler = ChargeSettler(
        payments=payments,  # type: ignore[arg-type]
        pg=pg,  # type: ignore[arg-type]
        dispatcher=None,
        clock=lambda: NOW,
        wall_clock=lambda: 1_000_000.0,
        wallet=ChargeWallet(links=links, vault=FakeVault(), autodebit=autodebit),  # type: ignore[arg-type]
        check_delay_seconds=0,
    )
    result = asyncio.run(settler.attempt("C1", CallBudget(lambda: 25.0)))
    return payments, autodebit, pg, links, result


SENT_OK = Withdrawal(Outcome.SUCCESS, status="TXN_SUCCESS", code="01", message="Txn Successful.")
LOST = Withdrawal(Outcome.AMBIGUOUS, code=None, message="read timeout")
NOT_FOUND = _status(Outcome.NOT_FOUND, amount=None, code="334")


@pytest.mark.parametrize(
    ("withdrawals", "statuses", "final", "sent"),
    [
        ([SENT_OK], [_status(Outcome.SUCCESS)], "PAID", 1),
        ([SENT_OK], [_status(Outcome.SUCCESS, amount="1.20")], "NEEDS_REVIEW", 1),
        ([LOST], [_status(Outcome.SUCCESS)], "PAID", 1),  # the debit happened: asked, never resent
        ([LOST, SENT_OK], [NOT_FOUND, _status(Outcome.SUCCESS)], "PAID", 2),  # never taken: resent once
        ([LOST, LOST], [NOT_FOUND, NOT_FOUND], "PROCESSING", 2),  # then the scheduled run asks
        ([LOST], [_status(Outcome.AMBIGUOUS, amount=None, code=None)], "PROCESSING", 1),
        ([SENT_OK], [_status(Outcome.PENDING, code="402")], "PENDING", 1),
        (
            [Withdrawal(Outcome.FINAL_FAILURE, code="235", message="low", insufficient_balance=True)],
            [],
            "FAILED",
            1,
        ),
    ],
    ids=[
        "paid",
        "another-amount",
        "lost-after-debit",
        "never-taken",
        "twice-unknown",
        "status-unknown",
        "pending",
        "insufficient",
    ],
)
def test_a_charge_is_sent_at_most_once_unless_paytm_says_it_never_saw_it(
    withdrawals: list[Withdrawal], statuses: list[TxnStatusAnswer], final: str, sent: int
) -> None:
    payments, autodebit, pg, _, _ = _settle(withdrawals, statuses)
    assert payments.charge.status.value == final
    assert len(autodebit.sent) == sent
    assert {s[0] for s in autodebit.sent} == {"C1"}  # the same OrderId on every send
    assert all(txn_type == "WITHDRAW" for txn_type in pg.asked)
    assert autodebit.sent[0][1:] == (Decimal("120.00"), "the-token", "L1")


def test_a_token_paytm_rejects_fails_the_charge_and_expires_the_link_without_asking_twice() -> None:
    rejected = Withdrawal(
        Outcome.FINAL_FAILURE, code="2004", message="Authorization failed", token_rejected=True
    )
    payments, autodebit, pg, links, _ = _settle([rejected], [])
    assert payments.charge.status is PaymentStatus.FAILED
    assert links.moves == ["LINKED->EXPIRED"]
    assert len(autodebit.sent) == 1
    assert pg.asked == []


@pytest.mark.parametrize("status", [W.REVOKED, W.EXPIRED, W.FAILED])
def test_a_charge_whose_link_stopped_being_linked_fails_unsent(status: W) -> None:
    payments, autodebit, _, _, _ = _settle([], [], link=_link(status=status, sealed_token=None))
    assert payments.charge.status is PaymentStatus.FAILED
    assert autodebit.sent == []


def test_a_configuration_error_finalises_nothing_and_releases_the_attempt() -> None:
    misconfigured = Withdrawal(Outcome.CONFIGURATION_ERROR, code="330", message="checksum")
    with pytest.raises(ChargeConfigurationError):
        _settle([misconfigured], [])
