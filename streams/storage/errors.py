"""Tell availability problems from programming errors in ClickHouse failures.

Callers treat the two very differently: an outage (disk full, memory limit, server down, timeout) is
retried with backoff or answered with 503, while a rejected statement (syntax, unknown column, type
mismatch) is a bug that must surface at once. ClickHouse reports the kind as `Code: N.` in every message.
"""

from __future__ import annotations

import re

from ingest.errors import CityBrainError

# ClickHouse error codes (src/Common/ErrorCodes.cpp) that mean "try again later", not "fix the query".
UNAVAILABLE_CODES = frozenset({
    159,  # TIMEOUT_EXCEEDED
    173,  # CANNOT_ALLOCATE_MEMORY
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    209,  # SOCKET_TIMEOUT
    210,  # NETWORK_ERROR
    241,  # MEMORY_LIMIT_EXCEEDED
    242,  # TABLE_IS_READ_ONLY
    243,  # NOT_ENOUGH_SPACE
    252,  # TOO_MANY_PARTS
    279,  # ALL_CONNECTION_TRIES_FAILED
    319,  # UNKNOWN_STATUS_OF_INSERT
    425,  # SYSTEM_ERROR
    999,  # KEEPER_EXCEPTION
})
_DISK_WORDS = ("no space left", "disk quota exceeded", "read-only file system", "cannot write to file")
_CODE = re.compile(r"Code:\s*(\d+)")


class QueryRejected(CityBrainError):
    """ClickHouse refused the statement itself (syntax, unknown table or column, bad type): a bug."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class IncompatibleServer(CityBrainError):
    """The ClickHouse server is too old for the schema (needs DateTime64, Map, TTL: 23.8 or newer)."""


def error_code(message: str) -> int | None:
    """The ClickHouse error code quoted in a message, if any.

    >>> error_code("Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)")
    243
    >>> error_code("boom") is None
    True
    """
    m = _CODE.search(message)
    return int(m.group(1)) if m else None


def is_unavailable(message: str, code: int | None = None) -> bool:
    """True when the failure is about the server's state (retry later), not about the statement.

    >>> is_unavailable("Code: 60. DB::Exception: Table d.nope does not exist. (UNKNOWN_TABLE)")
    False
    >>> is_unavailable("Cannot write to file /data/x.bin: No space left on device")
    True
    """
    code = code if code is not None else error_code(message)
    if code in UNAVAILABLE_CODES:
        return True
    lowered = message.lower()
    return any(word in lowered for word in _DISK_WORDS)
