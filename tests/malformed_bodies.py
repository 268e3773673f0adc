"""Bodies POST /v1/payouts must answer 4xx, never 5xx: one table for the handler and the runtime."""

from __future__ import annotations

import pytest

# (body, content-type, status, the `type` of the one `detail` entry)
MALFORMED_BODIES = [
    pytest.param(b"{not json", "application/json", 400, "json_invalid", id="not-json"),
    pytest.param(b"[" * 100_000, "application/json", 400, "json_too_deep", id="100000-levels"),
    pytest.param(b'{"a":' * 33 + b"1" + b"}" * 33, "application/json", 400, "json_too_deep", id="33-levels"),
    pytest.param(b'{"amount": "\xff\xfe"}', "application/json", 400, "body_not_utf8", id="not-utf8"),
    pytest.param(b'{"amount": NaN}', "application/json", 400, "json_invalid", id="nan"),
    pytest.param(b'{"n": ' + b"1" * 5000 + b"}", "application/json", 400, "json_invalid", id="huge-integer"),
    pytest.param(
        b"--x\r\n", "multipart/form-data", 415, "unsupported_media_type", id="multipart-no-boundary"
    ),
    pytest.param(b"a=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type", id="form"),
    pytest.param(b"{}", "text/plain", 415, "unsupported_media_type", id="text-plain"),
    pytest.param(b"{}", "application/json; charset=latin-1", 415, "unsupported_media_type", id="latin-1"),
    pytest.param(
        b'{"amount": "1.00", "amount": "9.00"}', "application/json", 400, "json_duplicate_key", id="dup"
    ),
    pytest.param(b"{}", None, 415, "unsupported_media_type", id="no-content-type"),
    pytest.param(b" " * (128 * 1024 + 1), "application/json", 413, "body_too_large", id="over-128-KiB"),
]
