"""Load with memory flat: the platform under a steady feed for CITYBRAIN_RELIABILITY_SOAK_S seconds (35 in
CI; `citybrain chaos --soak 1800` is issue 10's 30-minute run), RSS of every process sampled, growth
after warm-up bounded, spikes alerted and the books balanced. Faults are off here so every process lives
through the whole window (a restarted process starts small again and would hide a leak)."""

from __future__ import annotations

import os

from deploy.chaos import run_chaos

SOAK_S = float(os.environ.get("CITYBRAIN_RELIABILITY_SOAK_S", "35"))
MAX_GROWTH_MB = float(os.environ.get("CITYBRAIN_RELIABILITY_MAX_GROWTH_MB", "64"))


def test_short_soak_keeps_memory_flat_and_the_books_balanced(tmp_path) -> None:
    report = run_chaos(tmp_path / "citybrain", soak_s=SOAK_S, rate=200, faults=[], every_s=15, warmup_s=15,
                       devices=6, progress=False)
    print(report.text())
    assert report.verdict.ok, report.text()
    assert report.verdict.accepted > 100 * SOAK_S * 0.8 and report.verdict.spikes >= SOAK_S // 30
    assert {"api", "worker", "broker"} <= set(report.growth_mb), report.text()
    assert not report.leaks(MAX_GROWTH_MB), report.text()
