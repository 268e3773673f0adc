"""The customer's wallet token, sealed with envelope encryption under the stack's KMS key.

Each seal asks KMS for a fresh AES-256 data key (GenerateDataKey) bound to the link by the
encryption context, encrypts the token with AES-GCM (the link id as associated data), and keeps
only the data key's KMS ciphertext beside it. Opening asks KMS to decrypt the data key with the
same context: a sealed token copied to another link does not open. Neither the token nor the
data key is logged, and X-Ray's botocore patch records no KMS parameters.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

__all__ = ["KmsTokenVault", "SealedTokenError"]

_FORMAT = "kms1"


class SealedTokenError(ValueError):
    """A stored token that does not open (another link's, altered, or another key's)."""


def _context(link_id: str) -> dict[str, str]:
    return {"tijori:purpose": "paytm-wallet-token", "tijori:link_id": link_id}


class KmsTokenVault:
    def __init__(self, kms_client: Any, key_id: str) -> None:
        self._kms = kms_client
        self._key_id = key_id

    def seal(self, link_id: str, token: SecretStr) -> str:
        data_key = self._kms.generate_data_key(
            KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=_context(link_id)
        )
        nonce = os.urandom(12)
        ciphertext = AESGCM(data_key["Plaintext"]).encrypt(
            nonce, token.get_secret_value().encode("utf-8"), link_id.encode("utf-8")
        )
        parts = (data_key["CiphertextBlob"], nonce, ciphertext)
        return ".".join([_FORMAT, *(base64.urlsafe_b64encode(part).decode("ascii") for part in parts)])

    def open(self, link_id: str, sealed: str) -> SecretStr:
        try:
            kind, blob, nonce, ciphertext = sealed.split(".")
            if kind != _FORMAT:
                raise ValueError(kind)
            raw = [base64.urlsafe_b64decode(part) for part in (blob, nonce, ciphertext)]
        except ValueError:
            raise SealedTokenError(f"the stored token of link {link_id!r} is not a sealed token") from None
        refused = SealedTokenError(f"the stored token of link {link_id!r} does not open")
        try:
            data_key = self._kms.decrypt(CiphertextBlob=raw[0], EncryptionContext=_context(link_id))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "InvalidCiphertextException":
                raise refused from None
            raise
        try:
            plain = AESGCM(data_key["Plaintext"]).decrypt(raw[1], raw[2], link_id.encode("utf-8"))
        except InvalidTag:
            raise refused from None
        return SecretStr(plain.decode("utf-8"))
