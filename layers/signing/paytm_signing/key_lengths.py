"""Key lengths fixed by Paytm's algorithms, for code that checks keys without using them.

Validating the merchant secret (credentials) needs the prepaid token key's length, not the token
envelope: the functions that load credentials never build or read a prepaid token.
"""

PREPAID_KEY_LENGTH = 24
"""The prepaid-wallet token key: AES-192 (seed 003)."""
