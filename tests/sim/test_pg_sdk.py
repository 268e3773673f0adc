"""Paytm's official PG SDK for Python (`paytm-pg`), unchanged and unpatched, pointed at the simulator:
merchant code written against it creates a txn token, reads the payment status, refunds and reads the
refund status through the SDK's paths (`/order/initiate`, `/v3/order/status`, `/refund/apply`,
`/v2/refund/status`), on the same orders and refunds as the seeds' paths.

The SDK keeps its configuration in class attributes (`MerchantProperty`), so it is set up once for
this module, against one simulator; every test uses order and refund ids of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from paytmpg import (
    EChannelId,
    EnumCurrency,
    LibraryConstants,
    MerchantProperty,
    Money,
    Payment,
    PaymentDetailsBuilder,
    PaymentStatusDetailBuilder,
    Refund,
    RefundDetailBuilder,
    RefundStatusDetailBuilder,
    UserInfo,
)

from paytm_signing import MerchantCredentials, generate_signature
from tijori_local.sim.client import SimClient, example_credentials
from tijori_local.sim.pg_api import find_order, initiate_body, signed_json_data, signed_request
from tijori_local.sim.pg_sdk_api import SDK_MESSAGES, refund_result, result_status
from tijori_local.sim.server import SimServer
from tijori_local.sim.wire import loads

SDK_PATHS = {
    "initiate_txn_url": "/order/initiate",
    "payment_status_url": "/v3/order/status",
    "refund_url": "/refund/apply",
    "refund_status_url": "/v2/refund/status",
}
WRONG_KEY = "wr0ng_key_16_byt"


@contextmanager
def merchant_property(**values: Any) -> Iterator[None]:
    """Set `MerchantProperty` class attributes for a while (the SDK's configuration is global)."""
    saved = {name: getattr(MerchantProperty, name) for name in values}
    for name, value in values.items():
        setattr(MerchantProperty, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(MerchantProperty, name, value)


@contextmanager
def sdk_pointed_at(base_url: str, credentials: MerchantCredentials) -> Iterator[None]:
    """What a merchant's start-up does (`MerchantProperty.initialize`), against `base_url`.

    The SDK knows only Paytm's hosts: `set_base_url` changes `base_url` but not the four API URLs,
    which are derived from it once, when the class is defined (and again only by
    `set_environment(PROD)`). Its configuration is those four public class attributes, read
    through `get_initiate_txn_url()` and the like, so they are set here; the SDK's code is not
    touched. Everything is put back afterwards."""
    kept = (
        "is_initialized",
        "environment",
        "mid",
        "merchant_key",
        "client_id",
        "website",
        "callback_url",
        *SDK_PATHS,
    )
    with merchant_property(**{name: getattr(MerchantProperty, name) for name in kept}):
        MerchantProperty.initialize(
            LibraryConstants.STAGING_ENVIRONMENT,
            credentials.mid,
            credentials.pg.merchant_key.get_secret_value(),
            "C11",
            credentials.pg.website_name,
        )
        for attribute, path in SDK_PATHS.items():
            setattr(MerchantProperty, attribute, base_url + path)
        yield


@pytest.fixture(scope="module")
def sdk_sim() -> Iterator[SimServer]:
    credentials = example_credentials()
    with SimServer(credentials, time_scale=0) as server, sdk_pointed_at(server.url, credentials):
        yield server


@pytest.fixture(scope="module")
def sim_client(sdk_sim: SimServer) -> Iterator[SimClient]:
    client = SimClient(sdk_sim.url, example_credentials())
    yield client
    client.close()


# -- merchant code on the SDK ---------------------------------------------------------------------


def create_txn_token(order_id: str, amount: str = "100.00", cust_id: str = "CUST_001") -> Any:
    user_info = UserInfo()
    user_info.set_cust_id(cust_id)
    details = PaymentDetailsBuilder(EChannelId.WEB, order_id, Money(EnumCurrency.INR, amount), user_info)
    return Payment.createTxnToken(details.build())


def payment_status(order_id: str) -> Any:
    return Payment.getPaymentStatus(PaymentStatusDetailBuilder(order_id).build())


def refund(order_id: str, ref_id: str, txn_id: str, amount: str, comments: str | None = None) -> Any:
    details = RefundDetailBuilder(order_id, ref_id, txn_id, "REFUND", amount)
    if comments is not None:
        details.set_comments(comments)
    return Refund.doRefund(details.build())


def refund_status(order_id: str, ref_id: str) -> Any:
    return Refund.getRefundStatus(
        RefundStatusDetailBuilder().set_order_id(order_id).set_ref_id(ref_id).build()
    )


def body_of(response: Any) -> Any:
    return response.get_response_object().get_body()


def result_of(response: Any) -> tuple[str, str]:
    info = body_of(response).get_result_info()
    return str(info.get_result_status()), str(info.get_result_code())


def checkout(client: SimClient, order_id: str, outcome: str = "SUCCESS") -> dict[str, Any]:
    result: dict[str, Any] = client.control("POST", f"pg/checkout/{order_id}", {"outcome": outcome})
    return result


def paid_through_the_sdk(client: SimClient, order_id: str, amount: str = "100.00") -> str:
    """An order created with the SDK and paid at the checkout; its txnId."""
    assert result_of(create_txn_token(order_id, amount)) == ("S", "0000")
    return str(checkout(client, order_id)["txnId"])


# -- the seeds' paths ----------------------------------------------------------------------------


def seed_json_data(client: SimClient, path: str, data: dict[str, Any], field: str = "CHECKSUMHASH") -> Any:
    response = client.http.post(path, data={"JsonData": signed_json_data(data, client.pg_key, field)})
    assert response.status_code == 200
    return loads(response.content)


def seed_status(client: SimClient, order_id: str) -> Any:
    data = {"MID": client.credentials.mid, "ORDERID": order_id}
    return seed_json_data(client, "/merchant-status/getTxnStatus", data)


def seed_refund_status(client: SimClient, order_id: str, ref_id: str) -> Any:
    data = {"MID": client.credentials.mid, "ORDERID": order_id, "REFID": ref_id}
    return seed_json_data(client, "/refund/HANDLER_INTERNAL/getRefundStatus", data)


def sdk_path_post(client: SimClient, path: str, body_text: str, signature: str) -> Any:
    """A request to an SDK path as raw text: `{"head": {"signature"}, "body": <body_text>}`."""
    raw = '{"head":{"signature":"' + signature + '"},"body":' + body_text + "}"
    response = client.http.post(path, content=raw.encode(), headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    return loads(response.content)


# -- the four calls --------------------------------------------------------------------------------


def test_merchant_code_on_the_sdk_pays_reads_the_status_refunds_and_reads_the_refund_status(
    sdk_sim: SimServer, sim_client: SimClient
) -> None:
    token = create_txn_token("SDK-FLOW", "250.50")
    assert result_of(token) == ("S", "0000")
    assert len(body_of(token).get_txn_token()) == 32 + 13

    txn_id = checkout(sim_client, "SDK-FLOW")["txnId"]

    paid = payment_status("SDK-FLOW")
    assert result_of(paid) == ("TXN_SUCCESS", "01")
    status = body_of(paid)
    assert (status.get_order_id(), status.get_txn_id()) == ("SDK-FLOW", txn_id)
    assert (status.get_txn_amount(), status.get_payment_mode(), status.get_refund_amt()) == (
        "250.50",
        "CC",
        "0.00",
    )

    applied = refund("SDK-FLOW", "SDK-FLOW-R1", txn_id, "100.25")
    assert result_of(applied) == ("PENDING", "601")  # Paytm's refund API is asynchronous
    refund_id = body_of(applied).get_refund_id()
    assert refund_id

    refunded = refund_status("SDK-FLOW", "SDK-FLOW-R1")
    assert result_of(refunded) == ("TXN_SUCCESS", "10")
    found = body_of(refunded)
    assert (found.get_refund_id(), found.get_total_refunded_amount()) == (refund_id, "100.25")
    assert body_of(payment_status("SDK-FLOW")).get_refund_amt() == "100.25"
    assert sim_client.conservation()["ok"] is True


def test_repeating_create_txn_token_is_idempotent_and_a_changed_repeat_is_inconsistent(
    sdk_sim: SimServer,
) -> None:
    first = create_txn_token("SDK-IDEM")

    again = create_txn_token("SDK-IDEM")
    changed = create_txn_token("SDK-IDEM", "101.00")

    assert result_of(again) == ("S", "0002")
    assert body_of(again).get_txn_token() == body_of(first).get_txn_token()
    assert result_of(changed) == ("F", "2023")


def test_payment_status_of_an_unpaid_order_is_pending_and_the_sdk_returns_it_without_raising(
    sdk_sim: SimServer,
) -> None:
    create_txn_token("SDK-UNPAID")

    # On PENDING (as on S and TXN_SUCCESS) the SDK checks the answer's signature over the body
    # text it cuts out of the answer; had it failed, getPaymentStatus would raise (see below).
    answer = payment_status("SDK-UNPAID")

    assert result_of(answer) == ("PENDING", "402")
    assert body_of(answer).get_txn_amount() == "100.00"
    assert loads(answer.get_json_response())["body"]["resultInfo"]["resultStatus"] == "PENDING"


def test_a_failed_checkout_reads_txn_failure_in_the_sdk(sdk_sim: SimServer, sim_client: SimClient) -> None:
    create_txn_token("SDK-FAILED")
    checkout(sim_client, "SDK-FAILED", "FAILURE")

    assert result_of(payment_status("SDK-FAILED")) == ("TXN_FAILURE", "227")


# -- signatures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed_order(sim_client: SimClient) -> str:
    """A paid order (100.00) with one refund (`<order>-R1`, 1.00), made once for the module."""
    txn_id = paid_through_the_sdk(sim_client, "SDK-KEYED")
    assert result_of(refund("SDK-KEYED", "SDK-KEYED-R1", txn_id, "1.00")) == ("PENDING", "601")
    return txn_id


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda txn_id: create_txn_token("SDK-FORGED"), ("F", "2005")),
        (lambda txn_id: payment_status("SDK-KEYED"), ("TXN_FAILURE", "330")),
        (lambda txn_id: refund("SDK-KEYED", "SDK-KEYED-R2", txn_id, "1.00"), ("TXN_FAILURE", "330")),
        (lambda txn_id: refund_status("SDK-KEYED", "SDK-KEYED-R1"), ("TXN_FAILURE", "330")),
    ],
    ids=["createTxnToken", "getPaymentStatus", "doRefund", "getRefundStatus"],
)
def test_every_sdk_call_signed_with_another_key_is_refused_and_changes_nothing(
    sdk_sim: SimServer,
    sim_client: SimClient,
    keyed_order: str,
    call: Callable[[str], Any],
    expected: tuple[str, str],
) -> None:
    ledger_before = sim_client.control("GET", "ledger")

    with merchant_property(merchant_key=WRONG_KEY):
        answer = call(keyed_order)

    assert result_of(answer) == expected
    assert find_order(sdk_sim.state, "SDK-FORGED") is None
    assert sim_client.control("GET", "ledger") == ledger_before


def test_the_signature_is_checked_over_the_body_text_as_sent_so_the_sdks_spaceless_text_verifies(
    sdk_sim: SimServer, sim_client: SimClient
) -> None:
    # The SDK deletes the spaces of the body text it signs and of the body text it sends alike.
    txn_id = paid_through_the_sdk(sim_client, "SDK-SPACES")
    assert result_of(refund("SDK-SPACES", "SDK-SPACES-R1", txn_id, "1.00", comments="part refund")) == (
        "PENDING",
        "601",
    )
    order = find_order(sdk_sim.state, "SDK-SPACES")
    assert order is not None
    assert order.refunds["SDK-SPACES-R1"].comments == "partrefund"  # what the SDK put on the wire

    # Anyone else's signature must be over the text it sends, spaces included.
    spaced = '{"mid": "' + sim_client.credentials.mid + '", "orderId": "SDK-SPACES"}'
    as_sent = sdk_path_post(
        sim_client, "/v3/order/status", spaced, generate_signature(spaced, sim_client.pg_key)
    )
    stripped = sdk_path_post(
        sim_client, "/v3/order/status", spaced, generate_signature(spaced.replace(" ", ""), sim_client.pg_key)
    )

    assert as_sent["body"]["resultInfo"]["resultCode"] == "01"
    assert stripped["body"]["resultInfo"]["resultCode"] == "330"


# -- one state for both families of paths ----------------------------------------------------------


def test_an_order_made_through_the_sdk_reads_the_same_on_the_seed_status_path(
    sdk_sim: SimServer, sim_client: SimClient
) -> None:
    create_txn_token("SDK-TO-SEED", "75.00")
    assert seed_status(sim_client, "SDK-TO-SEED")["RESPCODE"] == "402"  # not paid yet

    txn_id = checkout(sim_client, "SDK-TO-SEED")["txnId"]

    seen = seed_status(sim_client, "SDK-TO-SEED")
    assert (seen["STATUS"], seen["RESPCODE"], seen["TXNID"], seen["TXNAMOUNT"]) == (
        "TXN_SUCCESS",
        "01",
        txn_id,
        "75.00",
    )


def test_an_order_made_through_the_seed_path_reads_the_same_in_the_sdk_and_repeats_idempotently(
    sdk_sim: SimServer, sim_client: SimClient
) -> None:
    mid = sim_client.credentials.mid
    body = initiate_body(
        mid, "SEED-TO-SDK", txnAmount={"value": "100.00", "currency": "INR"}, callbackUrl=None
    )
    seeded = sim_client.http.post(
        "/theia/api/v1/initiateTransaction",
        params={"mid": mid, "orderId": "SEED-TO-SDK"},
        content=signed_request(body, sim_client.pg_key),
    )
    txn_token = loads(seeded.content)["body"]["txnToken"]

    # The same order through the SDK's path: the same body, so the same token (0002).
    again = create_txn_token("SEED-TO-SDK")
    checkout(sim_client, "SEED-TO-SDK")

    assert (result_of(again), body_of(again).get_txn_token()) == (("S", "0002"), txn_token)
    assert result_of(payment_status("SEED-TO-SDK")) == ("TXN_SUCCESS", "01")


def test_a_refund_through_either_path_is_found_by_the_other_paths_refund_status(
    sdk_sim: SimServer, sim_client: SimClient
) -> None:
    txn_id = paid_through_the_sdk(sim_client, "SDK-BOTH")
    refund("SDK-BOTH", "SDK-BOTH-R1", txn_id, "30.00")
    seed_data = {
        "MID": sim_client.credentials.mid,
        "TXNID": txn_id,
        "ORDERID": "SDK-BOTH",
        "REFUNDAMOUNT": "20.00",
        "TXNTYPE": "REFUND",
        "REFID": "SDK-BOTH-R2",
    }
    assert (
        seed_json_data(sim_client, "/refund/HANDLER_INTERNAL/REFUND", seed_data, "CHECKSUM")["RESPCODE"]
        == "10"
    )

    by_seed = seed_refund_status(sim_client, "SDK-BOTH", "SDK-BOTH-R1")
    by_sdk = refund_status("SDK-BOTH", "SDK-BOTH-R2")

    assert (by_seed["RESPCODE"], by_seed["REFUNDAMOUNT"], by_seed["TOTALREFUNDAMT"]) == (
        "10",
        "30.00",
        "50.00",
    )
    assert result_of(by_sdk) == ("TXN_SUCCESS", "10")
    assert loads(by_sdk.get_json_response())["body"]["refundAmount"] == "20.00"
    assert body_of(by_sdk).get_total_refunded_amount() == "50.00"


# -- refusals --------------------------------------------------------------------------------------


def test_refunds_through_the_sdk_never_exceed_what_was_captured(
    sdk_sim: SimServer, sim_client: SimClient
) -> None:
    txn_id = paid_through_the_sdk(sim_client, "SDK-CAP", "10.00")
    assert result_of(refund("SDK-CAP", "SDK-CAP-R1", txn_id, "6.00")) == ("PENDING", "601")

    over = refund("SDK-CAP", "SDK-CAP-R2", txn_id, "4.01")
    rest = refund("SDK-CAP", "SDK-CAP-R3", txn_id, "4.00")
    beyond = refund("SDK-CAP", "SDK-CAP-R4", txn_id, "0.01")

    assert [result_of(r) for r in (over, rest, beyond)] == [
        ("TXN_FAILURE", "619"),
        ("PENDING", "601"),
        ("TXN_FAILURE", "619"),
    ]
    assert body_of(payment_status("SDK-CAP")).get_refund_amt() == "10.00"
    assert sim_client.conservation()["ok"] is True


Case = Callable[[SimClient], tuple[str, str]]


def _sdk(call: Callable[[], Any]) -> Case:
    return lambda client: result_of(call())


def _unpaid(client: SimClient) -> tuple[str, str]:
    create_txn_token("SDK-R-UNPAID")
    txn_id = body_of(payment_status("SDK-R-UNPAID")).get_txn_id()
    return result_of(refund("SDK-R-UNPAID", "SDK-R-UNPAID-R1", txn_id, "1.00"))


def _ref_id_used(client: SimClient) -> tuple[str, str]:
    txn_id = paid_through_the_sdk(client, "SDK-R-TWICE")
    refund("SDK-R-TWICE", "SDK-R-TWICE-R1", txn_id, "1.00")
    return result_of(refund("SDK-R-TWICE", "SDK-R-TWICE-R1", txn_id, "1.00"))


def _other_txn_id(client: SimClient) -> tuple[str, str]:
    paid_through_the_sdk(client, "SDK-R-TXN")
    return result_of(refund("SDK-R-TXN", "SDK-R-TXN-R1", "42", "1.00"))


def _other_mid(call: Callable[[], Any]) -> Case:
    def run(client: SimClient) -> tuple[str, str]:
        with merchant_property(mid="OTHERMID0000000001"):
            return result_of(call())

    return run


def _not_json(path: str) -> Case:
    def run(client: SimClient) -> tuple[str, str]:
        answer = loads(client.http.post(path, content=b"not json").content)["body"]["resultInfo"]
        return str(answer["resultStatus"]), str(answer["resultCode"])

    return run


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (_sdk(lambda: payment_status("SDK-NO-SUCH-ORDER")), ("TXN_FAILURE", "334")),
        (_other_mid(lambda: payment_status("SDK-NO-SUCH-ORDER")), ("TXN_FAILURE", "335")),
        (_not_json("/v3/order/status"), ("TXN_FAILURE", "1001")),
        (_sdk(lambda: refund("SDK-NO-SUCH-ORDER", "SDK-R-X1", "1", "1.00")), ("TXN_FAILURE", "334")),
        (_unpaid, ("TXN_FAILURE", "600")),
        (_ref_id_used, ("TXN_FAILURE", "617")),
        (_other_txn_id, ("TXN_FAILURE", "627")),
        (_not_json("/refund/apply"), ("TXN_FAILURE", "1001")),
        (_sdk(lambda: refund_status("SDK-NO-SUCH-ORDER", "SDK-R-X1")), ("TXN_FAILURE", "631")),
        (_other_mid(lambda: refund_status("SDK-KEYED", "SDK-KEYED-R1")), ("TXN_FAILURE", "631")),
        (_not_json("/v2/refund/status"), ("TXN_FAILURE", "1001")),
    ],
    ids=[
        "status-unknown-order",
        "status-other-mid",
        "status-not-json",
        "refund-unknown-order",
        "refund-unpaid-order",
        "refund-refid-used",
        "refund-other-txnid",
        "refund-not-json",
        "refund-status-unknown",
        "refund-status-other-mid",
        "refund-status-not-json",
    ],
)
def test_sdk_path_refusals_answer_paytms_codes(
    sim_client: SimClient, keyed_order: str, case: Case, expected: tuple[str, str]
) -> None:
    assert case(sim_client) == expected


def test_the_sdk_paths_own_codes_have_paytms_texts(sdk_sim: SimServer, sim_client: SimClient) -> None:
    with merchant_property(mid="OTHERMID0000000001"):
        other_mid = payment_status("SDK-NO-SUCH-ORDER")
    txn_id = paid_through_the_sdk(sim_client, "SDK-TEXTS")
    applied = refund("SDK-TEXTS", "SDK-TEXTS-R1", txn_id, "1.00")
    malformed = sim_client.http.post("/v2/refund/status", content=b"[]")

    assert body_of(other_mid).get_result_info().get_result_msg() == SDK_MESSAGES["335"]
    assert body_of(applied).get_result_info().get_result_msg() == SDK_MESSAGES["601"]
    assert loads(malformed.content)["body"]["resultInfo"]["resultMsg"] == SDK_MESSAGES["1001"]


# -- faults ----------------------------------------------------------------------------------------


def test_a_fault_armed_on_an_sdk_path_hits_that_path_only(sdk_sim: SimServer, sim_client: SimClient) -> None:
    try:
        sim_client.fault("http_500", path="/theia/api/v1/initiateTransaction", order_id="SDK-FAULT")
        sim_client.fault("http_500", path="/refund/apply", order_id="SDK-FAULT")

        created = create_txn_token("SDK-FAULT")  # /order/initiate: the seed path's fault is not its own
        txn_id = checkout(sim_client, "SDK-FAULT")["txnId"]
        broken = refund("SDK-FAULT", "SDK-FAULT-R1", txn_id, "1.00")
        retried = refund("SDK-FAULT", "SDK-FAULT-R1", txn_id, "1.00")

        assert result_of(created) == ("S", "0000")
        # doRefund turns an answer that is not {head, body} JSON into a failure of its own.
        assert result_of(broken) == ("failure", "501")
        assert body_of(broken).get_result_info().get_result_msg() == "Received response body is not proper."
        assert result_of(retried) == ("PENDING", "601")  # the faulted call did nothing
        still_armed = [f["path"] for f in sim_client.control("GET", "faults")]
        assert still_armed == ["/theia/api/v1/initiateTransaction"]
    finally:
        sim_client.control("DELETE", "faults")


def test_get_payment_status_raises_on_an_answer_it_cannot_read_so_merchant_code_must_catch_it(
    sdk_sim: SimServer, sim_client: SimClient
) -> None:
    # The SDK's bug, worked with and not patched: getPaymentStatus catches the SDKException it
    # raises for an answer that is not {head, body} JSON (or whose signature fails), then fails
    # building its own failure answer (`make_string` of an empty FeeRateFactors is None): the
    # TypeError escapes to the merchant's code. The other three calls return a "failure" instead.
    create_txn_token("SDK-RAISES")
    try:
        sim_client.fault("http_500", path="/v3/order/status", order_id="SDK-RAISES")

        with pytest.raises(TypeError):
            payment_status("SDK-RAISES")

        assert result_of(payment_status("SDK-RAISES")) == ("PENDING", "402")  # the fault was used up
    finally:
        sim_client.control("DELETE", "faults")


# -- pure mappings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("TXN_SUCCESS", "TXN_SUCCESS"),
        ("TXN_FAILURE", "TXN_FAILURE"),
        ("TXN_PENDING", "PENDING"),
        ("PENDING", "PENDING"),
        ("CREATED", "PENDING"),
    ],
)
def test_an_orders_status_maps_to_the_v3_result_status(status: str, expected: str) -> None:
    assert result_status(status) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("TXN_SUCCESS", ("TXN_SUCCESS", "10")),
        ("TXN_PENDING", ("PENDING", "601")),
        ("PENDING", ("PENDING", "601")),
        ("TXN_FAILURE", ("TXN_FAILURE", "620")),
    ],
)
def test_a_refunds_status_maps_to_the_v2_refund_status_result(status: str, expected: tuple[str, str]) -> None:
    assert refund_result(status) == expected
