"""Opaque keyset cursors for alert pages: the (created_at, id) of the last row, base64url-encoded.

Keyset rather than OFFSET because new alerts arrive at the head of the list all the time: an offset would
shift under the reader and repeat or skip rows, a key does not.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

import orjson


class InvalidCursor(ValueError):
    """The cursor was not produced by this API (or was tampered with)."""


def encode_cursor(created_at: datetime, alert_id: str) -> str:
    """The cursor for a page that ends at this row.

    >>> c = encode_cursor(datetime(2026, 11, 21, 2, 0, tzinfo=UTC), "al-1")
    >>> decode_cursor(c)
    (datetime.datetime(2026, 11, 21, 2, 0, tzinfo=datetime.timezone.utc), 'al-1')
    """
    raw = orjson.dumps([created_at.astimezone(UTC).isoformat(timespec="milliseconds"), alert_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) inside a cursor; anything else is refused, never passed on to SQL.

    >>> decode_cursor("x' OR 1=1 --")
    Traceback (most recent call last):
    ...
    brain_api.alerting.cursor.InvalidCursor: invalid cursor
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, alert_id = orjson.loads(raw)
        when = datetime.fromisoformat(at)
        if not isinstance(alert_id, str) or when.tzinfo is None or len(alert_id) > 256:
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise InvalidCursor("invalid cursor") from exc
    return when, alert_id
