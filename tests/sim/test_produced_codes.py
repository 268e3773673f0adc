"""Every code the simulator claims to produce (codes.PRODUCED_CODES) is reached here, one case each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tijori_local.sim.client import SimClient, sales_to_user_credit_body
from tijori_local.sim.codes import PRODUCED_CODES

Case = Callable[[SimClient], dict[str, Any]]


def _phone_user(client: SimClient, **fields: Any) -> None:
    client.user(phone="7777777777", email="u7777777777@example.com", **fields)


def _with_user(case: Case, **fields: Any) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        _phone_user(client, **fields)
        return case(client)

    return run


def _outer(client: SimClient, order_id: str, **outer_fields: Any) -> dict[str, Any]:
    body = sales_to_user_credit_body(client.credentials, order_id)
    body.update(outer_fields)
    from tijori_local.sim.wire import loads

    return dict(loads(client.wallet_post("/wallet-web/salesToUserCredit", body).content))


def _raw_credit(client: SimClient, **kwargs: Any) -> dict[str, Any]:
    from tijori_local.sim.wire import loads

    body = sales_to_user_credit_body(client.credentials, "ORD-RAW")
    return dict(loads(client.wallet_post("/wallet-web/salesToUserCredit", body, **kwargs).content))


def _inactive_merchant(client: SimClient) -> dict[str, Any]:
    client.control("POST", "merchant", {"active": False})
    return client.credit("ORD-INACTIVE")


def _script(outcome: str) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        _phone_user(client)
        client.control("POST", "script", {"order_id": "ORD-SCRIPT", "outcome": outcome})
        return client.credit("ORD-SCRIPT")

    return run


def _duplicate(client: SimClient) -> dict[str, Any]:
    _phone_user(client)
    client.credit("ORD-DUP")
    return client.credit("ORD-DUP")


def _second_txn_this_month(client: SimClient) -> dict[str, Any]:
    _phone_user(client, limits={"monthly_txn_count": 1})
    client.credit("ORD-C1")
    return client.credit("ORD-C2")


def _insufficient(client: SimClient) -> dict[str, Any]:
    _phone_user(client)
    client.control(
        "POST", "balances", {"guid": client.credentials.wallet.sales_wallet_guid, "balance": "0.50"}
    )
    return client.credit("ORD-LOW")


WALLET_CASES: dict[str, Case] = {
    "SUCCESS": _with_user(lambda c: c.credit("ORD-OK")),
    "SS_001": _with_user(lambda c: (c.credit("ORD-OK"), c.check_status("ORD-OK"))[1]),
    "GE_2": lambda c: _outer(c, "ORD-GE2", platformName=""),
    "GE_0001": _script("FAILURE"),
    "GE_0003": _script("PENDING"),
    "GE_1007": lambda c: c.credit("ORD-AMT", amount="1.234"),
    "GE_1008": lambda c: _raw_credit(c, checksum="A" * 108),
    "GE_1011": lambda c: c.credit("ORD-EML", payeePhoneNumber="", payeeEmailId="not-an-email"),
    "GE_1017": lambda c: _raw_credit(c, mid="SOMEONEELSE0000001"),
    "GE_1018": lambda c: c.credit("ORD-CUR", currencyCode="USD"),
    "GE_1026": _with_user(lambda c: c.credit("ORD-KYC"), kyc=False),
    "GE_1032": lambda c: c.credit("ORD-PHN", payeePhoneNumber="12345"),
    "GE_1035": _inactive_merchant,
    "STUC_1000": lambda c: c.credit("ORD-SW", salesWalletGuid="00000000-0000-0000-0000-000000000000"),
    "STUC_1001": lambda c: c.credit("ORD-NEW", appliedToNewUsers="Y"),
    "STUC_1002": lambda c: c.credit("ORD-UNK", appliedToNewUsers="N"),
    "STUC_1003": lambda c: c.credit(
        "ORD-SELF", payeePhoneNumber="", payeeSsoId=c.credentials.wallet.merchant_guid
    ),
    "STUC_1004": lambda c: c.credit("ORD-TYPE", salesWalletGuid=c.credentials.payouts.subwallet_guid),
    "STUC_1005": lambda c: c.credit("ORD-NAME", salesWalletName="NOT-THIS-ONE"),
    "STUC_1006": lambda c: c.credit("ORD WITH SPACES"),
    "STUC_1007": _duplicate,
    "STUC_1008": lambda c: c.credit("ORD-NOPAYEE", payeePhoneNumber=""),
    "STUC_1009": lambda c: c.check_status("NO-SUCH-ORDER"),
    "STUC_1010": _with_user(lambda c: c.credit("ORD-MV", applyVerifiedUser="1"), mobile_verified=False),
    "STUC_1011": _with_user(lambda c: c.credit("ORD-EV", applyVerifiedUser="2"), email_verified=False),
    "STUC_1012": _with_user(
        lambda c: c.credit("ORD-BV", applyVerifiedUser="3"), mobile_verified=False, email_verified=False
    ),
    "WA_1002": _with_user(lambda c: c.credit("ORD-NW", appliedToNewUsers="N"), wallet_exists=False),
    "WA_1004": _with_user(lambda c: c.credit("ORD-NWY", appliedToNewUsers="Y"), wallet_exists=False),
    "RWL_0003": _with_user(lambda c: c.credit("ORD-PT", amount="10"), limits={"per_txn": "5"}),
    "RWL_0004": _second_txn_this_month,
    "RWL_1000": _with_user(lambda c: c.credit("ORD-MB", amount="10"), limits={"max_balance": "5"}),
    "RWL_1001": _with_user(lambda c: c.credit("ORD-MC", amount="10"), limits={"monthly_credit": "5"}),
    "MWL_2001": _insufficient,
    "CTS_0001": lambda c: c.check_status("ORD-X", request_type="pgTxnId"),
}


def _validate(order_id: str = "VAL-1", phone: str = "8001234891", **fields: Any) -> Case:
    return lambda c: c.validate_wallet(order_id, phone, **fields)


def _validated(setup: dict[str, Any], script: str | None = None) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        client.user(phone="8001234891", email="u8001234891@example.com", **setup)
        if script is not None:
            client.control("POST", "script", {"order_id": "VAL-S", "outcome": script})
        client.validate_wallet("VAL-S", "8001234891")
        return client.validation_status("VAL-S")

    return run


def _bpay_raw(body: bytes, **kwargs: Any) -> Case:
    return lambda c: c.bpay_post("/bpay/api/v1/beneficiary/validate", body, **kwargs)


def _bpay_headers(headers: dict[str, str]) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        from tijori_local.sim.wire import loads

        response = client.http.post("/bpay/api/v1/beneficiary/validate", content=b"{}", headers=headers)
        return dict(loads(response.content))

    return run


def _validation_duplicate(client: SimClient) -> dict[str, Any]:
    client.validate_wallet("VAL-D", "8001234891")
    return client.validate_wallet("VAL-D", "8001234891")


def _validation_inactive(client: SimClient) -> dict[str, Any]:
    client.control("POST", "merchant", {"active": False})
    return client.validate_wallet("VAL-I", "8001234891")


def _validation_poor(client: SimClient) -> dict[str, Any]:
    client.control("POST", "balances", {"guid": client.credentials.payouts.subwallet_guid, "balance": "0.99"})
    return client.validate_wallet("VAL-P", "8001234891")


VALIDATION_CASES: dict[str, Case] = {
    "DE_001": _validated({}),
    "DE_002": _validate(),
    "DE_101": _validated({}, script="PENDING"),
    "DE_010": _validate(phone=""),
    "DE_011": _validate(phone="12345"),
    "DE_013": _validate(order_id="X" * 51),
    "DE_019": _bpay_headers({"x-mid": "SOMEONEELSE0000001", "x-checksum": "x"}),
    "DE_023": _validation_inactive,
    "DE_029": _validation_poor,
    "DE_039": lambda c: c.validation_status("NO-SUCH-VALIDATION"),
    "DE_040": _validation_duplicate,
    "DE_057": _bpay_raw(b"not json"),
    "DE_401": _bpay_headers({}),
    "DE_408": _bpay_headers({"x-mid": "TIJORISIM0000000001"}),
    "DE_409": _bpay_raw(b"{}", checksum="A" * 108),
    "DE_702": lambda c: (c.validate_wallet("VAL-U", "8001234899"), c.validation_status("VAL-U"))[1],
    "DE_704": _validate(subwalletGuid="00000000-0000-0000-0000-000000000000"),
    "DE_1222": _validated({"wallet_exists": False}),
    "DE_1223": _validated({"limits": {"max_balance": "0.50"}}),
}


def _prepaid(**overrides: Any) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        client.control("POST", "prepaid", {"urn": "70000000008", "subwallet_id": "MOB5378a27c_1"})
        request = {
            "messageCode": "1080",
            "clientTxnId": "LOAD-1",
            "urn": 70000000008,
            "transactionAmount": 1000,
            "subWalletId": "MOB5378a27c_1",
        }
        request.update(overrides)
        _, answer = client.credit_account({k: v for k, v in request.items() if v is not None})
        return answer

    return run


def _prepaid_duplicate(client: SimClient) -> dict[str, Any]:
    _prepaid()(client)
    _, answer = client.credit_account(
        {
            "messageCode": "1080",
            "clientTxnId": "LOAD-1",
            "urn": 70000000008,
            "transactionAmount": 1,
            "subWalletId": "MOB5378a27c_1",
        }
    )
    return answer


def _prepaid_garbled(client: SimClient) -> dict[str, Any]:
    from paytm_signing import decrypt_token
    from tijori_local.sim.wire import loads

    response = client.http.patch("/mob1/api/onboarding/v1/creditAccount", content=b'{"token":"garbage"}')
    return decrypt_token(
        loads(response.content)["token"],
        client.credentials.prepaid.token_key.current,
        token_format=client.prepaid_token_format,
    )


def _prepaid_wallet(**wallet: Any) -> Case:
    """A load of 10.00 INR to a wallet set up with `wallet` (status, limits)."""

    def run(client: SimClient) -> dict[str, Any]:
        client.control("POST", "prepaid", {"urn": "70000000008", "subwallet_id": "MOB5378a27c_1", **wallet})
        _, answer = client.credit_account(
            {
                "messageCode": "1080",
                "clientTxnId": "LOAD-1",
                "urn": 70000000008,
                "transactionAmount": 1000,
                "subWalletId": "MOB5378a27c_1",
            }
        )
        return answer

    return run


def _prepaid_second_load(**wallet: Any) -> Case:
    """Two loads of 10.00 INR, at once, to a wallet set up with `wallet`: the second one's answer."""

    def run(client: SimClient) -> dict[str, Any]:
        _prepaid_wallet(**wallet)(client)
        _, answer = client.credit_account(
            {
                "messageCode": "1080",
                "clientTxnId": "LOAD-2",
                "urn": 70000000008,
                "transactionAmount": 1000,
                "subWalletId": "MOB5378a27c_1",
            }
        )
        return answer

    return run


PREPAID_CASES: dict[str, Case] = {
    "00": _prepaid(),
    "1030": _prepaid_garbled,
    "1056": _prepaid(messageCode="1090"),
    "1093": _prepaid_duplicate,
    "1303": _prepaid(urn=None),
    "1304": _prepaid(customerMobile="9888888888"),
    "1322": _prepaid(transactionAmount=0),
    "1357": _prepaid(urn=70000000009),
    "1359": _prepaid(transactionAmount="10.5"),
    "1369": _prepaid(subWalletId=None),
    "1009": _prepaid_wallet(status="CLOSED"),
    "1010": _prepaid_wallet(status="BLOCKED"),
    "1012": _prepaid_wallet(status="PENDING_CANCELLATION"),
    "1121": _prepaid_wallet(status="CREDIT_DEBIT_BLOCKED"),
    "1101": _prepaid(sourceType=2),
    "1325": _prepaid(fundFlowType="X"),
    "1353": _prepaid_second_load(cooling_off_seconds=3600),
    "10153": _prepaid(transactionAmount=99),
    "10163": _prepaid_second_load(daily_load_limit="15.00"),
}

# -- seed 004 (PG) and seed 002 (auto-debit) -------------------------------------------------------


def _pg(order_id: str = "PG-1", query: dict[str, str] | None = None, **fields: Any) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        from tijori_local.sim.pg_api import initiate_body, signed_request
        from tijori_local.sim.wire import loads

        signature = fields.get("_signature")
        body_fields = {k: v for k, v in fields.items() if k != "_signature"}
        body = initiate_body(client.credentials.mid, order_id, **body_fields)
        params = {"mid": client.credentials.mid, "orderId": order_id, **(query or {})}
        raw = signed_request(body, client.pg_key, signature=signature)
        return dict(
            loads(client.http.post("/theia/api/v1/initiateTransaction", params=params, content=raw).content)
        )

    return run


def _pg_twice(**second: Any) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        _pg("PG-T")(client)
        return _pg("PG-T", **second)(client)

    return run


def _pg_after_expiry(client: SimClient) -> dict[str, Any]:
    _pg("PG-X")(client)
    client.advance(hours=0.25)
    return _pg("PG-X")(client)


def _json_data(path: str, data: dict[str, Any], field: str = "CHECKSUMHASH", raw: str | None = None) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        from tijori_local.sim.pg_api import signed_json_data
        from tijori_local.sim.wire import loads

        value = raw if raw is not None else signed_json_data(data, client.pg_key, field)
        return dict(loads(client.http.post(path, data={"JsonData": value}).content))

    return run


def _status(order_id: str, mid: str | None = None) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        data = {"MID": mid or client.credentials.mid, "ORDERID": order_id}
        return _json_data("/merchant-status/getTxnStatus", data)(client)

    return run


def _paid(
    order_id: str, outcome: str | None = "SUCCESS", advance: bool = False
) -> Callable[[SimClient], None]:
    def setup(client: SimClient) -> None:
        _pg(order_id, txnAmount={"value": "10.00", "currency": "INR"})(client)
        if advance:
            client.advance(hours=1)
        if outcome is not None:
            client.control("POST", f"pg/checkout/{order_id}", {"outcome": outcome})

    return setup


def _after(setup: Callable[[SimClient], Any], case: Case) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        setup(client)
        return case(client)

    return run


def _token(client: SimClient, balance: str = "10.00") -> str:
    return str(
        client.control("POST", "autodebit/token", {"phone": "9000000001", "balance": balance})["token"]
    )


def _direct_pay(
    order_id: str = "WD-1", amount: str = "1.00", token: str | None = None, **fields: Any
) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        from tijori_local.sim.autodebit_api import withdraw_params

        data = withdraw_params(client.credentials.mid, token or _token(client), order_id, amount, **fields)
        return _json_data("/order/directPay", data, "CheckSum")(client)

    return run


def _direct_pay_twice(client: SimClient) -> dict[str, Any]:
    _direct_pay("WD-D")(client)
    return _direct_pay("WD-D")(client)


def _refund(
    order_id: str = "RF-1", amount: str = "1.00", ref_id: str = "REF-1", txn_id: str | None = None
) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        found = client.http.get(f"/_sim/orders/{order_id}")
        data = {
            "MID": client.credentials.mid,
            "TXNID": txn_id or (found.json()["txnId"] if found.status_code == 200 else "1"),
            "ORDERID": order_id,
            "REFUNDAMOUNT": amount,
            "TXNTYPE": "REFUND",
            "REFID": ref_id,
        }
        return _json_data("/refund/HANDLER_INTERNAL/REFUND", data, "CHECKSUM")(client)

    return run


def _refund_twice(client: SimClient) -> dict[str, Any]:
    _paid("RF-1")(client)
    _refund()(client)
    return _refund()(client)


def _scripted_refund(outcome: str) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        _paid("RF-1")(client)
        client.control("POST", "pg/refunds/REF-1/script", {"outcome": outcome})
        return _refund()(client)

    return run


PG_CASES: dict[str, Case] = {
    "0000": _pg(),
    "0002": _pg_twice(),
    "1001": _pg(requestType="Subscription"),
    "1006": _pg_after_expiry,
    "1007": _pg(userInfo=None),
    "1008": _pg(userInfo={"custId": "A|B"}),
    "2004": _pg(paytmSsoToken="not-a-token"),
    "2005": _pg(_signature="A" * 108),
    "2007": _pg(txnAmount={"value": "-1", "currency": "INR"}),
    "2013": _pg(query={"mid": "OTHERMID0000000001"}),
    "2014": _pg(query={"orderId": "PG-OTHER"}),
    "2023": _pg_twice(txnAmount={"value": "2.00", "currency": "INR"}),
}

PG_TXN_CASES: dict[str, Case] = {
    "01": _after(_paid("ST-1"), _status("ST-1")),
    "1001": _direct_pay(ReqType="DEPOSIT"),
    "1007": _direct_pay(CustId=None),
    "141": _after(_paid("ST-E", outcome=None, advance=True), _status("ST-E")),
    "227": _after(_paid("ST-F", outcome="FAILURE"), _status("ST-F")),
    "235": _direct_pay(amount="10.01"),
    "305": _status("ST-X", mid="OTHERMID0000000001"),
    "325": _direct_pay_twice,
    "330": _json_data(
        "/merchant-status/getTxnStatus", {}, raw='{"MID":"M","ORDERID":"O","CHECKSUMHASH":"x"}'
    ),
    "334": _status("NO-SUCH-ORDER"),
    "402": _after(_paid("ST-P", outcome=None), _status("ST-P")),
    "2004": _direct_pay(token="not-a-token"),
    "2007": _direct_pay(amount="ten"),
}

PG_REFUND_CASES: dict[str, Case] = {
    "10": _after(_paid("RF-1"), _refund()),
    "330": _json_data("/refund/HANDLER_INTERNAL/REFUND", {}, raw='{"MID":"M","ORDERID":"O","CHECKSUM":"x"}'),
    "334": _refund(order_id="NO-SUCH-ORDER"),
    "600": _after(_paid("RF-1", outcome=None), _refund()),
    "601": _scripted_refund("PENDING"),
    "602": _scripted_refund("FAILURE"),
    "617": _refund_twice,
    "619": _after(_paid("RF-1"), _refund(amount="10.01")),
    "627": _after(_paid("RF-1"), _refund(txn_id="42")),
    "631": _json_data(
        "/refund/HANDLER_INTERNAL/getRefundStatus",
        {"MID": "TIJORISIM0000000001", "ORDERID": "X", "REFID": "Y"},
    ),
}


def _send_otp(phone: str = "9000000001", **fields: Any) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        body = {
            "phone": phone,
            "clientId": client.credentials.auto_debit.client_id,
            "scope": "wallet",
            "responseType": "token",
        }
        body.update(fields)
        return dict(
            client.http.post("/signin/otp", json={k: v for k, v in body.items() if v is not None}).json()
        )

    return run


def _verify_otp(wrong: bool = False, state: str | None = None) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        import base64

        sent = state or _send_otp()(client)["state"]
        otp = "x" if wrong or state else client.control("GET", f"autodebit/otp/{sent}")["otp"]
        creds = client.credentials
        pair = f"{creds.auto_debit.client_id}:{creds.auto_debit.client_secret.get_secret_value()}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        return dict(
            client.http.post("/signin/validate/otp", json={"otp": otp, "state": sent}, headers=headers).json()
        )

    return run


def _blocked(client: SimClient) -> dict[str, Any]:
    client.user(phone="9000000001", email="u9000000001@example.com", blocked=True)
    return _send_otp()(client)


OAUTH_CASES: dict[str, Case] = {
    "01": _after(lambda c: c.user(phone="9000000001"), _send_otp()),
    "02": _send_otp(),
    "403": _verify_otp(wrong=True),
    "430": _send_otp(clientId="someone-else"),
    "431": _send_otp(phone="12345"),
    "433": _blocked,
    "434": _send_otp(scope=None),
    "465": _send_otp(email="not-an-email"),
    "513": _verify_otp(state="no-such-state"),
    "530": lambda c: dict(c.http.get("/user/details", headers={"session_token": "nope"}).json()),
}


LIVE = "<a live token>"


def _consult(amount: str = "1.00", token: str | None = LIVE, raw: bytes | None = None, **fields: Any) -> Case:
    def run(client: SimClient) -> dict[str, Any]:
        from tijori_local.sim.autodebit_api import signed_consult_request
        from tijori_local.sim.wire import loads

        body: dict[str, Any] = {
            "totalAmount": amount,
            **{k: v for k, v in fields.items() if k != "_signature"},
        }
        if token is not None:
            body["userToken"] = _token(client) if token == LIVE else token
        signature = fields.get("_signature")
        content = raw if raw is not None else signed_consult_request(body, client.pg_key, signature=signature)
        return dict(loads(client.http.post("/paymentservices/pay/consult", content=content).content))

    return run


def _consult_inactive(client: SimClient) -> dict[str, Any]:
    client.control("POST", "merchant", {"active": False})
    return _consult()(client)


CONSULT_CASES: dict[str, Case] = {
    "CS_0000": _consult(),
    "CS_0001": _consult(raw=b"not json"),
    "CS_0002": _consult(token="revoked-or-unknown"),
    "CS_0004": _consult(amount="abc"),
    "CS_0005": _consult(token=None),
    "GE_1": _consult(_signature="A" * 108),
    "GE_1035": _consult_inactive,
    "GE_1043": _consult(mid="OTHERMID0000000001"),
}

ALL_CASES = (
    {("wallet", code): case for code, case in WALLET_CASES.items()}
    | {("validation", code): case for code, case in VALIDATION_CASES.items()}
    | {("prepaid", code): case for code, case in PREPAID_CASES.items()}
    | {("pg", code): case for code, case in PG_CASES.items()}
    | {("pg-txn", code): case for code, case in PG_TXN_CASES.items()}
    | {("pg-refund", code): case for code, case in PG_REFUND_CASES.items()}
    | {("oauth", code): case for code, case in OAUTH_CASES.items()}
    | {("consult", code): case for code, case in CONSULT_CASES.items()}
)


def _code_and_message(api: str, answer: dict[str, Any]) -> tuple[str, str | None]:
    if api in ("pg", "consult"):
        info = answer["body"]["resultInfo"]
        return info["resultCode"], info["resultMsg"]
    if api in ("pg-txn", "pg-refund"):
        if "ResponseCode" in answer:  # withdraw (directPay)
            return answer["ResponseCode"], answer["ResponseMessage"]
        return answer["RESPCODE"], answer["RESPMSG"]
    # oauth: success answers carry no message
    return answer["responseCode"], answer.get("message")


@pytest.mark.parametrize(("api", "code"), sorted(ALL_CASES), ids=lambda value: str(value))
def test_each_produced_code_is_reached(client: SimClient, api: str, code: str) -> None:
    answer = ALL_CASES[(api, code)](client)
    if api == "prepaid":
        assert (answer["responseCode"], answer["responseMessage"]) == (code, PRODUCED_CODES[api][code])
        return
    if api in ("pg", "pg-txn", "pg-refund", "oauth", "consult"):
        found, message = _code_and_message(api, answer)
        assert found == code
        if message is not None or api != "oauth":
            assert message == PRODUCED_CODES[api][code]
        return
    assert answer["statusCode"] == code
    if code not in MESSAGES_WITH_PARAMS:
        assert answer["statusMessage"] == PRODUCED_CODES[api][code]


# The seed's text has a placeholder the simulator fills in (e.g. "orderId is mandatory ...").
MESSAGES_WITH_PARAMS = {"DE_010", "DE_011", "DE_013"}


def test_every_produced_code_has_a_case() -> None:
    claimed = {(api, code) for api, codes in PRODUCED_CODES.items() for code in codes}
    assert claimed == set(ALL_CASES)
