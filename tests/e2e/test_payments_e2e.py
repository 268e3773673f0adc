"""PG payments and refunds end to end: the real handlers on the local runtime, the real pending
loop, real HTTP and checksums between Tijori and the simulator. Each test names the money rule it
proves (README, "Payments and refunds"), and asserts what Tijori asked Paytm, not only what the
simulator allowed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from paytm_signing import generate_signature
from tests.local.conftest import wait_until
from tijori_local.runtime import LocalRuntime, RuntimeOptions

pytestmark = pytest.mark.e2e
TOKEN = "e2e-payments-token"
INITIATE = "/theia/api/v1/initiateTransaction"
STATUS = "/merchant-status/getTxnStatus"
REFUND = "/refund/HANDLER_INTERNAL/REFUND"
REFUND_STATUS = "/refund/HANDLER_INTERNAL/getRefundStatus"
_orders = iter(range(1, 10_000))


@pytest.fixture(scope="module")
def runtime(merchant_credentials: dict[str, str]) -> Iterator[LocalRuntime]:
    # 60 simulated seconds per real second: a txnToken's 15 minutes pass in 15 s; days are crossed
    # with the simulator's clock advance, which moves Tijori's clock too.
    options = RuntimeOptions(api_port=0, credentials=merchant_credentials, time_scale=60, api_token=TOKEN)
    with LocalRuntime(options) as started:
        yield started


@pytest.fixture
def api(runtime: LocalRuntime) -> httpx.Client:
    return httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)


@pytest.fixture
def sim(runtime: LocalRuntime) -> httpx.Client:
    return httpx.Client(base_url=str(runtime.sim_url), timeout=60)


def new_order(prefix: str) -> str:
    return f"E2E-{prefix}-{next(_orders)}"


def payment_body(order_id: str, amount: str = "100.00", **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "amount": amount,
        "currency": "INR",
        "customer": {"customer_id": "CUST_E2E", "phone": "9876543210"},
        **extra,
    }


def create(api: httpx.Client, order_id: str, amount: str = "100.00", **extra: Any) -> dict[str, Any]:
    answer = api.post("/v1/payments", json=payment_body(order_id, amount, **extra))
    assert answer.status_code == 201, answer.text
    view: dict[str, Any] = answer.json()
    return view


def checkout(sim: httpx.Client, order_id: str, outcome: str, mode: str = "UPI") -> None:
    answer = sim.post(f"/_sim/pg/checkout/{order_id}", json={"outcome": outcome, "payment_mode": mode})
    assert answer.status_code == 200, answer.text


def payment(api: httpx.Client, order_id: str) -> dict[str, Any]:
    view: dict[str, Any] = api.get(f"/v1/payments/{order_id}").json()
    return view


def wait_payment(api: httpx.Client, order_id: str, statuses: set[str], timeout: float = 90) -> dict[str, Any]:
    assert wait_until(lambda: payment(api, order_id)["status"] in statuses, timeout=timeout), payment(
        api, order_id
    )
    return payment(api, order_id)


def post_refund(api: httpx.Client, order_id: str, refund_id: str, amount: str) -> httpx.Response:
    return api.post(f"/v1/payments/{order_id}/refunds", json={"refund_id": refund_id, "amount": amount})


def refund_view(api: httpx.Client, order_id: str, refund_id: str) -> dict[str, Any]:
    view: dict[str, Any] = api.get(f"/v1/payments/{order_id}/refunds/{refund_id}").json()
    return view


def wait_refund(
    api: httpx.Client, order_id: str, refund_id: str, statuses: set[str], timeout: float = 90
) -> dict[str, Any]:
    assert wait_until(lambda: refund_view(api, order_id, refund_id)["status"] in statuses, timeout=timeout), (
        refund_view(api, order_id, refund_id)
    )
    return refund_view(api, order_id, refund_id)


def paytm_calls(sim: httpx.Client, order_id: str) -> list[str]:
    """What Tijori asked Paytm about this order, in order (the simulator's request log)."""
    sequence: list[str] = sim.get("/_sim/requests", params={"order_id": order_id}).json()["sequence"]
    return sequence


def transitions_to(view: dict[str, Any], status: str) -> int:
    return sum(1 for step in view["history"] if step["to"] == status)


def paid(api: httpx.Client, sim: httpx.Client, prefix: str, amount: str = "100.00") -> str:
    order_id = new_order(prefix)
    create(api, order_id, amount)
    checkout(sim, order_id, "SUCCESS")
    wait_payment(api, order_id, {"PAID"})
    return order_id


def pg_key(credentials: dict[str, Any]) -> str:
    """The PG product's merchant key of the merchant secret (either format)."""
    return str(credentials["pg"]["merchant_key"] if "pg" in credentials else credentials["merchant_key"])


def signed_callback(key: str, fields: dict[str, str]) -> bytes:
    return urlencode({**fields, "CHECKSUMHASH": generate_signature(fields, key)}).encode()


def callback_fields(mid: str, order_id: str, **changes: str) -> dict[str, str]:
    fields = {
        "MID": mid,
        "ORDERID": order_id,
        "TXNID": "20261201111212800110168",
        "TXNAMOUNT": "100.00",
        "CURRENCY": "INR",
        "STATUS": "TXN_SUCCESS",
        "RESPCODE": "01",
        "RESPMSG": "Txn Successful.",
        "BANKTXNID": "777001",
        "TXNDATE": "2026-12-01 10:00:00.0",
        "GATEWAYNAME": "HDFC",
        "BANKNAME": "HDFC Bank",
        "PAYMENTMODE": "CC",
    }
    return {**fields, **changes}


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# ---- rule 1: a callback is never believed on its own --------------------------------------------
def test_forged_tampered_unsigned_oversized_and_malformed_callbacks_are_refused_and_change_nothing(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client, merchant_credentials: dict[str, str]
) -> None:
    order_id = new_order("FORGED")
    create(api, order_id)
    mid, key = merchant_credentials["mid"], pg_key(merchant_credentials)
    genuine = callback_fields(mid, order_id)
    tampered = dict(parse_qs(signed_callback(key, genuine).decode()))
    tampered_body = urlencode({k: v[0] for k, v in tampered.items()} | {"TXNAMOUNT": "1.00"}).encode()
    bodies = {
        "forged": signed_callback("F0RGED-KEY-16-by", genuine),
        "tampered amount": tampered_body,
        "unsigned": urlencode(genuine).encode(),
        "oversized": signed_callback(key, {**genuine, "MERC_UNQ_REF": "x" * 20_000}),
        "malformed": b"%%%&&&=",
        "repeated field": signed_callback(key, genuine) + b"&STATUS=TXN_SUCCESS",
    }
    for name, body in bodies.items():
        answer = httpx.post(f"{runtime.api_url}/v1/callbacks/pg", content=body, headers=FORM)
        assert 400 <= answer.status_code < 500, (name, answer.status_code)
    view = payment(api, order_id)
    assert view["status"] == "CREATED"
    assert view["history"][-1]["to"] == "CREATED"
    # Not even a status check was asked for: only the initiate reached Paytm.
    assert paytm_calls(sim, order_id) == [INITIATE]


def test_a_valid_callback_claiming_success_that_the_status_api_contradicts_is_never_believed(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client, merchant_credentials: dict[str, str]
) -> None:
    order_id = new_order("CONTRADICTED")
    create(api, order_id)
    # Correctly signed, claiming success; the customer never paid (Paytm: pending, no attempt).
    body = signed_callback(
        pg_key(merchant_credentials), callback_fields(merchant_credentials["mid"], order_id)
    )
    answer = httpx.post(f"{runtime.api_url}/v1/callbacks/pg", content=body, headers=FORM)
    assert answer.status_code == 200
    # The status API says pending (the callback showed an attempt): the payment takes that answer,
    # never the callback's success.
    view = wait_payment(api, order_id, {"PENDING"})
    assert paytm_calls(sim, order_id) == [INITIATE, STATUS]
    assert view["paid_amount"] is None
    assert transitions_to(view, "PAID") == 0
    assert "pending at Paytm" in view["history"][-1]["reason"]


# ---- rule 2: PAID only on TXN_SUCCESS for this MID, order and amount ----------------------------
def test_a_payment_is_paid_when_the_status_api_confirms_its_amount_after_the_callback(
    api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = new_order("PAID")
    created = create(api, order_id, "249.50")
    assert created["checkout"]["txn_token"]
    checkout(sim, order_id, "SUCCESS", mode="CC")
    view = wait_payment(api, order_id, {"PAID"})
    assert view["paid_amount"] == "249.50"
    assert view["payment_mode"] == "CC"
    assert view["paytm_txn_id"]
    # Tijori initiated once, and asked the status API before believing the callback.
    assert paytm_calls(sim, order_id) == [INITIATE, STATUS]


def test_a_status_answer_for_another_amount_is_needs_review_with_the_reason_never_paid(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client, merchant_credentials: dict[str, str]
) -> None:
    order_id = new_order("MISMATCH")
    # The order id already exists at Paytm for 500.00 (made by another system of the merchant's).
    from tijori_local.sim.pg_api import initiate_body, signed_request

    body = initiate_body(
        merchant_credentials["mid"],
        order_id,
        txnAmount={"value": "500.00", "currency": "INR"},
        callbackUrl=f"{runtime.api_url}/v1/callbacks/pg",
    )
    raw = signed_request(body, pg_key(merchant_credentials))
    direct = sim.post(f"{INITIATE}?mid={merchant_credentials['mid']}&orderId={order_id}", content=raw)
    assert direct.json()["body"]["resultInfo"]["resultCode"] == "0000"
    # Tijori's payment of 100.00 under the same id: Paytm refuses the different body (2023).
    refused = api.post("/v1/payments", json=payment_body(order_id, "100.00"))
    assert refused.status_code == 502, refused.text
    assert refused.json()["paytm_code"] == "2023"
    checkout(sim, order_id, "SUCCESS")
    view = wait_payment(api, order_id, {"NEEDS_REVIEW"})
    assert "500.00 INR" in view["history"][-1]["reason"]
    assert "100.00 INR" in view["history"][-1]["reason"]
    assert view["paid_amount"] is None
    assert transitions_to(view, "PAID") == 0


# ---- rule 3: duplicates, late and out-of-order callbacks; racing writers ------------------------
def test_duplicate_late_and_out_of_order_callbacks_change_nothing_once_paid(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client, merchant_credentials: dict[str, str]
) -> None:
    order_id = new_order("DUPLICATE")
    create(api, order_id)
    for kind in ("duplicate_callback", "out_of_order_callback"):
        sim.post("/_sim/faults", json={"kind": kind, "order_id": order_id}).raise_for_status()
    checkout(sim, order_id, "SUCCESS")
    view = wait_payment(api, order_id, {"PAID"})
    # A late copy of a (stale) pending callback, correctly signed, after the payment is final.
    late = callback_fields(merchant_credentials["mid"], order_id, STATUS="TXN_PENDING", RESPCODE="402")
    body = signed_callback(pg_key(merchant_credentials), late)
    assert httpx.post(f"{runtime.api_url}/v1/callbacks/pg", content=body, headers=FORM).status_code == 200
    after = payment(api, order_id)
    assert after["status"] == "PAID"
    assert transitions_to(after, "PAID") == 1
    assert len(after["history"]) == len(view["history"]) == 2


def test_callbacks_checks_and_scheduled_runs_racing_on_one_payment_make_one_final_transition(
    runtime: LocalRuntime, api: httpx.Client, sim: httpx.Client, merchant_credentials: dict[str, str]
) -> None:
    order_id = new_order("RACE")
    create(api, order_id)
    checkout(sim, order_id, "SUCCESS")
    fields = callback_fields(merchant_credentials["mid"], order_id)

    def racer(index: int) -> Any:
        if index % 3 == 0:
            # Each a different news (TXNID differs), so none is dropped as a duplicate.
            news = {**fields, "TXNID": f"RACE{index}"}
            body = signed_callback(pg_key(merchant_credentials), news)
            return httpx.post(f"{runtime.api_url}/v1/callbacks/pg", content=body, headers=FORM).status_code
        if index % 3 == 1:
            return runtime.invoke("StatusPollerFunction", {"kind": "payment", "id": order_id})
        return runtime.invoke("StatusPollerFunction", {"pending_checks": {"round": 0}})

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(racer, range(12)))
    view = wait_payment(api, order_id, {"PAID"})
    assert wait_until(lambda: len(paytm_calls(sim, order_id)) >= 2)
    assert transitions_to(view, "PAID") == 1
    assert [step["to"] for step in view["history"]] == ["CREATED", "PAID"]


# ---- rule 4: CREATED, PENDING and the pending loop ----------------------------------------------
def test_an_abandoned_payment_expires_after_its_token_and_a_declined_one_fails(
    api: httpx.Client, sim: httpx.Client
) -> None:
    abandoned, declined = new_order("ABANDONED"), new_order("DECLINED")
    create(api, abandoned)
    create(api, declined)
    checkout(sim, declined, "FAILURE", mode="NB")
    assert wait_payment(api, declined, {"FAILED"})["last_status_code"] == "227"
    # No callback ever comes for the abandoned one: the pending loop asks after the 15 minutes.
    view = wait_payment(api, abandoned, {"EXPIRED"}, timeout=120)
    assert view["paid_amount"] is None
    assert INITIATE in paytm_calls(sim, abandoned)
    assert paytm_calls(sim, abandoned).count(STATUS) >= 1


def test_pending_payments_end_paid_or_failed_as_paytm_settles_them(
    api: httpx.Client, sim: httpx.Client
) -> None:
    to_pay, to_fail = new_order("PENDING-PAID"), new_order("PENDING-FAILED")
    for order_id in (to_pay, to_fail):
        create(api, order_id)
        checkout(sim, order_id, "PENDING")
        wait_payment(api, order_id, {"PENDING"})
    checkout(sim, to_pay, "SUCCESS")
    checkout(sim, to_fail, "FAILURE")
    assert wait_payment(api, to_pay, {"PAID"})["paid_amount"] == "100.00"
    assert wait_payment(api, to_fail, {"FAILED"})["paid_amount"] is None


def test_a_payment_pending_past_three_days_needs_review_and_is_still_checked_daily(
    api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = new_order("PENDING-REVIEW")
    create(api, order_id)
    checkout(sim, order_id, "PENDING")
    wait_payment(api, order_id, {"PENDING"})
    sim.post("/_sim/clock/advance", json={"seconds": 3 * 86_400 + 3_600}).raise_for_status()
    view = wait_payment(api, order_id, {"NEEDS_REVIEW"})
    assert "3 days" in view["history"][-1]["reason"]
    checks_then = paytm_calls(sim, order_id).count(STATUS)
    assert checks_then <= 12  # seed 002: 10 times over 3 days (+ the callback's, + the deadline's)
    checkout(sim, order_id, "SUCCESS")
    sim.post("/_sim/clock/advance", json={"seconds": 86_400 + 600}).raise_for_status()
    assert wait_payment(api, order_id, {"PAID"})["paid_amount"] == "100.00"


# ---- rule 5: the customer's browser goes back to the merchant with the order id only -------------
def test_the_customers_browser_is_sent_to_return_url_with_only_the_order_id(
    runtime: LocalRuntime, api: httpx.Client, merchant_credentials: dict[str, str]
) -> None:
    order_id = new_order("RETURN")
    create(api, order_id, return_url="https://shop.example/thanks?lang=hi")
    body = signed_callback(
        pg_key(merchant_credentials), callback_fields(merchant_credentials["mid"], order_id)
    )
    answer = httpx.post(f"{runtime.api_url}/v1/callbacks/pg", content=body, headers=FORM)
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example", "/thanks")
    assert parse_qs(location.query) == {"lang": ["hi"], "order_id": [order_id]}


# ---- rule 6: refunds with the payout rules --------------------------------------------------------
def test_a_refund_whose_answer_is_lost_is_checked_with_the_refund_status_api_and_never_sent_twice(
    api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = paid(api, sim, "REFUND-TIMEOUT")
    sim.post(
        "/_sim/faults",
        json={"kind": "timeout_after_commit", "path": REFUND, "order_id": order_id, "delay_seconds": 15},
    ).raise_for_status()
    accepted = post_refund(api, order_id, f"{order_id}-R1", "40.00")
    assert accepted.status_code == 202, accepted.text
    view = wait_refund(api, order_id, f"{order_id}-R1", {"SUCCESS"})
    assert view["paytm_refund_id"]
    calls = paytm_calls(sim, order_id)
    assert calls.count(REFUND) == 1
    assert calls.index(REFUND_STATUS) > calls.index(REFUND)
    after = payment(api, order_id)
    assert (after["refunded_amount"], after["refundable_amount"]) == ("40.00", "60.00")


def test_ten_concurrent_refunds_never_exceed_the_paid_amount_and_the_refused_send_nothing(
    api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = paid(api, sim, "REFUND-RACE")

    def refund(index: int) -> int:
        body = {"refund_id": f"{order_id}-C{index}", "amount": "30.00"}
        return api.post(f"/v1/payments/{order_id}/refunds", json=body).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(refund, range(10)))
    assert sorted(codes) == [202] * 3 + [422] * 7
    accepted = [f"{order_id}-C{i}" for i, code in enumerate(codes) if code == 202]
    for refund_id in accepted:
        wait_refund(api, order_id, refund_id, {"SUCCESS"})
    assert paytm_calls(sim, order_id).count(REFUND) == 3
    view = payment(api, order_id)
    assert Decimal(view["refunded_amount"]) == Decimal("90.00") <= Decimal(view["paid_amount"])
    assert view["refundable_amount"] == "10.00"


def test_refunds_refused_by_tijori_send_nothing_to_paytm(api: httpx.Client, sim: httpx.Client) -> None:
    unpaid = new_order("REFUND-UNPAID")
    create(api, unpaid)
    refused = post_refund(api, unpaid, f"{unpaid}-R", "10.00")
    assert refused.status_code == 409
    assert "CREATED" in refused.json()["message"]
    order_id = paid(api, sim, "REFUND-RULES")
    first = post_refund(api, order_id, f"{order_id}-R", "10.00")
    assert first.status_code == 202
    replay = post_refund(api, order_id, f"{order_id}-R", "10.00")
    assert replay.status_code == 202
    assert replay.json()["created_at"] == first.json()["created_at"]
    other_body = post_refund(api, order_id, f"{order_id}-R", "11.00")
    assert other_body.status_code == 409
    assert other_body.json()["conflicting_fields"] == ["amount"]
    other_payment = paid(api, sim, "REFUND-RULES-2")
    reused = post_refund(api, other_payment, f"{order_id}-R", "1.00")
    assert reused.status_code == 409
    over = post_refund(api, order_id, f"{order_id}-BIG", "95.00")
    assert over.status_code == 422
    assert over.json()["detail"][0]["field"] == "amount"
    wait_refund(api, order_id, f"{order_id}-R", {"SUCCESS"})
    assert paytm_calls(sim, unpaid).count(REFUND) == 0
    assert paytm_calls(sim, order_id).count(REFUND) == 1
    assert paytm_calls(sim, other_payment).count(REFUND) == 0


def test_a_payment_replayed_with_the_same_body_answers_the_stored_payment_and_another_body_is_409(
    api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = new_order("REPLAY")
    first = create(api, order_id)
    again = create(api, order_id)
    assert again["checkout"]["txn_token"] == first["checkout"]["txn_token"]
    conflict = api.post("/v1/payments", json=payment_body(order_id, "101.00"))
    assert conflict.status_code == 409
    assert conflict.json()["conflicting_fields"] == ["amount"]
    assert paytm_calls(sim, order_id) == [INITIATE]
    unknown = api.post("/v1/payments", json={**payment_body(new_order("X")), "tip": "1"})
    assert unknown.status_code == 422
    assert json.dumps(unknown.json()).count("tip") >= 1


def test_a_pending_refund_is_settled_by_the_pending_loop_and_a_failed_one_frees_its_amount(
    api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = paid(api, sim, "REFUND-PENDING")
    pending_id, failing_id = f"{order_id}-P", f"{order_id}-F"
    for refund_id in (pending_id, failing_id):
        sim.post(f"/_sim/pg/refunds/{refund_id}/script", json={"outcome": "PENDING"}).raise_for_status()
    assert post_refund(api, order_id, pending_id, "30.00").status_code == 202
    assert post_refund(api, order_id, failing_id, "50.00").status_code == 202
    for refund_id in (pending_id, failing_id):
        wait_refund(api, order_id, refund_id, {"PENDING"})
    # Both hold their amounts: 20.00 is all that can still be refunded.
    assert payment(api, order_id)["refundable_amount"] == "20.00"
    assert post_refund(api, order_id, f"{order_id}-X", "25.00").status_code == 422
    sim.post(f"/_sim/pg/refunds/{pending_id}/settle", json={"outcome": "SUCCESS"}).raise_for_status()
    sim.post(f"/_sim/pg/refunds/{failing_id}/settle", json={"outcome": "FAILURE"}).raise_for_status()
    assert wait_refund(api, order_id, pending_id, {"SUCCESS"})["paytm_refund_id"]
    assert wait_refund(api, order_id, failing_id, {"FAILED"})["paytm_refund_id"] is None
    view = payment(api, order_id)
    assert (view["refunded_amount"], view["refundable_amount"]) == ("30.00", "70.00")
    # The pending loop asked the Refund Status API; the refunds themselves were sent once each.
    calls = paytm_calls(sim, order_id)
    assert calls.count(REFUND) == 2
    assert calls.count(REFUND_STATUS) >= 2


def test_tijori_reads_paytms_pending_spelling_as_pending_end_to_end(
    merchant_credentials: dict[str, str],
) -> None:
    """The module's simulator says TXN_PENDING (seed 002); this one says PENDING (Paytm's docs)."""
    options = RuntimeOptions(
        api_port=0,
        credentials=merchant_credentials,
        time_scale=60,
        api_token=TOKEN,
        pg_pending_status="PENDING",
    )
    with LocalRuntime(options) as runtime:
        api = httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        sim = httpx.Client(base_url=str(runtime.sim_url), timeout=60)
        order_id = new_order("PENDING-LITERAL")
        create(api, order_id)
        checkout(sim, order_id, "PENDING")
        assert sim.get(f"/_sim/orders/{order_id}").json()["status"] == "PENDING"
        assert wait_payment(api, order_id, {"PENDING"})["status"] == "PENDING"
        checkout(sim, order_id, "SUCCESS")
        assert wait_payment(api, order_id, {"PAID"})["paid_amount"] == "100.00"
        refund_id = f"{order_id}-R"
        sim.post(f"/_sim/pg/refunds/{refund_id}/script", json={"outcome": "PENDING"}).raise_for_status()
        assert post_refund(api, order_id, refund_id, "10.00").status_code == 202
        wait_refund(api, order_id, refund_id, {"PENDING"})
        sim.post(f"/_sim/pg/refunds/{refund_id}/settle", json={"outcome": "SUCCESS"}).raise_for_status()
        wait_refund(api, order_id, refund_id, {"SUCCESS"})
