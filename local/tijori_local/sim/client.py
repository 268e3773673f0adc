"""A small client for the simulator: signed seed requests and control calls.

For tests, the bench and scripts; Tijori's own Paytm clients live in the domain package and never
use this. Request bodies follow the seeds' samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from paytm_signing import (
    MerchantCredentials,
    TokenFormat,
    decrypt_token,
    encrypt_token,
    generate_signature,
)
from tijori_local.sim.autodebit_api import DIRECT_PAY_PATH, withdraw_params
from tijori_local.sim.context import ProductKeys
from tijori_local.sim.pg_api import (
    INITIATE_PATH,
    REFUND_PATH,
    STATUS_PATHS,
    initiate_body,
    signed_json_data,
    signed_request,
)
from tijori_local.sim.token_formats import prepaid_token_format_for
from tijori_local.sim.wire import dumps, loads

__all__ = ["EXAMPLE_CREDENTIALS", "SimClient", "example_credentials", "sales_to_user_credit_body"]

EXAMPLE_CREDENTIALS: dict[str, Any] = {
    "mid": "TIJORISIM0000000001",
    "wallet": {
        "aes_key": "wallet-aes-key-24-bytes!",
        "merchant_guid": "2600d30c-7b1b-4657-9011-9c65e5e5d35c",
        "sales_wallet_guid": "60c076e4-8a4a-11e8-8f13-52540059b2ee",
    },
    "payouts": {"merchant_key": "payouts_key_0016", "subwallet_guid": "28054249-aaaa-bbbb-af8f-fa163e429e83"},
    "pg": {"merchant_key": "k3y_for_t3sts_16", "website_name": "WEBSTAGING"},
    "auto_debit": {"client_id": "tijori-sim-client", "client_secret": "client-secret-for-tests"},
    "prepaid": {"aes_key": "prepaid-aes-key-24-bytes"},
}
"""Made-up merchant credentials for tests, the bench and local runs (never a real merchant): each
product its own key, as Paytm issues them."""


def example_credentials() -> MerchantCredentials:
    return MerchantCredentials.from_mapping(EXAMPLE_CREDENTIALS)


def sales_to_user_credit_body(
    credentials: MerchantCredentials, order_id: str, **request_fields: Any
) -> dict[str, Any]:
    """The seed 000 sample body, with the merchant's GUIDs; `request_fields` override `request`."""
    request: dict[str, Any] = {
        "requestType": "NULL",
        "merchantGuid": credentials.wallet.merchant_guid,
        "merchantOrderId": order_id,
        "salesWalletGuid": credentials.wallet.sales_wallet_guid,
        "payeeEmailId": "",
        "payeePhoneNumber": "7777777777",
        "payeeSsoId": "",
        "appliedToNewUsers": "N",
        "amount": "1",
        "narration": "test",
        "currencyCode": "INR",
        "applyVerifiedUser": "3",
        "cashbackPPIType": "1",
        "pendingDaysLimit": "1",
    }
    request.update(request_fields)
    return {
        "request": {k: v for k, v in request.items() if v is not None},
        "metadata": "Testing Data",
        "ipAddress": "192.168.40.11",
        "operationType": "SALES_TO_USER_CREDIT",
        "platformName": "PayTM",
    }


class SimClient(ProductKeys):
    """Wraps an httpx client (pooled) pointed at the simulator's base URL."""

    def __init__(
        self,
        base_url: str,
        credentials: MerchantCredentials,
        *,
        timeout: float = 10.0,
        prepaid_token_format: TokenFormat | None = None,
    ) -> None:
        """`prepaid_token_format` None: the simulator's default for the same credentials (the
        provider's bare CBC with `prepaid.iv`, or 16 zero bytes without one)."""
        self.credentials = credentials
        self.prepaid_token_format = (
            prepaid_token_format_for(credentials) if prepaid_token_format is None else prepaid_token_format
        )
        self.http = httpx.Client(base_url=base_url, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    # Each product signs with its own key (ProductKeys: seed 000 the wallet AesKey, 001 the
    # Payouts key, 002 and 004 the PG merchant key, 003 encrypts with the prepaid key).

    # -- seed 000 -----------------------------------------------------------------------------

    def wallet_post(
        self,
        path: str,
        body: Mapping[str, Any] | bytes,
        *,
        mid: str | None = None,
        checksum: str | None = None,
    ) -> httpx.Response:
        raw = body if isinstance(body, bytes) else dumps(body)
        headers = {
            "Content-Type": "application/json",
            "mid": self.credentials.mid if mid is None else mid,
            "checksumhash": generate_signature(raw, self.wallet_key) if checksum is None else checksum,
        }
        return self.http.post(path, content=raw, headers=headers)

    def credit(self, order_id: str, **request_fields: Any) -> dict[str, Any]:
        body = sales_to_user_credit_body(self.credentials, order_id, **request_fields)
        response = self.wallet_post("/wallet-web/salesToUserCredit", body)
        response.raise_for_status()
        result: dict[str, Any] = loads(response.content)
        return result

    def check_status(self, txn_id: str, request_type: str = "merchanttxnid") -> dict[str, Any]:
        body = {
            "request": {
                "requestType": request_type,
                "txnType": "SALES_TO_USER_CREDIT",
                "txnId": txn_id,
                "merchantGuid": self.credentials.wallet.merchant_guid,
            },
            "platformName": "PayTM",
            "operationType": "CHECK_TXN_STATUS",
        }
        response = self.wallet_post("/wallet-web/checkStatus", body)
        response.raise_for_status()
        result: dict[str, Any] = loads(response.content)
        return result

    # -- seed 001 -----------------------------------------------------------------------------

    def bpay_post(
        self, path: str, body: Mapping[str, Any] | bytes, *, checksum: str | None = None
    ) -> dict[str, Any]:
        raw = body if isinstance(body, bytes) else dumps(body)
        headers = {
            "Content-Type": "application/json",
            "x-mid": self.credentials.mid,
            "x-checksum": generate_signature(raw, self.payouts_key) if checksum is None else checksum,
        }
        response = self.http.post(path, content=raw, headers=headers)
        response.raise_for_status()
        result: dict[str, Any] = loads(response.content)
        return result

    def validate_wallet(self, order_id: str, phone: str, **fields: Any) -> dict[str, Any]:
        body = {
            "subwalletGuid": self.credentials.payouts.subwallet_guid,
            "orderId": order_id,
            "beneficiaryPhoneNo": phone,
            **fields,
        }
        return self.bpay_post("/bpay/api/v1/beneficiary/validate", body)

    def validation_status(self, order_id: str) -> dict[str, Any]:
        return self.bpay_post("/bpay/api/v1/disburse/order/query", {"orderId": order_id})

    # -- seed 003 -----------------------------------------------------------------------------

    def prepaid_headers(self) -> dict[str, str]:
        """What Tijori sends on creditAccount: JSON, and every header of `prepaid.headers`."""
        return {"Content-Type": "application/json", **self.credentials.prepaid.header_values()}

    def credit_account_raw(
        self, payload: Mapping[str, Any], *, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """PATCH creditAccount with `payload` encrypted and `headers` (default `prepaid_headers()`)."""
        fmt = self.prepaid_token_format
        body = dumps({"token": encrypt_token(loads(dumps(payload)), self.prepaid_key, token_format=fmt)})
        return self.http.patch(
            "/mob1/api/onboarding/v1/creditAccount",
            content=body,
            headers=dict(self.prepaid_headers() if headers is None else headers),
        )

    def credit_account(self, payload: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """PATCH creditAccount with `payload` encrypted; returns (HTTP status, decrypted answer)."""
        response = self.credit_account_raw(payload)
        answer = decrypt_token(
            loads(response.content)["token"], self.prepaid_key, token_format=self.prepaid_token_format
        )
        return response.status_code, answer

    def refuse_prepaid_connections(self, seconds: float) -> dict[str, Any]:
        """The prepaid gate refuses connections for `seconds` real seconds (0 < seconds <= 60)."""
        result: dict[str, Any] = self.control("POST", "prepaid/refuse-connections", {"seconds": seconds})
        return result

    # -- seeds 004 and 002: PG payments, withdraws, their status and refunds -------------------

    def json_data_post(
        self, path: str, data: Mapping[str, Any], checksum_field: str = "CHECKSUMHASH"
    ) -> dict[str, Any]:
        """Seed 002's `JsonData` form field, with Paytm's params checksum in `checksum_field`."""
        response = self.http.post(
            path, data={"JsonData": signed_json_data(data, self.pg_key, checksum_field)}
        )
        result: dict[str, Any] = loads(response.content)
        return result

    def card_payment(self, order_id: str, amount: str) -> str:
        """A PG order (seed 004) the customer paid by card; its TXNID."""
        body = initiate_body(self.credentials.mid, order_id, txnAmount={"value": amount, "currency": "INR"})
        self.http.post(
            INITIATE_PATH,
            params={"mid": self.credentials.mid, "orderId": order_id},
            content=signed_request(body, self.pg_key),
        )
        return str(self.control("POST", f"pg/checkout/{order_id}", {"outcome": "SUCCESS"})["txnId"])

    def withdraw(self, sso_token: str, order_id: str, amount: str = "1.00", **fields: Any) -> dict[str, Any]:
        """Seed 002's withdraw as its sample sends it (`directPay?JsonData=`, `CheckSum`)."""
        data = signed_json_data(
            withdraw_params(self.credentials.mid, sso_token, order_id, amount, **fields),
            self.pg_key,
            "CheckSum",
        )
        result: dict[str, Any] = loads(self.http.post(DIRECT_PAY_PATH, params={"JsonData": data}).content)
        return result

    def txn_status(self, order_id: str, **fields: str) -> dict[str, Any]:
        """Seed 002's transaction status (`fields`: e.g. TXN_TYPE)."""
        return self.json_data_post(
            STATUS_PATHS[0], {"MID": self.credentials.mid, "ORDERID": order_id, **fields}
        )

    def refund(self, order_id: str, txn_id: str, ref_id: str, amount: str) -> dict[str, Any]:
        """Seed 002's refund (TXNTYPE REFUND, checksum in the table's `CHECKSUM`)."""
        data = {
            "MID": self.credentials.mid,
            "TXNID": txn_id,
            "ORDERID": order_id,
            "REFUNDAMOUNT": amount,
            "TXNTYPE": "REFUND",
            "REFID": ref_id,
        }
        return self.json_data_post(REFUND_PATH, data, "CHECKSUM")

    # -- control API --------------------------------------------------------------------------

    def control(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        response = self.http.request(method, f"/_sim/{path}", content=None if body is None else dumps(body))
        response.raise_for_status()
        return loads(response.content)

    def user(self, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.control("POST", "users", fields)
        return result

    def sms(self, phone: str) -> dict[str, Any]:
        """The phone's SMS inbox: the latest OTP sent to it, `{phone, otp, sent_at}` (seed 002)."""
        result: dict[str, Any] = self.control("GET", f"autodebit/sms?phone={phone}")
        return result

    def advance(self, *, days: float = 0, hours: float = 0) -> dict[str, Any]:
        result: dict[str, Any] = self.control("POST", "clock/advance", {"days": days, "hours": hours})
        return result

    def fault(self, kind: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.control("POST", "faults", {"kind": kind, **fields})
        return result

    def conservation(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", "conservation")
        return result

    def balances(self) -> dict[str, str]:
        result: dict[str, str] = self.control("GET", "balances")
        return result
