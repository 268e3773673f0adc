"""PaytmPgClient against the Paytm simulator over real HTTP: initiateTransaction (seed 004), the
checkout's outcome through the simulator's control API, transaction status, refund and refund
status (seed 002), a wrong key, and every transport failure the simulator can inject."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from paytm_signing import MerchantCredentials
from tijori.adapters.pg_gateway import pg_merchant
from tijori.lifecycle.outcomes import Outcome
from tijori.paytm.pg_client import (
    INITIATE_PATH,
    REFUND_PATH,
    REFUND_STATUS_PATH,
    TXN_STATUS_PATH,
    PaytmPgClient,
)
from tijori.paytm.pg_mapping import InitiateAnswer, PgMerchant
from tijori_local.sim.server import SimServer

T = TypeVar("T")
CALLBACK_URL = "https://tijori.example/paytm/pg/callback"
WRONG_KEY = "NotTheRightKey16"
TIMEOUT = 10.0


@pytest.fixture
def merchant(merchant_credentials: dict[str, Any]) -> PgMerchant:
    """The PG product of the suite's merchant secret (its own key, not the wallet's)."""
    return pg_merchant(MerchantCredentials.from_mapping(merchant_credentials))


def call(base_url: str, merchant: PgMerchant, action: Callable[[PaytmPgClient], Awaitable[T]]) -> T:
    """Run one client call on a fresh event loop, with its own httpx client."""

    async def run() -> T:
        async with httpx.AsyncClient() as http:
            return await action(PaytmPgClient(http, base_url, merchant))

    return asyncio.run(run())


def initiate(sim: SimServer, merchant: PgMerchant, order_id: str, amount: str = "1.10") -> InitiateAnswer:
    return call(
        sim.url,
        merchant,
        lambda pg: pg.initiate_transaction(
            order_id, Decimal(amount), "CUST_001", callback_url=CALLBACK_URL, timeout=TIMEOUT
        ),
    )


def checkout(sim: SimServer, order_id: str, outcome: str) -> dict[str, Any]:
    response = httpx.post(f"{sim.url}/_sim/pg/checkout/{order_id}", json={"outcome": outcome})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def arm_fault(sim: SimServer, kind: str, path: str, **fields: Any) -> None:
    response = httpx.post(f"{sim.url}/_sim/faults", json={"kind": kind, "path": path, **fields})
    assert response.status_code == 201, response.text


def paid_order(sim: SimServer, merchant: PgMerchant, order_id: str, amount: str = "100.00") -> str:
    assert initiate(sim, merchant, order_id, amount).outcome is Outcome.SUCCESS
    return str(checkout(sim, order_id, "SUCCESS")["txnId"])


# ---- initiateTransaction -----------------------------------------------------------------------


def test_initiate_gets_a_verified_txn_token(paytm: SimServer, merchant: PgMerchant) -> None:
    answer = initiate(paytm, merchant, "PG-INIT-1")

    assert (answer.outcome, answer.result_code, answer.result_status) == (Outcome.SUCCESS, "0000", "S")
    assert answer.signature_verified
    assert answer.txn_token


def test_the_same_order_and_body_again_is_idempotent_with_the_same_token(
    paytm: SimServer, merchant: PgMerchant
) -> None:
    first = initiate(paytm, merchant, "PG-IDEM-1")

    again = initiate(paytm, merchant, "PG-IDEM-1")

    assert (again.outcome, again.result_code) == (Outcome.SUCCESS, "0002")
    assert again.txn_token == first.txn_token


def test_the_same_order_with_another_body_is_ambiguous_not_success(
    paytm: SimServer, merchant: PgMerchant
) -> None:
    initiate(paytm, merchant, "PG-INC-1", amount="1.10")

    other = initiate(paytm, merchant, "PG-INC-1", amount="2.00")

    assert (other.outcome, other.result_code, other.txn_token) == (Outcome.AMBIGUOUS, "2023", None)
    assert other.signature_verified


def test_initiate_with_a_wrong_key_is_a_configuration_error(paytm: SimServer, merchant: PgMerchant) -> None:
    wrong = PgMerchant(mid=merchant.mid, website_name=merchant.website_name, key=WRONG_KEY)

    answer = initiate(paytm, wrong, "PG-KEY-1")

    assert (answer.outcome, answer.result_code) == (Outcome.CONFIGURATION_ERROR, "2005")


# ---- transaction status ------------------------------------------------------------------------


def test_an_order_whose_checkout_has_not_happened_reads_pending(
    paytm: SimServer, merchant: PgMerchant
) -> None:
    initiate(paytm, merchant, "PG-CREATED-1", amount="1.10")

    answer = call(paytm.url, merchant, lambda pg: pg.transaction_status("PG-CREATED-1", timeout=TIMEOUT))

    assert answer.outcome is Outcome.PENDING
    assert (answer.status, answer.resp_code, answer.order_id) == ("TXN_PENDING", "402", "PG-CREATED-1")
    assert str(answer.txn_amount) == "1.10"


def test_a_completed_checkout_reads_success_with_its_exact_amount(
    paytm: SimServer, merchant: PgMerchant
) -> None:
    initiate(paytm, merchant, "PG-PAID-1", amount="1234.50")
    txn_id = checkout(paytm, "PG-PAID-1", "SUCCESS")["txnId"]

    answer = call(paytm.url, merchant, lambda pg: pg.transaction_status("PG-PAID-1", timeout=TIMEOUT))

    assert answer.outcome is Outcome.SUCCESS
    assert (answer.status, answer.resp_code) == ("TXN_SUCCESS", "01")
    assert (answer.txn_id, answer.order_id, answer.mid) == (txn_id, "PG-PAID-1", merchant.mid)
    assert str(answer.txn_amount) == "1234.50"
    assert str(answer.refund_amount) == "0.00"
    assert answer.payment_mode
    assert answer.bank_txn_id


@pytest.mark.parametrize(
    ("outcome", "expected"), [("FAILURE", Outcome.FINAL_FAILURE), ("PENDING", Outcome.PENDING)]
)
def test_a_failed_or_pending_checkout_reads_as_such(
    paytm: SimServer, merchant: PgMerchant, outcome: str, expected: Outcome
) -> None:
    initiate(paytm, merchant, "PG-END-1")
    checkout(paytm, "PG-END-1", outcome)

    answer = call(paytm.url, merchant, lambda pg: pg.transaction_status("PG-END-1", timeout=TIMEOUT))

    assert answer.outcome is expected


def test_an_order_paytm_never_had_is_not_found(paytm: SimServer, merchant: PgMerchant) -> None:
    answer = call(paytm.url, merchant, lambda pg: pg.transaction_status("PG-NEVER-1", timeout=TIMEOUT))

    assert (answer.outcome, answer.status, answer.resp_code) == (Outcome.NOT_FOUND, "TXN_FAILURE", "334")


def test_a_status_request_with_a_txn_type_is_signed_over_it_too(
    paytm: SimServer, merchant: PgMerchant
) -> None:
    initiate(paytm, merchant, "PG-TYPE-1")

    answer = call(
        paytm.url,
        merchant,
        lambda pg: pg.transaction_status("PG-TYPE-1", txn_type="WITHDRAW", timeout=TIMEOUT),
    )

    assert answer.outcome is Outcome.PENDING  # the checksum (covering TXN_TYPE) was accepted


@pytest.mark.parametrize(
    ("change", "code"), [({"key": WRONG_KEY}, "330"), ({"mid": "SOMEOTHERMID0000001"}, "305")]
)
def test_a_status_request_with_the_wrong_key_or_mid_is_a_configuration_error(
    paytm: SimServer, merchant: PgMerchant, change: dict[str, str], code: str
) -> None:
    initiate(paytm, merchant, "PG-CFG-1")
    fields = {"mid": merchant.mid, "website_name": merchant.website_name, "key": merchant.key, **change}

    answer = call(
        paytm.url, PgMerchant(**fields), lambda pg: pg.transaction_status("PG-CFG-1", timeout=TIMEOUT)
    )

    assert (answer.outcome, answer.resp_code) == (Outcome.CONFIGURATION_ERROR, code)


# ---- refund and refund status ------------------------------------------------------------------


def test_a_refund_succeeds_and_its_status_says_so(paytm: SimServer, merchant: PgMerchant) -> None:
    txn_id = paid_order(paytm, merchant, "PG-REF-1", amount="100.00")

    refund = call(
        paytm.url,
        merchant,
        lambda pg: pg.refund(
            order_id="PG-REF-1", txn_id=txn_id, ref_id="REF-1-A", amount=Decimal("40.50"), timeout=TIMEOUT
        ),
    )
    status = call(
        paytm.url,
        merchant,
        lambda pg: pg.refund_status(order_id="PG-REF-1", ref_id="REF-1-A", timeout=TIMEOUT),
    )
    txn = call(paytm.url, merchant, lambda pg: pg.transaction_status("PG-REF-1", timeout=TIMEOUT))

    assert (refund.outcome, refund.resp_code, refund.ref_id) == (Outcome.SUCCESS, "10", "REF-1-A")
    assert refund.refund_id
    assert str(refund.refund_amount) == "40.50"
    assert (status.outcome, status.refund_id, status.ref_id) == (Outcome.SUCCESS, refund.refund_id, "REF-1-A")
    assert (str(status.refund_amount), str(status.total_refund_amount)) == ("40.50", "40.50")
    assert str(txn.refund_amount) == "40.50"


def test_a_refund_id_used_again_is_ambiguous_and_its_status_finds_the_first(
    paytm: SimServer, merchant: PgMerchant
) -> None:
    txn_id = paid_order(paytm, merchant, "PG-REF-2")

    def refund(pg: PaytmPgClient) -> Awaitable[Any]:
        return pg.refund(
            order_id="PG-REF-2", txn_id=txn_id, ref_id="REF-2-A", amount=Decimal("1"), timeout=TIMEOUT
        )

    first = call(paytm.url, merchant, refund)
    again = call(paytm.url, merchant, refund)
    status = call(
        paytm.url,
        merchant,
        lambda pg: pg.refund_status(order_id="PG-REF-2", ref_id="REF-2-A", timeout=TIMEOUT),
    )

    assert first.outcome is Outcome.SUCCESS
    assert (again.outcome, again.resp_code) == (Outcome.AMBIGUOUS, "617")
    assert (status.outcome, status.refund_id) == (Outcome.SUCCESS, first.refund_id)


@pytest.mark.parametrize(
    ("txn_id", "amount", "code"),
    [(None, "100.01", "619"), ("20269999999999", "1.00", "627")],
    ids=["more-than-paid", "another-txn-id"],
)
def test_a_refund_paytm_refuses_for_its_content_is_an_invalid_request(
    paytm: SimServer, merchant: PgMerchant, txn_id: str | None, amount: str, code: str
) -> None:
    paid_txn_id = paid_order(paytm, merchant, "PG-REF-3", amount="100.00")

    answer = call(
        paytm.url,
        merchant,
        lambda pg: pg.refund(
            order_id="PG-REF-3",
            txn_id=txn_id or paid_txn_id,
            ref_id="REF-3-A",
            amount=Decimal(amount),
            timeout=TIMEOUT,
        ),
    )

    assert (answer.outcome, answer.resp_code) == (Outcome.INVALID_REQUEST, code)


def test_the_status_of_a_refund_never_made_is_not_found(paytm: SimServer, merchant: PgMerchant) -> None:
    paid_order(paytm, merchant, "PG-REF-4")

    answer = call(
        paytm.url,
        merchant,
        lambda pg: pg.refund_status(order_id="PG-REF-4", ref_id="REF-NEVER", timeout=TIMEOUT),
    )

    assert (answer.outcome, answer.resp_code) == (Outcome.NOT_FOUND, "631")


def test_refund_calls_with_a_wrong_key_are_configuration_errors(
    paytm: SimServer, merchant: PgMerchant
) -> None:
    txn_id = paid_order(paytm, merchant, "PG-REF-5")
    wrong = PgMerchant(mid=merchant.mid, website_name=merchant.website_name, key=WRONG_KEY)

    refund = call(
        paytm.url,
        wrong,
        lambda pg: pg.refund(
            order_id="PG-REF-5", txn_id=txn_id, ref_id="REF-5-A", amount=Decimal("1"), timeout=TIMEOUT
        ),
    )
    status = call(
        paytm.url, wrong, lambda pg: pg.refund_status(order_id="PG-REF-5", ref_id="REF-5-A", timeout=TIMEOUT)
    )

    assert (refund.outcome, refund.resp_code) == (Outcome.CONFIGURATION_ERROR, "330")
    assert (status.outcome, status.resp_code) == (Outcome.CONFIGURATION_ERROR, "330")


# ---- transport failures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"kind": "http_500"}, "HTTP 500"),
        ({"kind": "non_json"}, "answer is not one JSON object (or repeats a member)"),
        ({"kind": "error_text"}, "answer is not one JSON object (or repeats a member)"),
        ({"kind": "timeout_after_commit", "drop": True}, "transport error: RemoteProtocolError"),
    ],
)
def test_a_broken_initiate_answer_is_ambiguous_with_its_reason(
    paytm: SimServer, merchant: PgMerchant, fault: dict[str, Any], reason: str
) -> None:
    arm_fault(paytm, path=INITIATE_PATH, **fault)

    answer = initiate(paytm, merchant, "PG-FAULT-1")

    assert (answer.outcome, answer.reason, answer.txn_token) == (Outcome.AMBIGUOUS, reason, None)


def test_an_initiate_answer_that_does_not_come_in_time_is_ambiguous(
    paytm: SimServer, merchant: PgMerchant
) -> None:
    arm_fault(paytm, "timeout_after_commit", INITIATE_PATH, delay_seconds=3)

    answer = call(
        paytm.url,
        merchant,
        lambda pg: pg.initiate_transaction(
            "PG-SLOW-1", Decimal("1.00"), "CUST_001", callback_url=CALLBACK_URL, timeout=0.2
        ),
    )

    assert (answer.outcome, answer.reason) == (Outcome.AMBIGUOUS, "no answer within 0.2 s")


def test_after_an_ambiguous_initiate_the_status_says_whether_the_order_exists(
    paytm: SimServer, merchant: PgMerchant
) -> None:
    arm_fault(paytm, "http_500", INITIATE_PATH)  # refused before any order is made
    arm_fault(paytm, "http_500", INITIATE_PATH, order_id="PG-AMB-2", commit=True)  # made, answer lost

    lost = initiate(paytm, merchant, "PG-AMB-1")
    made = initiate(paytm, merchant, "PG-AMB-2")
    status_1 = call(paytm.url, merchant, lambda pg: pg.transaction_status("PG-AMB-1", timeout=TIMEOUT))
    status_2 = call(paytm.url, merchant, lambda pg: pg.transaction_status("PG-AMB-2", timeout=TIMEOUT))

    assert (lost.outcome, made.outcome) == (Outcome.AMBIGUOUS, Outcome.AMBIGUOUS)
    assert status_1.outcome is Outcome.NOT_FOUND  # so the same order id may be sent again
    assert status_2.outcome is Outcome.PENDING
    assert initiate(paytm, merchant, "PG-AMB-1").result_code == "0000"
    assert initiate(paytm, merchant, "PG-AMB-2").result_code == "0002"


@pytest.mark.parametrize(
    ("path", "action"),
    [
        (TXN_STATUS_PATH, lambda pg: pg.transaction_status("PG-T-1", timeout=TIMEOUT)),
        (
            REFUND_PATH,
            lambda pg: pg.refund(
                order_id="PG-T-1", txn_id="1", ref_id="R", amount=Decimal("1"), timeout=TIMEOUT
            ),
        ),
        (REFUND_STATUS_PATH, lambda pg: pg.refund_status(order_id="PG-T-1", ref_id="R", timeout=TIMEOUT)),
    ],
    ids=["status", "refund", "refund-status"],
)
@pytest.mark.parametrize(
    ("kind", "reason"),
    [("http_500", "HTTP 500"), ("non_json", "answer is not JSON"), ("error_text", "answer is not JSON")],
)
def test_broken_json_data_answers_are_ambiguous_with_their_reason(
    paytm: SimServer,
    merchant: PgMerchant,
    path: str,
    action: Callable[[PaytmPgClient], Awaitable[Any]],
    kind: str,
    reason: str,
) -> None:
    arm_fault(paytm, kind, path)

    answer = call(paytm.url, merchant, action)

    assert (answer.outcome, answer.reason) == (Outcome.AMBIGUOUS, reason)


def test_nobody_listening_is_an_ambiguous_answer_not_an_exception(merchant: PgMerchant) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{closed_port}"

    initiate_answer = call(
        base_url,
        merchant,
        lambda pg: pg.initiate_transaction(
            "PG-X", Decimal("1"), "C", callback_url=CALLBACK_URL, timeout=TIMEOUT
        ),
    )
    status_answer = call(base_url, merchant, lambda pg: pg.transaction_status("PG-X", timeout=TIMEOUT))

    assert (initiate_answer.outcome, initiate_answer.reason) == (
        Outcome.AMBIGUOUS,
        "transport error: ConnectError",
    )
    assert (status_answer.outcome, status_answer.reason) == (
        Outcome.AMBIGUOUS,
        "transport error: ConnectError",
    )
