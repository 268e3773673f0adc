"""Auto-debit (seed 002) end to end: wallet links by OTP, balance, add money, charges and their
refunds, on the local runtime with real HTTP, checksums and KMS (moto) between Tijori and the
simulator. Each test names the rule of issue 13 it proves (README, "Auto-debit"), and asserts what
Tijori asked Paytm (the simulator's request log) and what moved (its ledger)."""

from __future__ import annotations

import io
import itertools
import logging
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import httpx
import pytest

from tijori_local.demo_autodebit import (
    DIRECT_PAY,
    STATUS,
    add_money,
    ask_link,
    charge,
    end_sessions,
    latest_otp,
    ledger,
    link_wallet,
    open_form,
    paytm_calls,
    wait_payment,
    withdrawn,
)
from tijori_local.runtime import LocalRuntime, RuntimeOptions

pytestmark = pytest.mark.e2e
TOKEN = "e2e-autodebit-token"
FINAL = {"PAID", "FAILED", "NEEDS_REVIEW"}
_phones = itertools.count(8_200_000_000)
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def runtime(merchant_credentials: dict[str, Any]) -> Iterator[LocalRuntime]:
    options = RuntimeOptions(api_port=0, credentials=merchant_credentials, time_scale=60, api_token=TOKEN)
    with LocalRuntime(options) as started:
        yield started


@pytest.fixture
def api(runtime: LocalRuntime) -> httpx.Client:
    return httpx.Client(base_url=runtime.api_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)


@pytest.fixture
def sim(runtime: LocalRuntime) -> httpx.Client:
    return httpx.Client(base_url=str(runtime.sim_url), timeout=60)


def customer(sim: httpx.Client, balance: str = "1000.00") -> str:
    phone = str(next(_phones))
    sim.post("/_sim/users", json={"phone": phone, "balance": balance, "kyc": True}).raise_for_status()
    return phone


def new_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):04d}"


def linked(api: httpx.Client, sim: httpx.Client, balance: str = "1000.00") -> tuple[str, str]:
    link_id, phone = new_id("L"), customer(sim, balance)
    view = link_wallet(api, sim, link_id, phone)
    assert view["status"] == "LINKED"
    return link_id, phone


def tokens_of(sim: httpx.Client, phone: str) -> list[str]:
    answer = sim.get("/_sim/autodebit/tokens", params={"phone": phone})
    answer.raise_for_status()
    return [str(token["token"]) for token in answer.json()]


def settled_charge(api: httpx.Client, link_id: str, amount: str) -> dict[str, Any]:
    order_id = new_id("C")
    accepted = charge(api, order_id, link_id, amount)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "ACCEPTED"
    return wait_payment(api, order_id, FINAL)


# ---- linking ---------------------------------------------------------------------------------
def test_a_wallet_links_by_the_otp_sent_to_the_phone_and_the_link_shows_no_token_or_state(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, phone = new_id("L"), customer(sim)
    asked = ask_link(api, link_id, phone)
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "OTP_SENT"
    assert asked.json()["phone"] == "*" * 8 + phone[-2:]
    assert "state" not in asked.text
    sms = sim.get("/_sim/autodebit/sms", params={"phone": phone}).json()
    replay = ask_link(api, link_id, phone)
    assert replay.status_code == 200
    assert replay.json()["status"] == "OTP_SENT"
    assert sim.get("/_sim/autodebit/sms", params={"phone": phone}).json() == sms  # nothing sent again
    other = ask_link(api, link_id, customer(sim))
    assert other.status_code == 409
    assert other.json()["conflicting_fields"] == ["phone"]
    verified = api.post(f"/v1/wallet-links/{link_id}/otp", json={"otp": latest_otp(sim, phone)})
    assert verified.status_code == 200, verified.text
    view = verified.json()
    assert view["status"] == "LINKED"
    assert view["token_expires_at"]
    for token in tokens_of(sim, phone):
        assert token not in verified.text


def test_a_wrong_otp_is_422_naming_paytms_code_and_the_right_one_then_links(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, phone = new_id("L"), customer(sim)
    assert ask_link(api, link_id, phone).status_code == 201
    right = latest_otp(sim, phone)
    wrong = api.post(f"/v1/wallet-links/{link_id}/otp", json={"otp": f"{(int(right) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 422
    assert wrong.json()["paytm_code"] == "403"
    assert wrong.json()["detail"][0]["field"] == "otp"
    assert wrong.json()["link"]["otp_attempts_left"] == 4
    assert api.post(f"/v1/wallet-links/{link_id}/otp", json={"otp": right}).json()["status"] == "LINKED"


def test_five_wrong_otps_fail_the_link_and_a_new_link_is_needed(api: httpx.Client, sim: httpx.Client) -> None:
    link_id, phone = new_id("L"), customer(sim)
    assert ask_link(api, link_id, phone).status_code == 201
    right = latest_otp(sim, phone)
    for attempt in range(5):
        wrong = api.post(
            f"/v1/wallet-links/{link_id}/otp", json={"otp": f"{(int(right) + 1 + attempt) % 1_000_000:06d}"}
        )
        assert wrong.status_code == 422
    assert wrong.json()["link"]["status"] == "FAILED"
    late = api.post(f"/v1/wallet-links/{link_id}/otp", json={"otp": right})
    assert late.status_code == 409
    assert api.get(f"/v1/wallet-links/{link_id}").json()["status"] == "FAILED"


# ---- rule 5: bounded per phone -------------------------------------------------------------------
def test_rule5_link_creation_is_bounded_per_phone_with_a_clear_429_and_no_otp_sent(
    api: httpx.Client, sim: httpx.Client
) -> None:
    phone = customer(sim)
    for _ in range(5):
        assert ask_link(api, new_id("R"), phone).status_code == 201
    sent_before = latest_otp(sim, phone)
    refused = ask_link(api, new_id("R"), phone)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "too many new wallet links" in refused.json()["message"]
    assert latest_otp(sim, phone) == sent_before  # no sixth OTP reached the phone


def test_rule5_otp_attempts_are_bounded_per_phone_across_links(api: httpx.Client, sim: httpx.Client) -> None:
    phone = customer(sim)
    links = [new_id("O") for _ in range(3)]
    answers = []
    for link_id in links:
        assert ask_link(api, link_id, phone).status_code == 201
        right = latest_otp(sim, phone)
        for attempt in range(5):
            otp = f"{(int(right) + 1 + attempt) % 1_000_000:06d}"
            answers.append(api.post(f"/v1/wallet-links/{link_id}/otp", json={"otp": otp}).status_code)
    assert answers[:10] == [422] * 10
    assert set(answers[10:]) == {429}
    assert api.get(f"/v1/wallet-links/{links[2]}").json()["status"] == "OTP_SENT"


# ---- balance and add money --------------------------------------------------------------------
def test_balance_short_names_what_to_add_and_add_money_then_covers_the_charge(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, _ = linked(api, sim, balance="100.00")
    short = api.get(f"/v1/wallet-links/{link_id}/balance", params={"amount": "400.00"}).json()
    assert short == {
        "link_id": link_id,
        "amount": "400.00",
        "funds_sufficient": False,
        "add_money_allowed": True,
        "add_money_amount": "300.00",
    }
    order_id = new_id("AM")
    added = add_money(api, sim, link_id, order_id, "300.00")
    assert added["status"] == "PAID"
    assert added["method"] == {"type": "add_money", "link_id": link_id}
    assert api.get(f"/v1/wallet-links/{link_id}/balance", params={"amount": "400.00"}).json()[
        "funds_sufficient"
    ]
    paid = settled_charge(api, link_id, "400.00")
    assert paid["status"] == "PAID"
    assert (
        api.post(
            f"/v1/payments/{order_id}/refunds", json={"refund_id": new_id("R"), "amount": "1.00"}
        ).status_code
        == 409
    )


def test_the_add_money_form_is_served_once_uncached_and_only_to_whoever_holds_the_url(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, phone = linked(api, sim)
    issued = api.post(
        f"/v1/wallet-links/{link_id}/add-money", json={"order_id": new_id("AM"), "amount": "50.00"}
    )
    assert issued.status_code == 201
    for token in tokens_of(sim, phone):
        assert token not in issued.text
    page, action, fields = open_form(issued.json()["form_url"])
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "form-action" in page.headers["content-security-policy"]
    assert fields["REQUEST_TYPE"] == "ADD_MONEY"
    assert fields["SSO_TOKEN"] in tokens_of(sim, phone)
    assert action is not None
    assert action.endswith("/theia/processTransaction")
    again, _, _ = open_form(issued.json()["form_url"])
    assert again.status_code == 410


# ---- rule 2: a charge is at most once ------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "directpays"),
    [
        ({"kind": "timeout_after_commit", "delay_seconds": 12}, 1),
        ({"kind": "http_500", "commit": True}, 1),
        ({"kind": "http_500", "commit": False}, 2),
        ({"kind": "non_json", "commit": True}, 1),
    ],
    ids=["answer-lost-after-debit", "500-after-debit", "500-before-paytm-took-it", "non-json-after-debit"],
)
def test_rule2_an_ambiguous_directpay_goes_to_the_status_api_before_any_resend_and_debits_once(
    api: httpx.Client, sim: httpx.Client, fault: dict[str, Any], directpays: int
) -> None:
    link_id, _ = linked(api, sim)
    order_id = new_id("C")
    sim.post("/_sim/faults", json={**fault, "path": DIRECT_PAY, "order_id": order_id}).raise_for_status()
    assert charge(api, order_id, link_id, "99.00").status_code == 202
    view = wait_payment(api, order_id, FINAL, timeout=90)
    assert view["status"] == "PAID"
    assert view["paid_amount"] == "99.00"
    calls = paytm_calls(sim, order_id)
    assert calls.count(DIRECT_PAY) == directpays
    first_status = calls.index(STATUS)
    assert calls[:first_status] == [DIRECT_PAY]  # the status API was asked before any resend
    assert withdrawn(sim, order_id) == Decimal("99.00")


def test_rule2_a_repeated_charge_request_and_a_redelivered_message_send_once(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, _ = linked(api, sim)
    order_id = new_id("C")
    assert charge(api, order_id, link_id, "10.00").status_code == 202
    assert charge(api, order_id, link_id, "10.00").status_code == 202
    assert charge(api, order_id, link_id, "11.00").status_code == 409
    assert wait_payment(api, order_id, FINAL)["status"] == "PAID"
    assert paytm_calls(sim, order_id).count(DIRECT_PAY) == 1
    assert withdrawn(sim, order_id) == Decimal("10.00")


def test_rule2_txn_success_for_another_amount_is_needs_review_never_paid(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, _ = linked(api, sim)
    order_id = new_id("C")
    # Paytm's status record will show 1.20 for this order (the simulator's plant control).
    sim.post(f"/_sim/orders/{order_id}/plant", json={"api": "pg", "amount": "1.20"}).raise_for_status()
    assert charge(api, order_id, link_id, "120.00").status_code == 202
    view = wait_payment(api, order_id, FINAL)
    assert view["status"] == "NEEDS_REVIEW"
    assert "1.20" in view["history"][-1]["reason"]
    assert "120.00" in view["history"][-1]["reason"]
    assert "PAID" not in [step["to"] for step in view["history"]]
    assert paytm_calls(sim, order_id).count(DIRECT_PAY) == 1


def test_rule2_a_pending_charge_gets_the_pending_loop_until_paytm_settles_it(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, _ = linked(api, sim)
    order_id = new_id("C")
    sim.post(f"/_sim/orders/{order_id}/plant", json={"api": "pg", "status": "PENDING"}).raise_for_status()
    assert charge(api, order_id, link_id, "30.00").status_code == 202
    assert wait_payment(api, order_id, {"PENDING"} | FINAL)["status"] == "PENDING"
    sim.post(f"/_sim/orders/{order_id}/plant", json={"api": "pg", "status": "SUCCESS"}).raise_for_status()
    view = wait_payment(api, order_id, FINAL, timeout=90)
    assert view["status"] == "PAID"
    calls = paytm_calls(sim, order_id)
    assert calls.count(DIRECT_PAY) == 1
    assert calls.count(STATUS) >= 2  # the send's confirmation, then the pending loop's checks


# ---- rule 3: only a LINKED link is charged -------------------------------------------------------
def test_rule3_a_charge_on_a_revoked_link_is_409_and_nothing_reaches_paytm(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, phone = linked(api, sim)
    revoked = api.delete(f"/v1/wallet-links/{link_id}")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "REVOKED"
    assert api.delete(f"/v1/wallet-links/{link_id}").json()["status"] == "REVOKED"  # a no-op
    assert sim.get("/_sim/autodebit/tokens", params={"phone": phone}).json()[0]["revoked"] is True
    order_id = new_id("C")
    refused = charge(api, order_id, link_id, "10.00")
    assert refused.status_code == 409
    assert "REVOKED" in refused.json()["message"]
    assert paytm_calls(sim, order_id) == []
    assert api.get(f"/v1/payments/{order_id}").status_code == 404


def test_rule3_a_charge_on_an_unknown_link_is_409_naming_the_field(
    api: httpx.Client, sim: httpx.Client
) -> None:
    order_id = new_id("C")
    refused = charge(api, order_id, "NOSUCHLINK", "10.00")
    assert refused.status_code == 409
    assert refused.json()["detail"][0]["field"] == "method.link_id"
    assert paytm_calls(sim, order_id) == []


def test_rule3_a_token_paytm_rejects_fails_the_charge_unpaid_and_expires_the_link(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, phone = linked(api, sim)
    end_sessions(sim, phone)
    view = settled_charge(api, link_id, "25.00")
    assert view["status"] == "FAILED"
    assert "rejected the wallet token" in view["history"][-1]["reason"]
    assert withdrawn(sim, view["order_id"]) == Decimal("0")
    link = api.get(f"/v1/wallet-links/{link_id}").json()
    assert link["status"] == "EXPIRED"
    assert charge(api, new_id("C"), link_id, "25.00").status_code == 409


def test_verify_true_marks_a_link_expired_when_paytm_no_longer_knows_the_token(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, phone = linked(api, sim)
    assert api.get(f"/v1/wallet-links/{link_id}", params={"verify": "true"}).json()["status"] == "LINKED"
    end_sessions(sim, phone)
    assert api.get(f"/v1/wallet-links/{link_id}").json()["status"] == "LINKED"
    assert api.get(f"/v1/wallet-links/{link_id}", params={"verify": "true"}).json()["status"] == "EXPIRED"


# ---- rule 4: insufficient balance ----------------------------------------------------------------
def test_rule4_an_insufficient_balance_fails_with_paytms_code_and_says_add_money(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, _ = linked(api, sim, balance="50.00")
    view = settled_charge(api, link_id, "400.00")
    assert view["status"] == "FAILED"
    assert view["last_status_code"] == "235"
    assert "add money" in view["history"][-1]["reason"]
    assert f"/v1/wallet-links/{link_id}/add-money" in view["history"][-1]["reason"]
    assert withdrawn(sim, view["order_id"]) == Decimal("0")


# ---- refunds of charges --------------------------------------------------------------------------
def test_partial_refunds_of_a_charge_go_back_to_the_customers_wallet(
    api: httpx.Client, sim: httpx.Client
) -> None:
    link_id, _ = linked(api, sim)
    view = settled_charge(api, link_id, "200.00")
    order_id = view["order_id"]
    for refund_id, amount in ((new_id("R"), "50.00"), (new_id("R"), "25.50")):
        answer = api.post(f"/v1/payments/{order_id}/refunds", json={"refund_id": refund_id, "amount": amount})
        assert answer.status_code == 202, answer.text
    over = api.post(f"/v1/payments/{order_id}/refunds", json={"refund_id": new_id("R"), "amount": "150.00"})
    assert over.status_code == 422

    def refunded() -> str:
        return str(api.get(f"/v1/payments/{order_id}").json()["refunded_amount"])

    deadline = time.monotonic() + 60
    while refunded() != "75.50" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert refunded() == "75.50"
    back = sum(
        (Decimal(str(e["amount"])) for e in ledger(sim, order_id) if e["kind"] != "withdraw"), Decimal(0)
    )
    assert back == Decimal("75.50")


# ---- rule 1: the token is never stored in clear, shown, logged or kept after revoke --------------
def test_rule1_the_token_is_in_no_table_answer_or_log_line_and_its_seal_is_gone_after_revoke(
    api: httpx.Client, sim: httpx.Client, runtime: LocalRuntime, capfd: pytest.CaptureFixture[str]
) -> None:
    # Every line the functions log, as CloudWatch would get it (the service logger's own format).
    service_logger = logging.getLogger("tijori")
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(service_logger.handlers[0].formatter)
    service_logger.addHandler(handler)
    try:
        link_id, phone = linked(api, sim, balance="100.00")
        answers = [api.get(f"/v1/wallet-links/{link_id}").text]
        answers.append(api.get(f"/v1/wallet-links/{link_id}/balance", params={"amount": "300.00"}).text)
        answers.append(str(add_money(api, sim, link_id, new_id("AM"), "200.00")))
        answers.append(str(settled_charge(api, link_id, "250.00")))
        answers.append(api.delete(f"/v1/wallet-links/{link_id}").text)
    finally:
        service_logger.removeHandler(handler)
    (token,) = tokens_of(sim, phone)
    dynamodb = boto3.resource("dynamodb", endpoint_url=runtime.aws_endpoint_url, region_name="ap-south-1")
    tables = [t for t in dynamodb.tables.all() if "WalletLinks" in t.name or "Payments" in t.name]
    stored = str([t.scan()["Items"] for t in tables])
    assert link_id in stored
    assert token not in stored
    links_table = next(t.name for t in tables if "WalletLinks" in t.name)
    link_item = dynamodb.Table(links_table).get_item(Key={"link_id": link_id})["Item"]
    assert "sealed_token" not in link_item
    assert link_item["status"] == "REVOKED"
    logged = sink.getvalue() + "".join(capfd.readouterr())
    assert f'"correlation_id":"{link_id}"' in logged  # the functions did log this link's requests
    assert token not in logged
    for answer in answers:
        assert token not in answer
