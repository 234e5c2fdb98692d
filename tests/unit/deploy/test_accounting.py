"""The accounting invariant and the fault helpers, offline (the scenarios in tests/reliability use them)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from deploy.accounting import Ledger, verify
from deploy.faults import MemoryLog, children, kill, rss_mb, wait_restarted


def test_a_retried_request_counts_once_and_an_unanswered_one_may_land_once() -> None:
    ledger = Ledger("t")
    ledger.record(["a", "b"], None)  # timed out: unknown
    ledger.record(["a", "b"], {"results": [{"index": 0, "status": "duplicate", "id": "a"}]})  # retry
    assert ledger.accepted == {"a", "b"} and not ledger.uncertain
    ledger.record(["c"], None)
    assert verify(ledger, {"a": 1, "b": 1, "c": 1}, {}, set()).ok  # c landed although unanswered
    assert verify(ledger, {"a": 1, "b": 1}, {}, set()).ok  # or did not
    assert verify(ledger, {"a": 1, "b": 1, "c": 2}, {}, set()).doubled == {"c": 2}


def test_an_event_both_stored_and_dead_lettered_is_doubled() -> None:
    ledger = Ledger("t", accepted={"a"})
    assert verify(ledger, {"a": 1}, {"a": 1}, set()).doubled == {"a": 2}


def test_a_rejected_event_must_be_dead_lettered_not_stored() -> None:
    ledger = Ledger("t", rejected={"x"})
    assert verify(ledger, {"x": 1}, {}, set()).missing == ["x"]


def test_children_are_found_by_role_killed_and_measured() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "-m", "streams.worker"])
    try:
        deadline = time.monotonic() + 5
        while not children(os.getpid()).get("worker") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert children(os.getpid())["worker"] == [child.pid]
        assert (rss_mb(child.pid) or 0) > 1
        assert kill(os.getpid(), "worker") == child.pid
        child.wait(5)
        assert rss_mb(child.pid) is None
    finally:
        child.kill()
        child.wait()


def test_waiting_for_a_restart_times_out_when_nobody_restarts() -> None:
    started = time.monotonic()
    try:
        wait_restarted(os.getpid(), "broker", old_pid=-1, timeout_s=0.5)
    except TimeoutError:
        assert time.monotonic() - started < 3
    else:
        raise AssertionError("no broker child exists, yet a restart was reported")


def test_growth_ignores_a_process_that_restarted_in_the_window() -> None:
    log = MemoryLog([(float(t), "api", 1 if t < 50 else 2, 100.0) for t in range(100)])
    assert log.growth(0) == {}
    assert log.growth(60) == {"api": 0.0}
