"""Every PG / auto-debit API accepts a correctly signed request in every content type its seed shows.

Seed 002 puts `JsonData` in the query string (the directPay and getTxnStatus samples,
`?JsonData={...}`), in a form field (the withdraw curl, `--data-urlencode 'JsonData=...'`, and the
tables' "passed as JSON string in JsonData parameter name"), and the add-money request is an HTML
form post; check balance and the linking APIs are JSON. Seed 004 is JSON. The raw JSON body the
simulator also accepts for the JsonData APIs is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest

from paytm_signing import generate_signature
from tijori_local.sim.autodebit_api import signed_consult_request
from tijori_local.sim.client import SimClient
from tijori_local.sim.pg_api import initiate_body, signed_json_data, signed_request
from tijori_local.sim.wire import loads

DIRECT_PAY = "/order/directPay"
WITHDRAW_SCW = "/pgplus-paymentservices/HANDLER_FF/withdrawScw"
STATUS_PATHS = ("/merchant-status/getTxnStatus", "/theia/HANDLER_INTERNAL/getTxnStatus")
REFUND = "/refund/HANDLER_INTERNAL/REFUND"
REFUND_STATUS = "/refund/HANDLER_INTERNAL/getRefundStatus"

# How a JsonData value travels.
QUERY_GET = "query-string GET"
QUERY_POST = "query-string POST"
FORM = "form field"
FORM_CHARSET = "form field, charset in the content type"
RAW_JSON = "raw JSON body"


def send_json_data(client: SimClient, path: str, value: str, transport: str) -> httpx.Response:
    if transport == QUERY_GET:
        return client.http.get(path, params={"JsonData": value})
    if transport == QUERY_POST:
        return client.http.post(path, params={"JsonData": value})
    if transport == FORM:
        return client.http.post(path, data={"JsonData": value})
    if transport == FORM_CHARSET:
        return client.http.post(
            path,
            content=urlencode({"JsonData": value}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        )
    assert transport == RAW_JSON
    return client.http.post(path, content=value.encode(), headers={"Content-Type": "application/json"})


def paid_order(client: SimClient, order_id: str, amount: str = "100.00") -> str:
    body = initiate_body(client.credentials.mid, order_id, txnAmount={"value": amount, "currency": "INR"})
    client.http.post(
        "/theia/api/v1/initiateTransaction",
        params={"mid": client.credentials.mid, "orderId": order_id},
        content=signed_request(body, client.pg_key),
    )
    return str(client.control("POST", f"pg/checkout/{order_id}", {"outcome": "SUCCESS"})["txnId"])


def live_token(client: SimClient, balance: str = "100.00") -> str:
    return str(
        client.control("POST", "autodebit/token", {"phone": "9000000001", "balance": balance})["token"]
    )


def withdraw_data(client: SimClient, *, curl_names: bool = False) -> dict[str, Any]:
    """The withdraw table's fields; with `curl_names`, the seed's withdraw curl's spelling
    (`CustomerId`, and its `PREAUTH_ID`)."""
    data: dict[str, Any] = {
        "ReqType": "WITHDRAW",
        "MID": client.credentials.mid,
        "AppIP": "127.0.0.1",
        "TxnAmount": "1.00",
        "OrderId": "CT-WD",
        "Currency": "INR",
        "DeviceId": "9999999999",
        "SSOToken": live_token(client),
        "PaymentMode": "PPI",
        "IndustryType": "Retail",
        "Channel": "WAP",
        "AuthMode": "USRPWD",
    }
    if curl_names:
        data |= {"PREAUTH_ID": "", "CustomerId": "20235"}
    else:
        data["CustId"] = "20235"
    return data


Accepted = Callable[[SimClient], bool]


def withdraw_case(path: str, transport: str, *, curl_names: bool = False) -> Accepted:
    def run(client: SimClient) -> bool:
        value = signed_json_data(withdraw_data(client, curl_names=curl_names), client.pg_key, "CheckSum")
        answer = loads(send_json_data(client, path, value, transport).content)
        return bool(answer["ResponseCode"] == "01" and answer["Status"] == "TXN_SUCCESS")

    return run


def status_case(path: str, transport: str) -> Accepted:
    def run(client: SimClient) -> bool:
        paid_order(client, "CT-ST")
        value = signed_json_data({"MID": client.credentials.mid, "ORDERID": "CT-ST"}, client.pg_key)
        answer = loads(send_json_data(client, path, value, transport).content)
        return bool(answer["STATUS"] == "TXN_SUCCESS" and answer["RESPCODE"] == "01")

    return run


def refund_data(client: SimClient, txn_id: str) -> dict[str, Any]:
    return {
        "MID": client.credentials.mid,
        "TXNID": txn_id,
        "ORDERID": "CT-RF",
        "REFUNDAMOUNT": "1.00",
        "TXNTYPE": "REFUND",
        "REFID": "CT-REF",
    }


def refund_case(transport: str) -> Accepted:
    def run(client: SimClient) -> bool:
        value = signed_json_data(refund_data(client, paid_order(client, "CT-RF")), client.pg_key, "CHECKSUM")
        answer = loads(send_json_data(client, REFUND, value, transport).content)
        return bool(answer["RESPCODE"] == "10" and answer["STATUS"] == "TXN_SUCCESS")

    return run


def refund_status_case(transport: str) -> Accepted:
    def run(client: SimClient) -> bool:
        refund = signed_json_data(refund_data(client, paid_order(client, "CT-RF")), client.pg_key, "CHECKSUM")
        send_json_data(client, REFUND, refund, FORM)
        data = {"MID": client.credentials.mid, "ORDERID": "CT-RF", "REFID": "CT-REF"}
        answer = loads(
            send_json_data(client, REFUND_STATUS, signed_json_data(data, client.pg_key), transport).content
        )
        return bool(answer["RESPCODE"] == "10" and answer["STATUS"] == "TXN_SUCCESS")

    return run


def initiate_json(client: SimClient) -> bool:
    body = initiate_body(client.credentials.mid, "CT-PG")
    response = client.http.post(
        "/theia/api/v1/initiateTransaction",
        params={"mid": client.credentials.mid, "orderId": "CT-PG"},
        content=signed_request(body, client.pg_key),
        headers={"Content-Type": "application/json"},
    )
    return bool(loads(response.content)["body"]["resultInfo"]["resultCode"] == "0000")


def consult_json(client: SimClient) -> bool:
    body = {"userToken": live_token(client), "totalAmount": "1.00"}
    response = client.http.post(
        "/paymentservices/pay/consult",
        content=signed_consult_request(body, client.pg_key),
        headers={"Content-Type": "application/json"},
    )
    return bool(loads(response.content)["body"]["resultInfo"]["resultCode"] == "CS_0000")


def add_money_form(client: SimClient) -> bool:
    form = {
        "REQUEST_TYPE": "ADD_MONEY",
        "MID": client.credentials.mid,
        "ORDER_ID": "CT-AM",
        "CUST_ID": "CUST_001",
        "TXN_AMOUNT": "5.00",
        "CHANNEL_ID": "WEB",
        "INDUSTRY_TYPE_ID": "Retail",
        "WEBSITE": "WEBSTAGING",
        "SSO_TOKEN": live_token(client),
    }
    form["CHECKSUMHASH"] = generate_signature(form, client.pg_key)
    page = client.http.post("/theia/processTransaction", data=form).text  # an HTML form post
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    return hidden.get("STATUS") == "TXN_PENDING"


# (API path, content type) -> the case; the comment says where the seed shows it.
CASES: dict[tuple[str, str], Accepted] = {
    # seed 004: every sample posts JSON
    ("/theia/api/v1/initiateTransaction", "application/json"): initiate_json,
    # seed 002, check balance: JSON sample request
    ("/paymentservices/pay/consult", "application/json"): consult_json,
    # seed 002, add money: "Create an HTML form and redirect user to Paytm"
    ("/theia/processTransaction", FORM): add_money_form,
    # seed 002, withdraw: the sample URL (?JsonData=...), the tables' JsonData parameter, and the
    # curl's --data-urlencode 'JsonData=...' to withdrawScw (with its CustomerId)
    (DIRECT_PAY, QUERY_GET): withdraw_case(DIRECT_PAY, QUERY_GET),
    (DIRECT_PAY, QUERY_POST): withdraw_case(DIRECT_PAY, QUERY_POST),
    (DIRECT_PAY, FORM): withdraw_case(DIRECT_PAY, FORM),
    (DIRECT_PAY, FORM_CHARSET): withdraw_case(DIRECT_PAY, FORM_CHARSET),
    (DIRECT_PAY, RAW_JSON): withdraw_case(DIRECT_PAY, RAW_JSON),
    (WITHDRAW_SCW, FORM): withdraw_case(WITHDRAW_SCW, FORM, curl_names=True),
    (WITHDRAW_SCW, QUERY_GET): withdraw_case(WITHDRAW_SCW, QUERY_GET),
    # seed 002, transaction status: the sample URL (?JsonData=...) and "passed as JSON string in
    # JsonData parameter name"
    **{
        (path, transport): status_case(path, transport)
        for path in STATUS_PATHS
        for transport in (QUERY_GET, QUERY_POST, FORM, FORM_CHARSET, RAW_JSON)
    },
    # seed 002, refund and refund status: "passed as JSON string in JsonData parameter name"
    **{(REFUND, t): refund_case(t) for t in (QUERY_GET, QUERY_POST, FORM, FORM_CHARSET, RAW_JSON)},
    **{
        (REFUND_STATUS, t): refund_status_case(t)
        for t in (QUERY_GET, QUERY_POST, FORM, FORM_CHARSET, RAW_JSON)
    },
}


@pytest.mark.parametrize(("path", "content_type"), sorted(CASES), ids=lambda value: str(value))
def test_a_correctly_signed_request_is_accepted_in_each_content_type_the_seed_shows(
    client: SimClient, path: str, content_type: str
) -> None:
    assert CASES[(path, content_type)](client)


def test_a_json_data_form_body_is_read_even_without_a_form_content_type(client: SimClient) -> None:
    paid_order(client, "CT-NOCT")
    value = signed_json_data({"MID": client.credentials.mid, "ORDERID": "CT-NOCT"}, client.pg_key)

    response = client.http.post(
        STATUS_PATHS[0], content=f"JsonData={quote(value)}".encode(), headers={"Content-Type": "text/plain"}
    )

    assert loads(response.content)["STATUS"] == "TXN_SUCCESS"


def test_a_form_post_without_json_data_is_refused_not_misread(client: SimClient) -> None:
    response = client.http.post(STATUS_PATHS[0], data={"MID": client.credentials.mid, "ORDERID": "X"})

    assert (loads(response.content)["STATUS"], loads(response.content)["RESPCODE"]) == ("TXN_FAILURE", "334")
