"""`wait_until`: poll a condition against a running platform, failing with what was awaited (and its logs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def wait_until(check: Callable[[], Any], timeout_s: float, what: str, *, every_s: float = 0.25,
               logs: Callable[[], str] | None = None) -> Any:
    """The first truthy value of `check()` within `timeout_s`; otherwise the test fails naming `what`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(every_s)
    pytest.fail(f"{what} not seen within {timeout_s} s" + (f"\n{logs()}" if logs else ""))
