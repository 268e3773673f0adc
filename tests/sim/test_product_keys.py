"""Each product verifies with its own key, as Paytm does: seed 000's wallet APIs with the wallet
team's AesKey, seed 001 with the Payouts key, the PG (seeds 002, 004) with the PG merchant key,
seed 003 with the prepaid key. A call signed with another product's key is refused like a forged
one, and a product the merchant's credentials leave out (not onboarded) refuses every call."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from paytm_signing import PRODUCTS, MerchantCredentials, encrypt_token, generate_signature
from tijori_local.sim.autodebit_api import signed_consult_request
from tijori_local.sim.client import EXAMPLE_CREDENTIALS, SimClient, sales_to_user_credit_body
from tijori_local.sim.context import with_every_product
from tijori_local.sim.pg_api import initiate_body, signed_request
from tijori_local.sim.server import SimServer
from tijori_local.sim.wire import dumps, loads

KEYED_PRODUCTS = ("wallet", "payouts", "pg", "prepaid")


def _key(client: SimClient, product: str) -> str:
    key: str = getattr(client, f"{product}_key")
    return key


def _wallet_credit(client: SimClient, key: str) -> str:
    raw = dumps(sales_to_user_credit_body(client.credentials, "KEY-WALLET-1"))
    answer = client.wallet_post("/wallet-web/salesToUserCredit", raw, checksum=generate_signature(raw, key))
    return str(loads(answer.content)["statusCode"])


def _payouts_validation(client: SimClient, key: str) -> str:
    body = {
        "subwalletGuid": client.credentials.payouts.subwallet_guid,
        "orderId": "KEY-PAYOUTS-1",
        "beneficiaryPhoneNo": "8001234891",
    }
    raw = dumps(body)
    answer = client.bpay_post("/bpay/api/v1/beneficiary/validate", raw, checksum=generate_signature(raw, key))
    return str(answer["statusCode"])


def _pg_initiate(client: SimClient, key: str) -> str:
    mid = client.credentials.mid
    response = client.http.post(
        "/theia/api/v1/initiateTransaction",
        params={"mid": mid, "orderId": "KEY-PG-1"},
        content=signed_request(initiate_body(mid, "KEY-PG-1"), key),
        headers={"Content-Type": "application/json"},
    )
    return str(loads(response.content)["body"]["resultInfo"]["resultCode"])


def _auto_debit_consult(client: SimClient, key: str) -> str:
    content = signed_consult_request({"totalAmount": "1.00", "mid": client.credentials.mid}, key)
    response = client.http.post("/paymentservices/pay/consult", content=content)
    return str(loads(response.content)["body"]["resultInfo"]["resultCode"])


def _prepaid_load(client: SimClient, key: str) -> str:
    payload = {
        "messageCode": "1080",
        "clientTxnId": "KEY-PREPAID-1",
        "urn": 70000000008,
        "transactionAmount": 100,
    }
    token = encrypt_token(payload, key, token_format=client.prepaid_token_format)
    response = client.http.patch(
        "/mob1/api/onboarding/v1/creditAccount",
        content=dumps({"token": token}),
        headers={"Content-Type": "application/json"},
    )
    return "undecryptable" if response.status_code == 400 else "decrypted"


# (the API, the product whose key it checks, the answer that means "refused: not our key")
CALLS: list[tuple[str, Callable[[SimClient, str], str], str, str]] = [
    ("wallet salesToUserCredit", _wallet_credit, "wallet", "GE_1008"),
    ("Payouts wallet validation", _payouts_validation, "payouts", "DE_409"),
    ("PG initiateTransaction", _pg_initiate, "pg", "2005"),
    ("auto-debit consult", _auto_debit_consult, "pg", "GE_1"),
    ("prepaid creditAccount", _prepaid_load, "prepaid", "undecryptable"),
]


def _signers(own_product: str) -> tuple[str, ...]:
    # A prepaid token needs a 24-byte key: of the others, only the wallet's example key is one.
    return ("prepaid", "wallet") if own_product == "prepaid" else KEYED_PRODUCTS


@pytest.mark.parametrize(
    ("call", "own_product", "refused", "signed_by"),
    [
        pytest.param(call, own, refused, signer, id=f"{name} signed with the {signer} key")
        for name, call, own, refused in CALLS
        for signer in _signers(own)
    ],
)
def test_each_api_accepts_its_own_products_key_and_refuses_every_other(
    client: SimClient,
    call: Callable[[SimClient, str], str],
    own_product: str,
    refused: str,
    signed_by: str,
) -> None:
    answer = call(client, _key(client, signed_by))
    if signed_by == own_product:
        assert answer != refused
    else:
        assert answer == refused


def test_a_wallet_call_signed_with_the_pg_key_is_refused_and_moves_no_money(client: SimClient) -> None:
    """Seed 000's warning: the wallet team's AesKey is not the PG merchant key."""
    client.user(phone="7777777777", email="u7777777777@example.com")
    before = client.balances()
    assert _wallet_credit(client, client.pg_key) == "GE_1008"
    assert client.balances() == before
    assert _wallet_credit(client, client.wallet_key) == "SUCCESS"


@pytest.fixture
def wallet_only_sim() -> Iterator[tuple[SimServer, SimClient]]:
    wallet_only = MerchantCredentials.from_mapping(
        {"mid": EXAMPLE_CREDENTIALS["mid"], "wallet": EXAMPLE_CREDENTIALS["wallet"]}
    )
    with SimServer(wallet_only, time_scale=0) as sim:
        # The caller knows every product's example keys; the simulated merchant holds only the wallet's.
        client = SimClient(sim.url, MerchantCredentials.from_mapping(EXAMPLE_CREDENTIALS))
        yield sim, client
        client.close()


@pytest.mark.parametrize(("name", "call", "product", "refused"), CALLS, ids=[call[0] for call in CALLS])
def test_a_product_left_out_of_the_credentials_refuses_every_call_and_the_wallet_still_works(
    wallet_only_sim: tuple[SimServer, SimClient],
    name: str,
    call: Callable[[SimClient, str], str],
    product: str,
    refused: str,
) -> None:
    _, client = wallet_only_sim
    answer = call(client, _key(client, product))
    if product == "wallet":
        assert answer != refused, name
    else:
        assert answer == refused, name


def test_with_every_product_keeps_the_given_sections_and_fills_the_rest_with_keys_nobody_holds() -> None:
    given = MerchantCredentials.from_mapping(
        {"mid": "TIJORISIM0000000001", "wallet": EXAMPLE_CREDENTIALS["wallet"]}
    )
    known = MerchantCredentials.from_mapping(EXAMPLE_CREDENTIALS)
    filled = with_every_product(given)
    assert filled.products == PRODUCTS
    assert filled.wallet == given.wallet
    assert filled.pg.checksum_key.current != known.pg.checksum_key.current
    assert filled.payouts.checksum_key.current != known.payouts.checksum_key.current
    assert filled.prepaid.token_key.current != known.prepaid.token_key.current
    assert filled.auto_debit.client_id != known.auto_debit.client_id
    assert with_every_product(known) is known
