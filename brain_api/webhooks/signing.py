"""HMAC-SHA256 signatures on webhook bodies, so a receiver can tell our deliveries from forgeries.

The signature covers the raw body bytes exactly as sent (`X-CityBrain-Signature: sha256=<hex>`); the
attempt time travels in `X-CityBrain-Timestamp` and the delivery id in `X-CityBrain-Delivery`, which
receivers use to drop duplicates (delivery is at-least-once: retries and re-drives after a restart).
The body itself carries `delivery_id` and `sent_at`, so a signed body cannot be replayed under a new id.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

SIGNATURE_HEADER = "X-CityBrain-Signature"
TIMESTAMP_HEADER = "X-CityBrain-Timestamp"
DELIVERY_HEADER = "X-CityBrain-Delivery"
EVENT_HEADER = "X-CityBrain-Event"
_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The signature header value for `body`.

    >>> sign("s3cret-key", b'{"a":1}')
    'sha256=169d7e505376f878e245391f706b07a7c9de0b2d84cfc526bb64da7aaee88324'
    """
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is the signature of `body` under `secret` (constant-time comparison).

    >>> body = b'{"alert":"a-1"}'
    >>> verify("s3cret-key", body, sign("s3cret-key", body))
    True
    >>> verify("s3cret-key", body + b" ", sign("s3cret-key", body))
    False
    >>> verify("s3cret-key", body, None)
    False
    """
    if not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body), header)


def signed_headers(secret: str, body: bytes, *, delivery_id: str, at: datetime) -> Mapping[str, str]:
    """Every header one delivery attempt carries.

    >>> from datetime import UTC, datetime
    >>> h = signed_headers("s3cret-key", b"{}", delivery_id="d-1", at=datetime(2026, 1, 1, tzinfo=UTC))
    >>> h[TIMESTAMP_HEADER], h[DELIVERY_HEADER], verify("s3cret-key", b"{}", h[SIGNATURE_HEADER])
    ('1767225600', 'd-1', True)
    """
    return {
        "Content-Type": "application/json",
        "User-Agent": "citybrain-webhooks/1",
        SIGNATURE_HEADER: sign(secret, body),
        TIMESTAMP_HEADER: str(int(at.timestamp())),
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: "alert",
    }
