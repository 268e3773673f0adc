"""Our signer against Paytm's official library, interleaved rounds in one process.

Rounds alternate between the two implementations so that noise on this shared machine hits both
alike; each figure is the median of the rounds, and the ratios compare medians.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import paytmchecksum

from paytm_signing import generate_signature, verify_signature

KEY = "p618HE2Oz3$WjT1L"
BODY = (
    '{"request":{"requestType":null,"merchantGuid":"6c119d23-9ae0-42ea-bb8c-b180ca4d3efb",'
    '"merchantOrderId":"ORD-1001","salesWalletName":null,"salesWalletGuid":'
    '"3856aa1a-4a26-11e9-af8f-fa163e429e83","payeeEmailId":null,"payeePhoneNumber":"7777777777",'
    '"payeeSsoId":"","appliedToNewUsers":"N","amount":"1.00","currencyCode":"INR"},'
    '"metadata":"Testing Data","ipAddress":"127.0.0.1","platformName":"PayTM",'
    '"operationType":"SALES_TO_USER_CREDIT"}'
)
ROUNDS = 7
CALLS_PER_ROUND = 5_000


def _rate(operation: Callable[[], object]) -> float:
    started = time.perf_counter()
    for _ in range(CALLS_PER_ROUND):
        operation()
    return CALLS_PER_ROUND / (time.perf_counter() - started)


def run() -> dict[str, float]:
    signature = generate_signature(BODY, KEY)
    official_signature = paytmchecksum.generateSignature(BODY, KEY)
    assert verify_signature(BODY, KEY, official_signature)
    assert paytmchecksum.verifySignature(BODY, KEY, signature)

    operations: dict[str, Callable[[], object]] = {
        "sign": lambda: generate_signature(BODY, KEY),
        "official_sign": lambda: paytmchecksum.generateSignature(BODY, KEY),
        "verify": lambda: verify_signature(BODY, KEY, official_signature),
        "official_verify": lambda: paytmchecksum.verifySignature(BODY, KEY, signature),
    }
    for operation in operations.values():  # warm up caches and the allocator
        for _ in range(500):
            operation()
    samples: dict[str, list[float]] = {name: [] for name in operations}
    for _ in range(ROUNDS):
        for name, operation in operations.items():
            samples[name].append(_rate(operation))
    median = {name: statistics.median(values) for name, values in samples.items()}
    return {
        "signing.sign_per_s": round(median["sign"]),
        "signing.verify_per_s": round(median["verify"]),
        "signing.official_sign_per_s": round(median["official_sign"]),
        "signing.official_verify_per_s": round(median["official_verify"]),
        "signing.sign_ratio": round(median["sign"] / median["official_sign"], 2),
        "signing.verify_ratio": round(median["verify"] / median["official_verify"], 2),
    }
