"""Every code the simulator claims to produce (codes.PRODUCED_CODES) is reached here, one case each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tijori_local.sim.client import SimClient, sales_to_user_credit_body
from tijori_local.sim.codes import PRODUCED_CODES

Case = Callable[[SimClient], dict[str, Any]]


def _phone_user(client: SimClient, **fields: Any) -> None:
    client.user(phone="7777777777", **fields)


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
    client.control("POST", "balances", {"guid": client.credentials.sales_wallet_guid, "balance": "0.50"})
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
    "STUC_1003": lambda c: c.credit("ORD-SELF", payeePhoneNumber="", payeeSsoId=c.credentials.merchant_guid),
    "STUC_1004": lambda c: c.credit("ORD-TYPE", salesWalletGuid=c.credentials.payouts_subwallet_guid),
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
        client.user(phone="8001234891", **setup)
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
    client.control("POST", "balances", {"guid": client.credentials.payouts_subwallet_guid, "balance": "0.99"})
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
        loads(response.content)["token"], client.credentials.prepaid_aes_key.get_secret_value()
    )


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
}

ALL_CASES = (
    {("wallet", code): case for code, case in WALLET_CASES.items()}
    | {("validation", code): case for code, case in VALIDATION_CASES.items()}
    | {("prepaid", code): case for code, case in PREPAID_CASES.items()}
)


@pytest.mark.parametrize(("api", "code"), sorted(ALL_CASES), ids=lambda value: str(value))
def test_each_produced_code_is_reached(client: SimClient, api: str, code: str) -> None:
    answer = ALL_CASES[(api, code)](client)
    if api == "prepaid":
        assert (answer["responseCode"], answer["responseMessage"]) == (code, PRODUCED_CODES[api][code])
        return
    assert answer["statusCode"] == code
    if code not in MESSAGES_WITH_PARAMS:
        assert answer["statusMessage"] == PRODUCED_CODES[api][code]


# The seed's text has a placeholder the simulator fills in (e.g. "orderId is mandatory ...").
MESSAGES_WITH_PARAMS = {"DE_010", "DE_011", "DE_013"}


def test_every_produced_code_has_a_case() -> None:
    claimed = {(api, code) for api, codes in PRODUCED_CODES.items() for code in codes}
    assert claimed == set(ALL_CASES)
