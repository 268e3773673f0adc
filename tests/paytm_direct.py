"""Talking to the simulator as another system would: a signed credit that bypasses Tijori."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from paytm_signing import MerchantCredentials, generate_signature
from tijori.payouts.models import Payout, PayoutRequest
from tijori.paytm.wallet_mapping import sales_to_user_credit_body


def credit_directly(
    sim_url: str, credentials: MerchantCredentials, *, order_id: str, phone: str, amount: str = "10.00"
) -> dict[str, Any]:
    """Send salesToUserCredit for `order_id` straight to the simulator; return its answer."""
    request = PayoutRequest.model_validate(
        {"order_id": order_id, "amount": amount, "payee": {"phone": phone}}
    )
    body = sales_to_user_credit_body(
        Payout.accept(request, datetime.now(UTC)),
        merchant_guid=credentials.wallet.merchant_guid,
        sales_wallet_guid=credentials.wallet.sales_wallet_guid,
        verify_only=False,
    )
    headers = {
        "mid": credentials.mid,
        "checksumhash": generate_signature(body, credentials.wallet.checksum_key.current),
    }
    response = httpx.post(f"{sim_url}/wallet-web/salesToUserCredit", content=body, headers=headers)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer
