"""Prepaid loads (seed 003): the code catalogue, the wire mapping, the request model, and the
loader's money rules against in-memory ports (what Tijori asked of the provider, and how often)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from tests.fakes import Clock, CountingMetrics, InMemoryPayoutRepository, RecordingDispatcher, ScriptedWallet
from tijori.lifecycle.outcomes import Outcome
from tijori.lifecycle.scheduled import CallBudget
from tijori.payouts.intake import PayoutConflictError, submit_payout
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import (
    AnyPayoutRequest,
    Payout,
    PayoutRequest,
    PrepaidLoadOptions,
    PrepaidPayoutRequest,
    client_txn_id_for,
)
from tijori.payouts.prepaid_load import PrepaidConfigurationError, PrepaidNotSentError
from tijori.payouts.settlement import PayoutSettler
from tijori.paytm.prepaid_codes import PREPAID_CATALOGUE
from tijori.paytm.prepaid_mapping import (
    PrepaidAnswer,
    credit_account_request,
    from_paise,
    read_credit_answer,
    to_paise,
)

SEED_003 = (Path(__file__).parents[1] / "fixtures" / "seed_003_prepaid_credit_account.txt").read_text(
    encoding="utf-8"
)
DEFAULTS = PrepaidLoadOptions(
    source_type=0, sender="TIJORI", fund_flow_type="I", impl_id="I|70130", impl_type="P2M_A2W_I", fee="0.00"
)
S = PayoutStatus
REQUESTS = TypeAdapter(AnyPayoutRequest)


def prepaid_body(order_id: str = "PP-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "rail": "prepaid",
        "order_id": order_id,
        "amount": "25.50",
        "payee": {"urn": "70000000008", "subwallet_id": "MOB5378a27c_1"},
    }
    body.update(overrides)
    return body


def seed_codes() -> dict[str, str]:
    section = SEED_003.split("API error codes", 1)[1].split("HTTP status code", 1)[0]
    return dict(re.findall(r"^(\d{2,5}) \| (.+?) \|$", section, flags=re.MULTILINE))


# ---- the catalogue -------------------------------------------------------------------------------
def test_every_code_of_seed_003_is_in_the_catalogue_with_the_seeds_meaning() -> None:
    codes = seed_codes()
    assert len(codes) == 31
    assert set(PREPAID_CATALOGUE.outcomes) == set(codes)
    assert {code: PREPAID_CATALOGUE.meaning_of(code) for code in codes} == codes


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("00", Outcome.SUCCESS),
        ("1009", Outcome.FINAL_FAILURE),
        ("10163", Outcome.FINAL_FAILURE),
        ("1357", Outcome.INVALID_REQUEST),
        ("1030", Outcome.CONFIGURATION_ERROR),
        ("1368", Outcome.CONFIGURATION_ERROR),
        ("1501", Outcome.AMBIGUOUS),
        ("1504", Outcome.AMBIGUOUS),
        ("9999", Outcome.AMBIGUOUS),
    ],
)
def test_each_code_says_what_it_means_for_the_load(code: str, outcome: Outcome) -> None:
    assert PREPAID_CATALOGUE.outcome_of(code) is outcome


# ---- the wire ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("amount", "paise"),
    [("1.00", 100), ("25.50", 2550), ("10", 1000), ("0.01", 1), ("99999999.99", 9999999999)],
)
def test_amounts_cross_the_wire_in_paise_from_the_exact_decimal(amount: str, paise: int) -> None:
    assert to_paise(Decimal(amount)) == paise
    assert from_paise(paise) == Decimal(amount).quantize(Decimal("0.01"))


def test_a_fraction_of_a_paisa_is_refused_not_rounded() -> None:
    with pytest.raises(ValueError, match="whole number of paise"):
        to_paise(Decimal("10.005"))


@pytest.mark.parametrize("value", [True, 1.5, "12a", None, [100]])
def test_an_answer_amount_that_is_not_an_integer_is_no_amount(value: object) -> None:
    assert from_paise(value) is None


def _accepted(body: dict[str, Any]) -> Payout:
    request = REQUESTS.validate_python(body)
    return Payout.accept(request, datetime(2026, 12, 2, 6, 0, tzinfo=UTC), prepaid_defaults=DEFAULTS)


def test_the_request_has_the_seeds_shape_with_the_urn_as_a_number_and_ist_time() -> None:
    payout = _accepted(prepaid_body())
    request = credit_account_request(payout, now=datetime(2026, 12, 2, 6, 0, tzinfo=UTC))
    assert request == {
        "messageCode": "1080",
        "clientTxnId": client_txn_id_for("PP-1"),
        "requestDateTime": "20261202113000",
        "urn": 70000000008,
        "subWalletId": "MOB5378a27c_1",
        "transactionAmount": 2550,
        "sourceType": 0,
        "sender": "TIJORI",
        "fundFlowType": "I",
        "implId": "I|70130",
        "implType": "P2M_A2W_I",
        "fee": 0,
        "orderId": "PP-1",
    }


def test_a_mobile_payee_is_sent_as_91_and_ten_digits_with_an_account_number() -> None:
    payout = _accepted(
        prepaid_body(payee={"customer_mobile": "9888888888", "account_number": "604010000445"})
    )
    request = credit_account_request(payout, now=datetime(2026, 12, 2, tzinfo=UTC))
    assert (request["customerMobile"], request["accountNumber"]) == ("919888888888", "604010000445")
    assert "urn" not in request
    assert "subWalletId" not in request


def test_the_client_txn_id_is_derived_from_the_order_id_within_the_providers_length() -> None:
    ids = {client_txn_id_for(order) for order in ("A", "a", "ORDER-1@x_y", "x" * 50)}
    assert len(ids) == 4
    assert all(re.fullmatch(r"TJ[A-Z2-7]{20}", value) for value in ids)
    assert client_txn_id_for("ORDER-1@x_y") == client_txn_id_for("ORDER-1@x_y")


TXN = client_txn_id_for("PP-1")


@pytest.mark.parametrize(
    ("document", "outcome", "amount"),
    [
        (
            {"responseCode": "00", "clientTxnId": TXN, "transactionAmount": 2550, "accosaRefNo": "7"},
            Outcome.SUCCESS,
            "25.50",
        ),
        ({"responseCode": 0, "clientTxnId": TXN, "transactionAmount": "2550"}, Outcome.AMBIGUOUS, "25.50"),
        ({"responseCode": "1009", "clientTxnId": TXN}, Outcome.FINAL_FAILURE, None),
        ({"responseCode": "00", "clientTxnId": "OTHER", "transactionAmount": 2550}, Outcome.AMBIGUOUS, None),
        ({"responseMessage": "SUCCESS"}, Outcome.AMBIGUOUS, None),
        (["00"], Outcome.AMBIGUOUS, None),
    ],
)
def test_reading_an_answer(document: object, outcome: Outcome, amount: str | None) -> None:
    answer = read_credit_answer(document, client_txn_id=TXN)
    assert answer.outcome is outcome
    assert answer.amount == (None if amount is None else Decimal(amount))


# ---- the request model ---------------------------------------------------------------------------
def test_a_payout_without_a_rail_is_a_wallet_payout_as_before() -> None:
    request = REQUESTS.validate_python(
        {"order_id": "W-1", "amount": "10.00", "payee": {"phone": "9876543210"}}
    )
    assert isinstance(request, PayoutRequest)


@pytest.mark.parametrize(
    ("changes", "where", "reason"),
    [
        ({"payee": {"subwallet_id": "MOB1_1"}}, ("prepaid", "payee"), "exactly one of urn, customer_id"),
        (
            {"payee": {"urn": "1", "customer_id": "2", "subwallet_id": "M"}},
            ("prepaid", "payee"),
            "exactly one",
        ),
        ({"payee": {"urn": "70000000008"}}, ("prepaid", "payee"), "subwallet_id, account_number"),
        ({"payee": {"urn": "0700", "subwallet_id": "M"}}, ("prepaid", "payee", "urn"), "pattern"),
        ({"payee": {"phone": "9876543210"}}, ("prepaid", "payee", "phone"), "Extra inputs"),
        ({"mode": "any_user"}, ("prepaid", "mode"), "Extra inputs"),
        ({"prepaid": {"fund_flow_type": "X"}}, ("prepaid", "prepaid", "fund_flow_type"), "Input should be"),
        ({"prepaid": {"source_type": True}}, ("prepaid", "prepaid", "source_type"), "JSON integer"),
        ({"prepaid": {"fee": 1}}, ("prepaid", "prepaid", "fee"), "decimal string"),
        ({"amount": 25.5}, ("prepaid", "amount"), "decimal string"),
        ({"rail": "card"}, (), "rail must be"),
    ],
)
def test_a_bad_prepaid_request_is_refused_naming_the_field(
    changes: dict[str, Any], where: tuple[str, ...], reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        REQUESTS.validate_python(prepaid_body(**changes))
    problems = [(tuple(str(p) for p in e["loc"]), e["msg"]) for e in refused.value.errors()]
    assert any(loc == where and reason in msg for loc, msg in problems), problems


def test_load_terms_take_the_request_first_and_the_stacks_settings_for_the_rest() -> None:
    request = PrepaidPayoutRequest.model_validate(prepaid_body(prepaid={"sender": "ACME", "fee": "1.50"}))
    terms = request.terms(DEFAULTS)
    assert (terms.sender, terms.fee, terms.impl_type, terms.client_txn_id) == (
        "ACME",
        Decimal("1.50"),
        "P2M_A2W_I",
        client_txn_id_for("PP-1"),
    )


# ---- the loader ----------------------------------------------------------------------------------
@dataclass
class ScriptedProvider:
    """The prepaid port: answers scripted in order (then SUCCESS echoing the load); every call kept."""

    script: list[PrepaidAnswer] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def credit_account(self, payout: Payout, *, now: datetime, timeout: float) -> PrepaidAnswer:
        self.calls.append(credit_account_request(payout, now=now))
        if self.script:
            return self.script.pop(0)
        assert payout.prepaid is not None
        return PrepaidAnswer(
            Outcome.SUCCESS,
            "00",
            "SUCCESS",
            accosa_ref_no="41348",
            amount=payout.amount,
            client_txn_id=payout.prepaid.client_txn_id,
        )


REFUSED_CONNECTION = PrepaidAnswer(Outcome.AMBIGUOUS, None, "not sent: ConnectError", reached_provider=False)
READ_TIMEOUT = PrepaidAnswer(Outcome.AMBIGUOUS, None, "no answer within 10.0 s")


@dataclass
class World:
    clock: Clock = field(default_factory=Clock)
    repository: InMemoryPayoutRepository = field(default_factory=InMemoryPayoutRepository)
    provider: ScriptedProvider = field(default_factory=ScriptedProvider)
    dispatcher: RecordingDispatcher = field(default_factory=RecordingDispatcher)
    metrics: CountingMetrics = field(default_factory=CountingMetrics)

    @property
    def settler(self) -> PayoutSettler:
        return PayoutSettler(
            repository=self.repository,
            wallet=ScriptedWallet(),
            dispatcher=self.dispatcher,
            clock=self.clock,
            wall_clock=self.clock.wall,
            check_delay_seconds=0,
            metrics=self.metrics,
            prepaid=lambda: self.provider,
        )

    def submit(self, order_id: str = "PP-1", **changes: Any) -> Payout:
        request = REQUESTS.validate_python(prepaid_body(order_id, **changes))
        return submit_payout(
            request,
            repository=self.repository,
            dispatcher=self.dispatcher,
            now=self.clock(),
            prepaid_defaults=DEFAULTS,
        ).payout

    def attempt(self, order_id: str = "PP-1") -> str:
        return asyncio.run(self.settler.attempt(order_id, CallBudget(lambda: 30.0)))

    def payout(self, order_id: str = "PP-1") -> Payout:
        payout = self.repository.get(order_id)
        assert payout is not None
        return payout


def test_a_load_the_provider_confirms_is_success_with_its_reference() -> None:
    world = World()
    world.submit()
    assert world.attempt() == "SUCCESS"
    payout = world.payout()
    assert (payout.status, payout.paytm_txn_id, payout.last_status_code) == (S.SUCCESS, "41348", "00")
    assert len(world.provider.calls) == 1


def test_a_success_for_another_amount_is_needs_review_never_success() -> None:
    world = World()
    world.submit()
    world.provider.script = [
        PrepaidAnswer(
            Outcome.SUCCESS, "00", "SUCCESS", amount=Decimal("2.55"), client_txn_id=client_txn_id_for("PP-1")
        )
    ]
    assert world.attempt() == "NEEDS_REVIEW"
    assert "loaded 2.55 INR, the payout is 25.50 INR" in world.payout().history[-1].reason


@pytest.mark.parametrize(
    "answer",
    [
        READ_TIMEOUT,
        PrepaidAnswer(Outcome.AMBIGUOUS, None, "HTTP 503"),
        PrepaidAnswer(Outcome.AMBIGUOUS, "1501", "SYSTEM_ERROR_DB"),
        PrepaidAnswer(Outcome.AMBIGUOUS, "1504", "SYSTEM_CACHE_FAILURE"),
        PrepaidAnswer(Outcome.AMBIGUOUS, None, "HTTP 200: the answer does not decrypt (padding)"),
    ],
)
def test_an_ambiguous_load_is_needs_review_at_once_sent_once_with_a_metric(answer: PrepaidAnswer) -> None:
    world = World()
    world.submit()
    world.provider.script = [answer]
    assert world.attempt() == "NEEDS_REVIEW"
    assert len(world.provider.calls) == 1
    assert world.metrics.counts["PrepaidLoadsNeedingReview"] == 1
    assert "never sent again" in world.payout().history[-1].reason
    # A redelivery of the message sends nothing: the payout is no longer to be claimed.
    world.attempt()
    assert len(world.provider.calls) == 1


def test_a_refused_connection_is_retried_with_the_same_client_txn_id_and_settles() -> None:
    world = World()
    world.submit()
    world.provider.script = [REFUSED_CONNECTION, REFUSED_CONNECTION]
    settler = world.settler
    settler._prepaid_loader = _fast(settler)  # type: ignore[method-assign]
    assert asyncio.run(settler.attempt("PP-1", CallBudget(lambda: 30.0))) == "SUCCESS"
    assert [call["clientTxnId"] for call in world.provider.calls] == [client_txn_id_for("PP-1")] * 3


def _fast(settler: PayoutSettler) -> Any:
    real = settler._prepaid_loader

    def loader() -> Any:
        built = real()
        built._retry_delays = (0.0, 0.0, 0.0)
        return built

    return loader


def test_refusals_on_every_retry_leave_it_unsent_and_a_later_delivery_sends_it() -> None:
    world = World()
    world.submit()
    world.provider.script = [REFUSED_CONNECTION] * 4
    settler = world.settler
    settler._prepaid_loader = _fast(settler)  # type: ignore[method-assign]
    with pytest.raises(PrepaidNotSentError):
        asyncio.run(settler.attempt("PP-1", CallBudget(lambda: 30.0)))
    payout = world.payout()
    assert (payout.status, payout.first_sent_at, payout.lease_until) == (S.PROCESSING, None, None)
    assert world.attempt() == "SUCCESS"
    assert len(world.provider.calls) == 5


def test_an_attempt_that_died_after_sending_is_never_sent_again() -> None:
    world = World()
    world.submit()
    # The first attempt claims the payout (recording its send) and its process dies.
    claimed = asyncio.run(world.settler._claim("PP-1"))
    assert claimed is not None
    world.clock.advance(minutes=5)  # the lease runs out
    assert world.attempt() == "NEEDS_REVIEW"
    assert world.provider.calls == []


def test_the_sweep_queues_a_never_sent_load_and_reviews_a_sent_one_without_asking_anyone() -> None:
    world = World()
    world.submit("PP-A")
    world.submit("PP-B")
    asyncio.run(world.settler._claim("PP-A"))
    asyncio.run(world.settler._claim("PP-B"))
    world.repository.unmark_sent("PP-B", at=world.payout("PP-B").first_sent_at)  # type: ignore[arg-type]
    world.repository.release_attempt("PP-B")
    world.clock.advance(minutes=20)
    world.dispatcher.queued.clear()
    asyncio.run(world.settler.run_scheduled_checks(page_size=50, budget=CallBudget(lambda: 30.0)))
    assert world.payout("PP-A").status is S.NEEDS_REVIEW
    assert world.dispatcher.queued == ["PP-B"]
    assert world.provider.calls == []


@pytest.mark.parametrize(
    ("code", "meaning"), [("1009", "CARD_CANCELLED_CLOSED_EXPIRED"), ("10153", "MIN-MAX")]
)
def test_a_refusal_is_failed_with_the_code_and_its_meaning(code: str, meaning: str) -> None:
    world = World()
    world.submit()
    world.provider.script = [
        PrepaidAnswer(Outcome.FINAL_FAILURE, code, "x", client_txn_id=client_txn_id_for("PP-1"))
    ]
    assert world.attempt() == "FAILED"
    payout = world.payout()
    assert payout.last_status_code == code
    assert meaning in (payout.last_status_message or "")


def test_a_configuration_refusal_fails_the_message_and_leaves_the_payout_unsent() -> None:
    world = World()
    world.submit()
    world.provider.script = [
        PrepaidAnswer(Outcome.CONFIGURATION_ERROR, "401", "HTTP 401: refused before processing")
    ]
    with pytest.raises(PrepaidConfigurationError):
        world.attempt()
    payout = world.payout()
    assert (payout.status, payout.first_sent_at) == (S.PROCESSING, None)
    assert world.attempt() == "SUCCESS"  # the redrive after the fix


def test_after_a_configuration_refusal_the_sweep_queues_the_load_again_only_after_an_hour() -> None:
    world = World()
    world.submit()
    world.provider.script = [PrepaidAnswer(Outcome.CONFIGURATION_ERROR, "1368", "PROGRAM NOT FOUND")]
    with pytest.raises(PrepaidConfigurationError):
        world.attempt()
    world.dispatcher.queued.clear()
    world.clock.advance(minutes=30)
    asyncio.run(world.settler.run_scheduled_checks(page_size=50, budget=CallBudget(lambda: 30.0)))
    assert world.dispatcher.queued == []  # the DLQ holds the message; nothing piles up beside it
    world.clock.advance(minutes=31)
    asyncio.run(world.settler.run_scheduled_checks(page_size=50, budget=CallBudget(lambda: 30.0)))
    assert world.dispatcher.queued == ["PP-1"]
    assert world.provider.calls[1:] == []  # queued, not sent: the worker sends it


def test_a_replay_is_the_stored_payout_and_another_body_is_a_conflict() -> None:
    world = World()
    first = world.submit()
    assert world.submit().request_fingerprint == first.request_fingerprint
    with pytest.raises(PayoutConflictError) as conflict:
        world.submit(amount="30.00")
    assert conflict.value.fields == ["amount"]
    with pytest.raises(PayoutConflictError) as rail:
        submit_payout(
            PayoutRequest.model_validate(
                {"order_id": "PP-1", "amount": "25.50", "payee": {"phone": "9876543210"}}
            ),
            repository=world.repository,
            dispatcher=world.dispatcher,
            now=world.clock(),
        )
    assert rail.value.fields == ["rail"]
