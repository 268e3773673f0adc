"""The settlement logic (what Tijori decides after each Paytm answer) with in-memory fakes of the
table, the queue, the state machine and Paytm. Each test asserts what Tijori did (which calls it
made to Paytm) as well as where the payout ended."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes import (
    START,
    Clock,
    CountingMetrics,
    InMemoryPayoutRepository,
    PaytmRecord,
    RecordingDispatcher,
    ScriptedWallet,
    status_answer,
)
from tijori.adapters.payout_table import item_to_payout, payout_to_item
from tijori.lifecycle.announcements import ANNOUNCE_GRACE
from tijori.payouts.intake import submit_payout
from tijori.payouts.lifecycle import PayoutStatus
from tijori.payouts.models import Payout, PayoutRequest
from tijori.payouts.pending import CHECK_AGES, CheckOutcome, checks_over
from tijori.payouts.ports import StaleTransitionError
from tijori.payouts.settlement import (
    CallBudget,
    PayoutSettler,
    PaytmConfigurationError,
    RetryLaterError,
    settle_status_answer,
    status_mismatch,
)
from tijori.paytm.wallet_codes import WalletOutcome
from tijori.paytm.wallet_mapping import TxnStatus, WalletAnswer

S = PayoutStatus
WO = WalletOutcome
TIMEOUT = WalletAnswer(WO.AMBIGUOUS, None, "no answer within 10.0 s")
NOT_FOUND = WalletAnswer(WO.NOT_FOUND, "STUC_1009", "sales to user credit txn not found")
DUPLICATE_ORDER = WalletAnswer(WO.AMBIGUOUS, "STUC_1007", "merchantOrderId already exists")
BAD_CHECKSUM = WalletAnswer(WO.CONFIGURATION_ERROR, "GE_1008", "Invalid HMAC Value")
PENDING_KYC = WalletAnswer(WO.PENDING, "GE_1026", "User wallet is in inactive mode.")


@dataclass
class World:
    clock: Clock = field(default_factory=Clock)
    repository: InMemoryPayoutRepository = field(default_factory=InMemoryPayoutRepository)
    wallet: ScriptedWallet = field(default_factory=ScriptedWallet)
    dispatcher: RecordingDispatcher = field(default_factory=RecordingDispatcher)
    metrics: CountingMetrics = field(default_factory=CountingMetrics)
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def settler(self) -> PayoutSettler:
        return PayoutSettler(
            repository=self.repository,
            wallet=self.wallet,
            dispatcher=self.dispatcher,
            clock=self.clock,
            wall_clock=self.clock.wall,
            check_delay_seconds=0,
            metrics=self.metrics,
            log_failure=lambda order_id, problem: self.failures.append((order_id, problem)),
        )

    def submit(self, order_id: str, **body: Any) -> Payout:
        request = PayoutRequest.model_validate(
            {"order_id": order_id, "amount": "25.00", "payee": {"phone": "9876543210"}, **body}
        )
        return submit_payout(
            request, repository=self.repository, dispatcher=self.dispatcher, now=self.clock()
        ).payout

    def attempt(self, order_id: str) -> str:
        return asyncio.run(self.settler.attempt(order_id, CallBudget(lambda: 30.0)))

    def check(self, order_id: str) -> Any:
        return asyncio.run(self.settler.check(order_id, timeout=5))

    def sweep(self, page_size: int = 50) -> dict[str, Any]:
        """One scheduled run (what the pending-checks state machine's task does)."""
        return asyncio.run(
            self.settler.run_scheduled_checks(page_size=page_size, budget=CallBudget(lambda: 30.0))
        )

    def payout(self, order_id: str) -> Payout:
        payout = self.repository.get(order_id)
        assert payout is not None
        return payout


def record(amount: str, status: TxnStatus, sso_id: str | None = None, message: str = "") -> WalletAnswer:
    return status_answer(PaytmRecord(Decimal(amount), status, "T1", sso_id, message or status.name))


# ---- A1: the status answer must match --------------------------------------------------------


def _payout(payee: dict[str, str], amount: str = "25.00", status: PayoutStatus = S.PROCESSING) -> Payout:
    request = PayoutRequest.model_validate({"order_id": "O-1", "amount": amount, "payee": payee})
    return Payout.accept(request, START).model_copy(update={"status": status})


PHONE = {"phone": "9876543210"}
SSO = {"sso_id": "190017931"}


@pytest.mark.parametrize(
    ("payee", "answer", "mismatch"),
    [
        (PHONE, record("25.00", TxnStatus.SUCCESS), None),
        (PHONE, record("25", TxnStatus.SUCCESS), None),  # exact decimals: 25 == 25.00
        (PHONE, record("10.00", TxnStatus.SUCCESS), "10.00 INR"),
        (PHONE, record("25.01", TxnStatus.SUCCESS), "25.01 INR"),
        (PHONE, record("25.00", TxnStatus.SUCCESS, sso_id="555"), None),  # ssoId not comparable
        (SSO, record("25.00", TxnStatus.SUCCESS, sso_id="190017931"), None),
        (SSO, record("25.00", TxnStatus.SUCCESS, sso_id="190017932"), "another ssoId"),
        (SSO, record("25.00", TxnStatus.SUCCESS), None),  # the record carries no ssoId
        (PHONE, WalletAnswer(WO.SUCCESS, "SS_001", "", txn_status=TxnStatus.SUCCESS), "no amount"),
    ],
)
def test_status_mismatch(payee: dict[str, str], answer: WalletAnswer, mismatch: str | None) -> None:
    found = status_mismatch(answer, _payout(payee))
    assert (found is None) == (mismatch is None)
    if mismatch is not None:
        assert found is not None
        assert mismatch in found


@pytest.mark.parametrize(
    ("status", "answer", "target", "final_answer"),
    [
        (S.PROCESSING, record("10.00", TxnStatus.SUCCESS), S.NEEDS_REVIEW, True),
        (S.PENDING, record("10.00", TxnStatus.SUCCESS), S.NEEDS_REVIEW, True),
        (S.PENDING, record("10.00", TxnStatus.FAILURE), S.NEEDS_REVIEW, True),
        (S.PROCESSING, record("10.00", TxnStatus.PENDING), S.NEEDS_REVIEW, False),
        (S.NEEDS_REVIEW, record("10.00", TxnStatus.PENDING), None, False),
        (S.NEEDS_REVIEW, record("10.00", TxnStatus.SUCCESS), S.NEEDS_REVIEW, True),
        (S.NEEDS_REVIEW, record("25.00", TxnStatus.SUCCESS), S.SUCCESS, False),
        (S.NEEDS_REVIEW, record("25.00", TxnStatus.PENDING), None, False),
        (S.NEEDS_REVIEW, record("25.00", TxnStatus.FAILURE), S.FAILED, False),
        (S.PROCESSING, record("25.00", TxnStatus.SUCCESS), S.SUCCESS, False),
        (S.PROCESSING, record("25.00", TxnStatus.FAILURE), S.FAILED, False),
        (S.PENDING, record("25.00", TxnStatus.FAILURE, message="REFUNDED_BACK"), S.REVERSED, False),
        (S.PROCESSING, record("25.00", TxnStatus.PENDING), S.PENDING, False),
        (S.PENDING, record("25.00", TxnStatus.PENDING), None, False),
        # Request-level answers of the status call never decide anything.
        (S.PENDING, WalletAnswer(WO.AMBIGUOUS, "CTS_0001", "Invalid request type"), None, False),
        (S.PENDING, WalletAnswer(WO.CONFIGURATION_ERROR, "GE_1008", "HMAC"), None, False),
        (S.PROCESSING, NOT_FOUND, None, False),
        # A transaction outcome without an amount cannot be matched to the payout.
        (
            S.PENDING,
            WalletAnswer(WO.FINAL_FAILURE, "SS_001", "", txn_status=TxnStatus.FAILURE),
            S.NEEDS_REVIEW,
            True,
        ),
    ],
)
def test_a_status_answer_settles_only_what_it_proves_for_this_payout(
    status: PayoutStatus, answer: WalletAnswer, target: PayoutStatus | None, final_answer: bool
) -> None:
    settlement = settle_status_answer(answer, _payout(PHONE, status=status))
    assert (settlement.target if settlement else None) is target
    assert (settlement.final_answer if settlement else False) is final_answer


def test_an_ambiguous_credit_whose_status_shows_another_amount_is_needs_review_with_a_metric() -> None:
    world = World()
    world.submit("O-AMT")
    world.wallet.credit_script["O-AMT"] = [TIMEOUT]
    world.wallet.status_script["O-AMT"] = [record("10.00", TxnStatus.SUCCESS)]
    assert world.attempt("O-AMT") == "NEEDS_REVIEW"
    payout = world.payout("O-AMT")
    assert payout.status is S.NEEDS_REVIEW
    assert "10.00 INR" in payout.history[-1].reason
    assert "25.00 INR" in payout.history[-1].reason
    assert world.metrics.counts["PayoutStatusMismatches"] == 1
    assert world.wallet.calls_for("O-AMT") == ["credit", "status"]
    # Paytm's answer was final (a success of another amount): nothing more to ask, a human decides.
    assert "O-AMT" not in world.repository.due


# ---- A2: checkStatus's request-level failures never finalise ---------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        WalletAnswer(WO.AMBIGUOUS, "CTS_0001", "Invalid request type"),
        WalletAnswer(WO.AMBIGUOUS, "GE_1003", "Invalid user id"),  # as read by the checkStatus table
        WalletAnswer(WO.AMBIGUOUS, None, "HTTP 503"),
    ],
)
def test_a_failed_status_request_leaves_a_pending_payout_pending_and_checked_again(
    answer: WalletAnswer,
) -> None:
    world = World()
    world.submit("O-P")
    world.wallet.credit_script["O-P"] = [PENDING_KYC]
    assert world.attempt("O-P") == "PENDING"
    world.wallet.status_script["O-P"] = [answer]
    world.clock.advance(minutes=1)
    writes = world.repository.writes
    check = world.check("O-P")
    assert (check.outcome, check.status) == (CheckOutcome.WAIT, S.PENDING)
    assert world.payout("O-P").status is S.PENDING
    # Still filed by its pending clock: its next check age comes round; nothing was written.
    assert "O-P" in world.repository.pending_since
    assert world.repository.writes == writes


def test_a_configuration_error_of_the_status_call_is_reported_and_changes_nothing() -> None:
    world = World()
    world.submit("O-C")
    world.wallet.credit_script["O-C"] = [PENDING_KYC]
    world.attempt("O-C")
    world.wallet.status_script["O-C"] = [BAD_CHECKSUM]
    check = world.check("O-C")
    assert check.configuration_problem is not None
    assert "GE_1008" in check.configuration_problem
    assert world.payout("O-C").status is S.PENDING


def test_a_payout_whose_status_checks_meet_configuration_errors_is_asked_less_and_less_often() -> None:
    world = World()
    world.submit("O-C3")
    world.wallet.credit_script["O-C3"] = [BAD_CHECKSUM]
    with pytest.raises(PaytmConfigurationError):
        world.attempt("O-C3")  # refused before any credit: never sent, the message goes to the DLQ
    world.wallet.status_script["O-C3"] = [BAD_CHECKSUM] * 100
    world.clock.advance(minutes=16)  # past intake's due entry
    assert world.sweep()["checked"] == ["O-C3"]
    # Not at the first pending ages (a minute on, and so on): at least an hour apart.
    for step in (1, 4, 25, 28):  # 1, 5, 30 and 58 minutes after that check
        world.clock.advance(minutes=step)
        assert world.sweep()["checked"] == []
    world.clock.advance(minutes=3)
    assert world.sweep()["checked"] == ["O-C3"]
    # A week of runs ten minutes apart while the key stays wrong: the checks thin out to daily.
    checked_at = []
    for _ in range(7 * 24 * 6):
        world.clock.advance(minutes=10)
        if world.sweep()["checked"]:
            checked_at.append(world.clock())
    gaps = [later - earlier for earlier, later in itertools.pairwise(checked_at)]
    assert min(gaps) >= timedelta(hours=1)
    assert gaps[-1] >= timedelta(days=1)
    assert len(checked_at) <= 12, checked_at  # hourly would be 168
    assert len(world.wallet.calls_for("O-C3", "credit")) == 1  # nothing is sent again by a check
    assert world.payout("O-C3").status is S.PROCESSING


def test_a_configuration_error_of_the_status_call_in_an_attempt_fails_the_message() -> None:
    world = World()
    world.submit("O-C2")
    world.wallet.credit_script["O-C2"] = [TIMEOUT]
    world.wallet.status_script["O-C2"] = [BAD_CHECKSUM]
    with pytest.raises(PaytmConfigurationError):
        world.attempt("O-C2")
    payout = world.payout("O-C2")
    assert (payout.status, payout.lease_until) == (S.PROCESSING, None)


# ---- A3: a resend refused as a duplicate order is never taken at its word --------------------


@pytest.mark.parametrize(
    ("paytm_record", "final"),
    [(record("25.00", TxnStatus.SUCCESS), S.SUCCESS), (record("10.00", TxnStatus.SUCCESS), S.NEEDS_REVIEW)],
)
def test_a_resend_refused_as_a_duplicate_order_is_settled_by_the_status_check(
    paytm_record: WalletAnswer, final: PayoutStatus
) -> None:
    world = World()
    world.submit("O-DUP")
    # The first credit times out; the status check says Paytm has no such order; the resend (same
    # order id) is refused as a duplicate: the order did arrive after all.
    world.wallet.credit_script["O-DUP"] = [TIMEOUT, DUPLICATE_ORDER]
    world.wallet.status_script["O-DUP"] = [NOT_FOUND, paytm_record]
    assert world.attempt("O-DUP") == "outcome unknown: the scheduled run checks it"
    assert world.payout("O-DUP").status is S.PROCESSING
    assert world.payout("O-DUP").lease_until is None  # released in the same write
    assert "O-DUP" in world.repository.due
    check = world.check("O-DUP")  # the scheduled run's check, a minute later
    assert check.status is final
    assert world.wallet.calls_for("O-DUP") == ["credit", "status", "credit", "status"]


# ---- A4: NEEDS_REVIEW never overtakes an attempt, never throws away a later answer -----------


def test_needs_review_never_overtakes_an_attempt_in_flight() -> None:
    world = World()
    world.submit("O-LEASE", pending_days_limit=0)
    # An attempt holds the payout (claimed, its lease running) long past any deadline.
    world.repository.transition(
        "O-LEASE",
        expected=S.ACCEPTED,
        target=S.PROCESSING,
        at=world.clock(),
        reason="claimed",
        next_check_at=world.clock(),
        lease_until=world.clock.wall() + 10 * 86_400,
        first_send_at=world.clock(),
    )
    world.clock.advance(days=3)
    check = world.check("O-LEASE")
    assert (check.outcome, check.status) == (CheckOutcome.WAIT, S.PROCESSING)
    assert world.wallet.calls_for("O-LEASE") == []
    with pytest.raises(StaleTransitionError):
        world.repository.transition(
            "O-LEASE",
            expected=S.PROCESSING,
            target=S.NEEDS_REVIEW,
            at=world.clock(),
            reason="deadline",
            next_check_at=None,
            unless_leased_at=world.clock.wall(),
        )


class WalletReviewedMeanwhile(ScriptedWallet):
    """While the credit is in flight (its lease long expired), the poller moves the payout to
    NEEDS_REVIEW; then Paytm answers SUCCESS."""

    def __init__(self, repository: InMemoryPayoutRepository, clock: Clock) -> None:
        super().__init__()
        self._repository, self._clock = repository, clock

    async def credit(self, payout: Payout, *, verify_only: bool, timeout: float) -> WalletAnswer:
        self._repository.transition(
            payout.order_id,
            expected=S.PROCESSING,
            target=S.NEEDS_REVIEW,
            at=self._clock(),
            reason="not final by the settlement deadline",
            next_check_at=self._clock() + timedelta(days=1),
        )
        return await super().credit(payout, verify_only=verify_only, timeout=timeout)


def test_a_success_that_arrives_after_review_is_kept_as_success() -> None:
    world = World()
    world.wallet = WalletReviewedMeanwhile(world.repository, world.clock)
    world.submit("O-LATE")
    assert world.attempt("O-LATE") == "SUCCESS"
    payout = world.payout("O-LATE")
    assert payout.status is S.SUCCESS
    assert [t.to_status for t in payout.history][-2:] == [S.NEEDS_REVIEW, S.SUCCESS]
    assert world.wallet.calls_for("O-LATE") == ["credit"]


def test_a_payout_in_review_is_checked_daily_until_paytm_answers_and_the_answer_settles_it() -> None:
    world = World()
    world.submit("O-REVIEW", mode="any_user")
    world.wallet.credit_script["O-REVIEW"] = [PENDING_KYC]
    world.attempt("O-REVIEW")
    world.wallet.records["O-REVIEW"].status = TxnStatus.PENDING
    world.clock.advance(days=6, minutes=1)  # past the 5-day window + a day of slack
    assert world.check("O-REVIEW").outcome is CheckOutcome.NEEDS_REVIEW
    assert world.metrics.counts["PayoutsNeedingReview"] == 1
    assert "O-REVIEW" in world.repository.due  # still asked about
    world.clock.advance(hours=12)
    assert world.sweep()["checked"] == []  # not due yet: daily
    world.clock.advance(hours=12, minutes=1)
    assert world.sweep()["checked"] == ["O-REVIEW"]
    assert world.payout("O-REVIEW").status is S.NEEDS_REVIEW
    world.wallet.records["O-REVIEW"].status = TxnStatus.SUCCESS
    world.clock.advance(days=1, minutes=1)
    assert world.sweep()["checked"] == ["O-REVIEW"]
    payout = world.payout("O-REVIEW")
    assert payout.status is S.SUCCESS
    assert payout.history[-1].reason == "credited to the payee's wallet (status check after review)"
    assert "O-REVIEW" not in world.repository.due


def test_a_final_answer_that_does_not_match_is_recorded_in_review_and_checks_stop() -> None:
    world = World()
    world.submit("O-MISMATCH-LATE", mode="any_user")
    world.wallet.credit_script["O-MISMATCH-LATE"] = [PENDING_KYC]
    world.attempt("O-MISMATCH-LATE")
    world.clock.advance(days=6, minutes=1)
    world.wallet.status_script["O-MISMATCH-LATE"] = [
        record("25.00", TxnStatus.PENDING),
        record("99.00", TxnStatus.SUCCESS),
    ]
    assert world.check("O-MISMATCH-LATE").outcome is CheckOutcome.NEEDS_REVIEW
    world.clock.advance(days=1, minutes=1)
    world.sweep()
    payout = world.payout("O-MISMATCH-LATE")
    assert payout.status is S.NEEDS_REVIEW
    assert payout.history[-1].from_status is S.NEEDS_REVIEW
    assert "99.00 INR" in payout.history[-1].reason
    assert "O-MISMATCH-LATE" not in world.repository.due


# ---- A5: the pending window runs from the first send that may have reached Paytm -------------


def test_a_payout_that_waited_two_days_in_the_dlq_still_gets_its_full_pending_window() -> None:
    world = World()
    world.submit("O-DLQ")
    world.wallet.credit_script["O-DLQ"] = [BAD_CHECKSUM, PENDING_KYC]
    with pytest.raises(PaytmConfigurationError):
        world.attempt("O-DLQ")
    assert world.payout("O-DLQ").first_sent_at is None  # refused as misconfigured: not a send
    world.clock.advance(days=2)  # in the DLQ until the key is fixed, then redriven
    assert world.attempt("O-DLQ") == "PENDING"
    sent = world.payout("O-DLQ").first_sent_at
    assert sent == START + timedelta(days=2)
    world.wallet.records["O-DLQ"].status = TxnStatus.PENDING
    world.clock.advance(days=5, hours=12)  # 7.5 days after intake, 5.5 after the send
    assert world.check("O-DLQ").status is S.PENDING
    world.clock.advance(hours=12, minutes=1)  # 6 days after the send: the deadline
    assert world.check("O-DLQ").status is S.NEEDS_REVIEW
    assert world.wallet.calls_for("O-DLQ")[:3] == ["credit", "status", "credit"]


def test_a_payout_never_sent_has_no_deadline_yet() -> None:
    world = World()
    world.submit("O-NEVER")
    world.wallet.credit_script["O-NEVER"] = [BAD_CHECKSUM]
    with pytest.raises(PaytmConfigurationError):
        world.attempt("O-NEVER")
    world.clock.advance(days=30)
    check = world.check("O-NEVER")
    assert check.status is S.PROCESSING
    assert world.dispatcher.queued[-1] == "O-NEVER"  # Paytm never saw it: its attempt is queued


# ---- A6: a definitive VERIFY refusal is final ------------------------------------------------


@pytest.mark.parametrize(
    ("verify", "final"),
    [
        (WalletAnswer(WO.INVALID_REQUEST, "GE_1032", "Invalid Phone no."), S.FAILED),
        (WalletAnswer(WO.FINAL_FAILURE, "STUC_1002", "Payee record not found"), S.FAILED),
        (WalletAnswer(WO.FINAL_FAILURE, "STUC_1010", "Payee mobile not verified", verified=False), S.FAILED),
    ],
)
def test_a_definitive_verify_refusal_ends_failed_with_its_code_and_no_credit(
    verify: WalletAnswer, final: PayoutStatus
) -> None:
    world = World()
    world.submit("O-VERIFY", mode="verified_user")
    world.wallet.verify_script["O-VERIFY"] = [verify]
    assert world.attempt("O-VERIFY") == final.value
    payout = world.payout("O-VERIFY")
    assert payout.last_status_code == verify.status_code
    assert world.wallet.calls_for("O-VERIFY") == ["verify"]


def test_a_verify_without_verdict_or_definitive_code_is_retried_later() -> None:
    world = World()
    world.submit("O-VERIFY-AMB", mode="verified_user")
    world.wallet.verify_script["O-VERIFY-AMB"] = [WalletAnswer(WO.AMBIGUOUS, "GE_3", "Internal server error")]
    with pytest.raises(RetryLaterError):
        world.attempt("O-VERIFY-AMB")
    assert world.payout("O-VERIFY-AMB").status is S.PROCESSING
    assert world.wallet.calls_for("O-VERIFY-AMB") == ["verify"]


# ---- B7, B8, B9: the sweep ------------------------------------------------------------------


def test_one_unreadable_item_never_stops_the_sweep() -> None:
    world = World()
    world.submit("O-BAD")
    world.submit("O-GOOD")
    world.dispatcher.queued.clear()  # both messages lost
    world.repository.unreadable.add("O-BAD")
    world.clock.advance(minutes=16)
    done = world.sweep()
    assert done["failed"] == ["O-BAD"]
    assert done["requeued"] == ["O-GOOD"]
    assert world.dispatcher.queued == ["O-GOOD"]
    assert world.metrics.counts["SweepItemFailures"] == 1
    assert world.failures[0][0] == "O-BAD"
    # The bad item is postponed, so it does not stand first in every run.
    assert world.repository.due["O-BAD"] > int(world.clock().timestamp())


def test_more_than_three_pages_of_due_items_are_all_visited_in_one_sweep() -> None:
    world = World()
    for number in range(20):
        world.submit(f"O-PAGE-{number}")
    world.dispatcher.queued.clear()
    world.clock.advance(minutes=16)
    done = world.sweep(page_size=5)
    assert sorted(done["requeued"]) == sorted(f"O-PAGE-{n}" for n in range(20))
    # Re-queued items move their next check forward: the next run does not see them again.
    assert world.sweep(page_size=5)["requeued"] == []


def test_a_pending_payout_is_checked_at_each_check_age_and_a_routine_check_writes_nothing() -> None:
    world = World()
    world.submit("O-AGES", mode="any_user")
    world.wallet.credit_script["O-AGES"] = [PENDING_KYC]
    world.clock.advance(seconds=30)
    assert world.attempt("O-AGES") == "PENDING"
    world.wallet.records["O-AGES"].status = TxnStatus.PENDING
    sent = world.payout("O-AGES").first_sent_at
    assert sent is not None
    assert "O-AGES" in world.repository.pending_since  # filed by its pending clock, not a due time
    checked_at: list[tuple[timedelta, timedelta]] = []  # (age when checked, the run interval)
    while world.clock() < sent + timedelta(days=5, hours=23):
        # A run a minute for the first day, then every 10 minutes (the test runs faster; the
        # checks must still fall in the first run at or after each age).
        step = timedelta(minutes=1) if world.clock() - sent < timedelta(days=1) else timedelta(minutes=10)
        world.clock.advance(seconds=step.total_seconds())
        writes = world.repository.writes
        if "O-AGES" in world.sweep()["checked"]:
            checked_at.append((world.clock() - sent, step))
            assert world.repository.writes - writes == 1  # the cursor only: nothing per payout
    expected = [age for age in CHECK_AGES if age < timedelta(days=6)]
    assert len(checked_at) == len(expected) == checks_over(timedelta(days=5)) == 14
    for (age_checked, step), age in zip(checked_at, expected, strict=True):
        assert age <= age_checked < age + step
    assert world.wallet.calls_for("O-AGES", "status") == ["status"] * 14


def test_a_run_that_died_is_caught_up_by_the_next_from_the_cursor() -> None:
    world = World()
    world.submit("O-CATCHUP", mode="any_user")
    world.wallet.credit_script["O-CATCHUP"] = [PENDING_KYC]
    world.attempt("O-CATCHUP")
    world.wallet.records["O-CATCHUP"].status = TxnStatus.PENDING
    world.sweep()  # sets the cursor
    # The runs of the next three hours never happened (the schedule was disabled, or each failed).
    world.clock.advance(hours=3)
    world.wallet.records["O-CATCHUP"].status = TxnStatus.SUCCESS
    done = world.sweep()
    assert done["checked"] == ["O-CATCHUP"]  # once, though several of its ages were passed
    assert done["more"] is False
    assert world.payout("O-CATCHUP").status is S.SUCCESS
    assert world.repository.cursor == world.clock()


def test_a_run_out_of_time_leaves_the_cursor_where_its_checks_stopped() -> None:
    world = World()
    world.sweep()
    cursor = world.repository.cursor
    world.clock.advance(hours=1)
    done = asyncio.run(world.settler.run_scheduled_checks(page_size=50, budget=CallBudget(lambda: 5.0)))
    assert done["more"] is True
    assert world.repository.cursor == cursor


def test_a_final_payout_left_in_the_due_index_is_taken_out() -> None:
    world = World()
    world.submit("O-FIN")
    world.attempt("O-FIN")
    world.clock.advance(minutes=2)  # past the writer's grace to publish its event
    world.repository.due["O-FIN"] = 0  # a stale index entry
    done = world.sweep()
    assert (done["requeued"], done["checked"], done["failed"]) == ([], [], [])
    assert "O-FIN" not in world.repository.due


def test_a_payout_made_final_within_the_announce_grace_is_left_to_its_writer_until_the_grace_ends() -> None:
    world = World()
    world.submit("O-JUST")
    world.attempt("O-JUST")
    finished_at = world.clock()
    world.repository.due["O-JUST"] = 0  # its kept intake entry, already overdue
    done = world.sweep()
    assert (done["requeued"], done["checked"], done["failed"]) == ([], [], [])
    assert world.repository.due["O-JUST"] == int((finished_at + ANNOUNCE_GRACE).timestamp())
    world.clock.advance(minutes=2)
    world.sweep()
    assert "O-JUST" not in world.repository.due


def test_a_payout_stored_before_intake_rules_tightened_still_reads_back() -> None:
    item = payout_to_item(_payout(PHONE))
    item["payee"] = {"phone": "0123456789"}  # intake refuses this phone today; it was stored earlier
    assert item_to_payout(item).payee.masked() == {"phone": "********89"}


def test_a_pending_payout_whose_check_fails_at_its_deadline_age_still_reaches_review() -> None:
    world = World()
    world.submit("O-DEADLINE-FAIL", mode="any_user", pending_days_limit=0)
    world.wallet.credit_script["O-DEADLINE-FAIL"] = [PENDING_KYC]
    world.attempt("O-DEADLINE-FAIL")
    world.wallet.records["O-DEADLINE-FAIL"].status = TxnStatus.PENDING
    world.sweep()
    world.clock.advance(days=1, minutes=1)  # the deadline age (pendingDaysLimit 0: one day)
    world.repository.unreadable.add("O-DEADLINE-FAIL")  # its check fails there
    assert world.sweep()["failed"] == ["O-DEADLINE-FAIL"]
    # No later check age: the failure moved it to the due part, checked again in an hour.
    world.repository.unreadable.clear()
    world.clock.advance(hours=1, minutes=1)
    assert world.sweep()["checked"] == ["O-DEADLINE-FAIL"]
    assert world.payout("O-DEADLINE-FAIL").status is S.NEEDS_REVIEW


def test_a_payout_paytm_never_took_is_resent_not_reviewed_even_past_its_deadline() -> None:
    # Found by the stateful test: an ambiguous credit that never arrived, then no check until past
    # the deadline (runs down); Paytm's NOT_FOUND means the window never started.
    world = World()
    world.submit("O-NEVER-TOOK", pending_days_limit=0)
    world.wallet.credit_script["O-NEVER-TOOK"] = [TIMEOUT]
    world.wallet.status_script["O-NEVER-TOOK"] = [TIMEOUT]  # the attempt's own check: no answer
    assert world.attempt("O-NEVER-TOOK") == "outcome unknown: the scheduled run checks it"
    world.clock.advance(days=2)
    check = world.check("O-NEVER-TOOK")
    assert check.status is S.PROCESSING
    assert world.dispatcher.queued[-1] == "O-NEVER-TOOK"  # the resend, same order id
    assert world.attempt("O-NEVER-TOOK") == "SUCCESS"
    assert world.wallet.calls_for("O-NEVER-TOOK") == ["credit", "status", "status", "status", "credit"]


def test_a_payout_that_goes_pending_after_its_last_check_age_is_still_checked() -> None:
    # Found by the stateful test: the claim starts the pending clock, but the credit went out a
    # week later (the first attempt got no VERIFY answer, the message waited), so when Paytm said
    # PENDING every check age was behind the scheduled run's cursor: filed by its pending clock,
    # it was never checked again, PENDING for ever whatever Paytm did with the money.
    world = World()
    world.sweep()  # the schedule runs
    world.submit("O-LATE-PENDING", mode="verified_user")
    world.wallet.verify_script["O-LATE-PENDING"] = [TIMEOUT]
    with pytest.raises(RetryLaterError):
        world.attempt("O-LATE-PENDING")
    world.clock.advance(days=7)
    world.sweep()
    world.wallet.credit_script["O-LATE-PENDING"] = [PENDING_KYC]
    assert world.attempt("O-LATE-PENDING") == "PENDING"
    world.wallet.records["O-LATE-PENDING"].status = TxnStatus.PENDING
    world.clock.advance(minutes=1)
    assert world.sweep()["checked"] == ["O-LATE-PENDING"]
    # Past the deadline counted from the claim (never later than Paytm's): a human, checked daily.
    assert world.payout("O-LATE-PENDING").status is S.NEEDS_REVIEW


def test_a_pending_payout_neither_checked_nor_postponed_holds_the_cursor_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Found by the stateful test: the run logged "could not postpone" and moved the cursor past the
    # payout's check age anyway; at its last age it would never be checked again.
    world = World()
    world.submit("O-LOST", mode="any_user")
    world.wallet.credit_script["O-LOST"] = [PENDING_KYC]
    world.attempt("O-LOST")
    world.wallet.records["O-LOST"].status = TxnStatus.PENDING
    world.sweep()
    cursor = world.repository.cursor
    world.clock.advance(minutes=1)  # its first check age
    world.repository.unreadable.add("O-LOST")  # the check fails, and so does postponing it

    def table_unavailable(order_id: str, *, until: Any) -> None:
        raise ConnectionError("table unavailable")

    monkeypatch.setattr(world.repository, "postpone_check", table_unavailable)
    done = world.sweep()
    assert done["failed"] == ["O-LOST"]
    assert done["more"] is True
    assert world.repository.cursor == cursor
    monkeypatch.undo()
    world.repository.unreadable.clear()
    assert world.sweep()["checked"] == ["O-LOST"]  # the next run does that step again
    assert world.repository.cursor == world.clock()
