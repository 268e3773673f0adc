"""The params checksum (form fields and JsonData) is the official `paytmchecksum` library's, byte for
byte: values signed exactly as sent (never stripped), None and "null" as the empty string — both
when the simulator verifies a merchant's request and when it signs its own callbacks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest
from paytmchecksum import PaytmChecksum

from tijori_local.sim.client import SimClient
from tijori_local.sim.pg_api import initiate_body, signed_request
from tijori_local.sim.receiver import CallbackReceiver
from tijori_local.sim.wire import dumps, loads


def official(params: dict[str, Any], key: str) -> str:
    signature: str = PaytmChecksum.generateSignature(dict(params), key)
    return signature


def stripped(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in params.items()}


def paid_order(client: SimClient, order_id: str, amount: str = "100.00", **fields: Any) -> str:
    body = initiate_body(
        client.credentials.mid, order_id, txnAmount={"value": amount, "currency": "INR"}, **fields
    )
    client.http.post(
        "/theia/api/v1/initiateTransaction",
        params={"mid": client.credentials.mid, "orderId": order_id},
        content=signed_request(body, client.pg_key),
    )
    return str(client.control("POST", f"pg/checkout/{order_id}", {"outcome": "SUCCESS"})["txnId"])


def post_json_data(
    client: SimClient, path: str, data: dict[str, Any], field: str, signature: str
) -> dict[str, Any]:
    response = client.http.post(path, data={"JsonData": dumps({**data, field: signature}).decode()})
    result: dict[str, Any] = loads(response.content)
    return result


# Each case: (setup returning the params to sign, send(params, signature) -> (accepted?, answer)).
Setup = Callable[[SimClient], dict[str, Any]]
Send = Callable[[SimClient, dict[str, Any], str], tuple[bool, Any]]


def status_params(client: SimClient) -> dict[str, Any]:
    paid_order(client, "CK-ST")
    return {"MID": client.credentials.mid, "ORDERID": "CK-ST", "TXN_TYPE": "  WITHDRAW "}


def send_status(client: SimClient, params: dict[str, Any], signature: str) -> tuple[bool, Any]:
    answer = post_json_data(client, "/merchant-status/getTxnStatus", params, "CHECKSUMHASH", signature)
    return answer["STATUS"] == "TXN_SUCCESS" and answer["RESPCODE"] == "01", answer


def refund_params(client: SimClient) -> dict[str, Any]:
    txn_id = paid_order(client, "CK-RF")
    return {
        "MID": client.credentials.mid,
        "TXNID": txn_id,
        "ORDERID": "CK-RF",
        "REFUNDAMOUNT": "1.00",
        "TXNTYPE": "REFUND",
        "COMMENTS": "  customer changed their mind ",
        "REFID": "CK-REF-1",
    }


def send_refund(client: SimClient, params: dict[str, Any], signature: str) -> tuple[bool, Any]:
    answer = post_json_data(client, "/refund/HANDLER_INTERNAL/REFUND", params, "CHECKSUM", signature)
    return answer["RESPCODE"] == "10", answer


def refund_status_params(client: SimClient) -> dict[str, Any]:
    params = refund_params(client)
    send_refund(client, params, official(params, client.pg_key))
    # The seed's refund status takes MID, ORDERID and REFID only: the MID is the padded one here.
    return {"MID": f" {client.credentials.mid} ", "ORDERID": "CK-RF", "REFID": "CK-REF-1"}


def send_refund_status(client: SimClient, params: dict[str, Any], signature: str) -> tuple[bool, Any]:
    path = "/refund/HANDLER_INTERNAL/getRefundStatus"
    answer = post_json_data(client, path, params, "CHECKSUMHASH", signature)
    return answer["RESPCODE"] == "10", answer


def direct_pay_params(client: SimClient) -> dict[str, Any]:
    token = client.control("POST", "autodebit/token", {"phone": "9000000001", "balance": "10.00"})["token"]
    return {
        "OrderId": "CK-WD",
        "ReqType": "WITHDRAW",
        "MID": client.credentials.mid,
        "AppIP": " 127.0.0.1",
        "TxnAmount": "1.00",
        "Currency": "INR",
        "DeviceId": "9999999999 ",
        "SSOToken": token,
        "PaymentMode": "PPI",
        "CustId": "20235",
        "IndustryType": "Retail",
        "Channel": "WAP",
        "AuthMode": "USRPWD",
        "MercUnqRef": "  basket-7  ",
    }


def send_direct_pay(client: SimClient, params: dict[str, Any], signature: str) -> tuple[bool, Any]:
    answer = post_json_data(client, "/order/directPay", params, "CheckSum", signature)
    return answer["ResponseCode"] == "01", answer


def add_money_params(client: SimClient) -> dict[str, Any]:
    token = client.control("POST", "autodebit/token", {"phone": "9000000002"})["token"]
    return {
        "REQUEST_TYPE": "ADD_MONEY",
        "MID": client.credentials.mid,
        "ORDER_ID": "CK-AM",
        "CUST_ID": "CUST_001",
        "TXN_AMOUNT": "5.00",
        "CHANNEL_ID": "WEB",
        "INDUSTRY_TYPE_ID": "Retail",
        "WEBSITE": " WEBSTAGING ",
        "SSO_TOKEN": token,
    }


def send_add_money(client: SimClient, params: dict[str, Any], signature: str) -> tuple[bool, Any]:
    page = client.http.post("/theia/processTransaction", data={**params, "CHECKSUMHASH": signature}).text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    return hidden["STATUS"] == "TXN_PENDING", hidden


CASES: dict[str, tuple[Setup, Send]] = {
    "getTxnStatus": (status_params, send_status),
    "REFUND": (refund_params, send_refund),
    "getRefundStatus": (refund_status_params, send_refund_status),
    "directPay": (direct_pay_params, send_direct_pay),
    "processTransaction": (add_money_params, send_add_money),
}


@pytest.mark.parametrize("api", sorted(CASES))
def test_a_request_signed_by_the_official_library_over_padded_values_is_accepted(
    client: SimClient, api: str
) -> None:
    setup, send = CASES[api]
    params = setup(client)

    accepted, answer = send(client, params, official(params, client.pg_key))

    assert accepted, answer


@pytest.mark.parametrize("api", sorted(CASES))
def test_a_signature_over_the_stripped_values_is_refused_as_a_checksum_mismatch(
    client: SimClient, api: str
) -> None:
    setup, send = CASES[api]
    params = setup(client)
    assert stripped(params) != params  # the case really has padded values

    accepted, answer = send(client, params, official(stripped(params), client.pg_key))

    assert not accepted
    code = answer.get("RESPCODE", answer.get("ResponseCode"))
    assert code == "330", answer


@pytest.mark.parametrize(
    "comments",
    [None, "null", "NULL", "", " "],
    ids=["json-null", "null-text", "NULL-text", "empty", "one-space"],
)
def test_none_and_null_values_are_signed_as_the_official_library_signs_them(
    client: SimClient, comments: str | None
) -> None:
    params = {**refund_params(client), "COMMENTS": comments}

    # The library signs None and any-case "null" as "", anything else as it is.
    accepted, answer = send_refund(client, params, official(params, client.pg_key))

    assert accepted, answer


def test_the_callbacks_the_simulator_signs_verify_with_the_official_library(
    client: SimClient, receiver: CallbackReceiver
) -> None:
    body = initiate_body(client.credentials.mid, "CK-CB", callbackUrl=receiver.url)
    client.http.post(
        "/theia/api/v1/initiateTransaction",
        params={"mid": client.credentials.mid, "orderId": "CK-CB"},
        content=signed_request(body, client.pg_key),
    )

    client.control(
        "POST", "pg/checkout/CK-CB", {"outcome": "FAILURE", "resp_msg": "  Declined by the bank  "}
    )

    (callback,) = receiver.wait_for(1)
    fields = dict(parse_qsl(callback.body.decode(), keep_blank_values=True))
    assert fields["RESPMSG"] == "  Declined by the bank  "
    assert PaytmChecksum.verifySignature(dict(fields), client.pg_key, fields["CHECKSUMHASH"]) is True
    assert PaytmChecksum.verifySignature(stripped(fields), client.pg_key, fields["CHECKSUMHASH"]) is False
