"""Seed 003's token envelope as the simulator names it: `provider` (the default) or `authenticated`.

The seed fixes AES-192-CBC but neither the IV nor any MAC. `provider` is the provider's own
format: bare CBC with a fixed IV (the credentials' `prepaid.iv`, or 16 zero bytes), no MAC.
`authenticated` is Tijori's variant (paytm_signing.envelope): a random IV in front and an
HMAC-SHA256 tag behind. `plain-cbc` and `tijori` are the older names of the two.
"""

from __future__ import annotations

from paytm_signing import DEFAULT_TOKEN_FORMAT, MerchantCredentials, TokenFormat

__all__ = [
    "DEFAULT_PREPAID_TOKEN_FORMAT_NAME",
    "PLAIN_CBC_DEFAULT_IV",
    "PREPAID_TOKEN_FORMAT_NAMES",
    "prepaid_token_format_for",
    "token_format_named",
]

PLAIN_CBC_DEFAULT_IV = bytes(16)
"""The fixed IV of the `provider` prepaid token format when neither the credentials (`prepaid.iv`)
nor the caller give one: 16 zero bytes."""

DEFAULT_PREPAID_TOKEN_FORMAT_NAME = "provider"  # noqa: S105 - a format name, not a secret
PREPAID_TOKEN_FORMAT_NAMES = ("provider", "authenticated", "plain-cbc", "tijori")
"""`provider` (the provider's own bare AES-192-CBC with a fixed IV, no MAC; the default) and
`authenticated` (Tijori's random IV + HMAC); `plain-cbc` and `tijori` are their older names."""
_ALIASES = {"plain-cbc": "provider", "tijori": "authenticated"}


def token_format_named(name: str, fixed_iv: bytes | None = None) -> TokenFormat:
    """`provider` (bare AES-192-CBC with a fixed IV, `fixed_iv` or 16 zero bytes, and no MAC) or
    `authenticated` (Tijori's convention: random IV in front + HMAC); `plain-cbc` and `tijori` are
    accepted as aliases of those. ValueError for another name, or a fixed IV with `authenticated`."""
    canonical = _ALIASES.get(name, name)
    if canonical == "authenticated":
        if fixed_iv is not None:
            raise ValueError("a fixed IV only goes with the provider (plain-cbc) token format")
        return DEFAULT_TOKEN_FORMAT
    if canonical == "provider":
        return TokenFormat(
            fixed_iv=PLAIN_CBC_DEFAULT_IV if fixed_iv is None else fixed_iv, authenticated=False
        )
    raise ValueError(
        f"unknown prepaid token format {name!r} (provider or authenticated; plain-cbc and tijori "
        "are their aliases)"
    )


def _credentials_iv(credentials: MerchantCredentials) -> bytes | None:
    if "prepaid" not in credentials.products:
        return None
    return credentials.prepaid.iv_bytes


def prepaid_token_format_for(
    credentials: MerchantCredentials,
    name: str = DEFAULT_PREPAID_TOKEN_FORMAT_NAME,
    fixed_iv: bytes | None = None,
) -> TokenFormat:
    """The prepaid token format `name` for these credentials: `provider` uses `fixed_iv` when
    given, else the credentials' `prepaid.iv`, else 16 zero bytes. What the simulator and
    `SimClient` both default to, so the two agree for the same credentials."""
    if _ALIASES.get(name, name) == "provider" and fixed_iv is None:
        fixed_iv = _credentials_iv(credentials)
    return token_format_named(name, fixed_iv)
