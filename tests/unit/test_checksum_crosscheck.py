"""Our signer against Paytm's official library (paytmchecksum 1.7.0), in both directions."""

from __future__ import annotations

import paytmchecksum
from hypothesis import given, settings
from hypothesis import strategies as st

from paytm_signing import generate_signature, verify_signature

KEYS = st.sampled_from(["p618HE2Oz3$WjT1L", "8HNAlIrCRZg1LsKnGO3ciADW", "k" * 16 + "Z" * 16])
# Any text, non-ASCII included (Devanagari, emoji), but no lone surrogates: they are not UTF-8.
TEXT = st.text(st.characters(codec="utf-8"), max_size=300)
PARAM_VALUES = st.one_of(st.none(), st.just("null"), st.just("NULL"), TEXT)
PARAMS = st.dictionaries(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(lambda key: key != "CHECKSUMHASH"),
    PARAM_VALUES,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(body=TEXT, key=KEYS)
def test_official_library_verifies_our_string_signatures(body: str, key: str) -> None:
    assert paytmchecksum.verifySignature(body, key, generate_signature(body, key)) is True


@settings(max_examples=150, deadline=None)
@given(body=TEXT, key=KEYS)
def test_we_verify_official_string_signatures(body: str, key: str) -> None:
    assert verify_signature(body, key, paytmchecksum.generateSignature(body, key)) is True


@settings(max_examples=150, deadline=None)
@given(params=PARAMS, key=KEYS)
def test_official_library_verifies_our_params_signatures(params: dict[str, str | None], key: str) -> None:
    signature = generate_signature(params, key)
    assert paytmchecksum.verifySignature(dict(params), key, signature) is True


@settings(max_examples=150, deadline=None)
@given(params=PARAMS, key=KEYS)
def test_we_verify_official_params_signatures(params: dict[str, str | None], key: str) -> None:
    signature = paytmchecksum.generateSignature(dict(params), key)
    assert verify_signature(params, key, signature) is True


@settings(max_examples=100, deadline=None)
@given(body=TEXT, other=TEXT, key=KEYS)
def test_signature_of_one_body_does_not_verify_another(body: str, other: str, key: str) -> None:
    signature = paytmchecksum.generateSignature(body, key)
    assert verify_signature(other, key, signature) is (other == body)
