"""Outage or bug: the classification callers rely on to retry (503) or fail fast."""

from __future__ import annotations

import pytest

from streams.storage.errors import error_code, is_unavailable


@pytest.mark.parametrize("message", [
    "Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)",
    "Code: 241. DB::Exception: Memory limit (total) exceeded. (MEMORY_LIMIT_EXCEEDED)",
    "Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS)",
    "Cannot write to file /data/store/x.bin, errno: 28, strerror: No space left on device",
])
def test_availability_problems(message: str) -> None:
    assert is_unavailable(message)


@pytest.mark.parametrize("message", [
    "Code: 62. DB::Exception: Syntax error: failed at position 8. (SYNTAX_ERROR)",
    "Code: 47. DB::Exception: Unknown expression identifier `nope`. (UNKNOWN_IDENTIFIER)",
    "Code: 60. DB::Exception: Table x.y does not exist. (UNKNOWN_TABLE)",
])
def test_programming_errors(message: str) -> None:
    assert not is_unavailable(message)


def test_code_from_driver_exception_wins_over_text() -> None:
    assert is_unavailable("timeout", code=159)
    assert error_code("no code here") is None
