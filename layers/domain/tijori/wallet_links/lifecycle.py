"""The wallet link lifecycle as an explicit table (on tijori.lifecycle.states).

OTP_SENT: Paytm sent the customer an OTP (Send OTP API); its `state` stays on Tijori's side.
LINKED: the OTP was right (Verify OTP API): Tijori holds the customer's token, encrypted.
EXPIRED: Paytm no longer knows the token (Validate Token said 530, or a charge or a balance check
  found it rejected), or its expiry passed; the token is deleted. Final: a new link is needed.
REVOKED: the merchant deleted the link (Revoke Access API); the token is deleted.
FAILED: linking failed for good (5 wrong OTPs, the OTP expired, Paytm refused the phone).
"""

from __future__ import annotations

from enum import StrEnum

from tijori.lifecycle.states import StatusTable


class WalletLinkStatus(StrEnum):
    OTP_SENT = "OTP_SENT"
    LINKED = "LINKED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    FAILED = "FAILED"


_W = WalletLinkStatus
WALLET_LINK_LIFECYCLE: StatusTable[WalletLinkStatus] = StatusTable(
    "wallet link",
    {
        _W.OTP_SENT: frozenset({_W.LINKED, _W.FAILED, _W.REVOKED}),
        _W.LINKED: frozenset({_W.EXPIRED, _W.REVOKED}),
        _W.EXPIRED: frozenset(),
        _W.REVOKED: frozenset(),
        _W.FAILED: frozenset(),
    },
)
# Events to the merchant (tijori.lifecycle.announcements): each final status's detail-type.
WALLET_LINK_EVENT_TYPES = {
    WalletLinkStatus.EXPIRED: "WalletLinkExpired",
    WalletLinkStatus.REVOKED: "WalletLinkRevoked",
    WalletLinkStatus.FAILED: "WalletLinkFailed",
}
