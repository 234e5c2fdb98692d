"""`citybrain chaos`: the platform under load while its parts are killed, then the books are checked.

One run: start `citybrain up` in a fresh data dir, warm detectors up, stream readings at `rate`, and every
`every_s` seconds inject the next fault of the list (round robin) plus a spike that must become an alert;
RSS of every process is sampled throughout. At the end the platform is stopped and `deploy.accounting`
checks that every accepted event is stored exactly once and every spike alerted (named by an alert, or
joined to an incident already alerted: fusion re-alerts an open incident only on escalation or a new episode).

Faults: `worker` (SIGKILL a faust worker mid-batch; the supervisor restarts it, it resumes from committed
offsets with restored snapshots), `sink` (SIGKILL the API process that hosts the embedded sink, so a batch
may be inserted but not committed), `broker` (SIGKILL the memory-only broker; the feed pauses until what
was accepted is stored first, because in-flight events die with an embedded broker — see
docs/guarantees.md).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from deploy.accounting import Verdict, check
from deploy.faults import MemoryLog, kill, wait_restarted
from deploy.load import Feeder
from deploy.local import LocalPlatform

FAULTS = ("worker", "sink", "broker")
# The embedded broker keeps every message in memory (no retention): its growth is data, not a leak.
HOLDS_DATA = ("broker",)
_ROLE = {"worker": "worker", "sink": "api", "broker": "broker"}
SPIKE_GAP_S = 330.0  # a device spikes again only after the fusion window (300 s) closed its incident


@dataclass
class ChaosReport:
    verdict: Verdict
    memory: MemoryLog
    growth_mb: dict[str, float]
    faults: list[tuple[float, str, int]] = field(default_factory=list)  # (t, fault, killed pid)
    client_retries: int = 0

    def text(self) -> str:
        growth = ", ".join(f"{k} {v:+.1f}" for k, v in self.growth_mb.items()) or "n/a"
        done = ", ".join(f"{f}@{t:.0f}s" for t, f, _ in self.faults) or "none"
        return (f"faults: {done}\nclient retries: {self.client_retries}\nRSS (MiB):\n{self.memory.table()}\n"
                f"RSS growth after warm-up (MiB): {growth} (the memory-only broker holds every message)\n"
                f"invariant: {self.verdict.summary()}")

    def leaks(self, bound_mb: float) -> dict[str, float]:
        """Processes that grew more than `bound_mb` after warm-up, except those that hold the data."""
        return {k: v for k, v in self.growth_mb.items() if v > bound_mb and not k.startswith(HOLDS_DATA)}


def stored_count(platform: LocalPlatform) -> int:
    try:
        r = httpx.get(f"{platform.base_url}/api/v1/stats", headers=platform.headers, timeout=10)
        return int(r.json()["events_stored"]) if r.status_code == 200 else -1
    except (httpx.HTTPError, ValueError, KeyError):
        return -1


def wait_stored(platform: LocalPlatform, count: int, timeout_s: float) -> bool:
    """Until ClickHouse holds at least `count` events (this data dir holds only the run's events)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stored_count(platform) >= count:
            return True
        time.sleep(0.5)
    return False


def alert_naming(platform: LocalPlatform, device: str, event_id: str) -> dict[str, Any] | None:
    """The alert (served by the API) whose evidence names `event_id`, if there is one yet."""
    try:
        r = httpx.get(f"{platform.base_url}/api/v1/alerts", params={"device_id": device},
                      headers=platform.headers, timeout=10)
        alerts = r.json().get("data", []) if r.status_code == 200 else []
    except (httpx.HTTPError, ValueError):
        return None
    return next((a for a in alerts if any(e.get("event_id") == event_id for e in a.get("evidence", []))), None)


def wait_alerts(platform: LocalPlatform, spikes: dict[str, str], timeout_s: float) -> bool:
    """Until every spike (event id -> device) is named by an alert, e.g. after a worker restart."""
    deadline, waiting = time.monotonic() + timeout_s, dict(spikes)
    while waiting and time.monotonic() < deadline:
        waiting = {e: d for e, d in waiting.items() if alert_naming(platform, d, e) is None}
        time.sleep(0.5 if waiting else 0)
    return not waiting


def inject(platform: LocalPlatform, fault: str, feeder: Feeder, drain_s: float = 120.0) -> int:
    """Kill the process behind `fault` and wait for its restart; returns the killed pid."""
    runner = platform.proc.pid if platform.proc else 0
    role = _ROLE[fault]
    if fault == "broker":  # stop feeding and let the pipeline drain: only in-flight data dies with it
        wait_stored(platform, len(feeder.ledger.accepted), drain_s)
    pid = kill(runner, role)
    wait_restarted(runner, role, pid)
    return pid


def run_chaos(data_dir: Path, *, soak_s: float, rate: float, faults: list[str], every_s: float = 30.0,
              warmup_s: float = 20.0, sample_s: float = 2.0, devices: int = 12, batch: int | None = None,
              progress: bool = True) -> ChaosReport:
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown faults {sorted(unknown)}; choose from {', '.join(FAULTS)}")
    platform = LocalPlatform(data_dir, env={"CITYBRAIN_DETECT_SNAPSHOT_INTERVAL_S": "5"}).start()
    runner = platform.proc.pid if platform.proc else 0
    done: list[tuple[float, str, int]] = []
    feeder = Feeder(platform.base_url, platform.headers, f"chaos/{uuid.uuid4().hex[:8]}", devices=devices)
    try:
        feeder.warm_up()
        memory, started = MemoryLog(), time.monotonic()
        last_spike = {d: -SPIKE_GAP_S for d in feeder.devices}
        spikes: dict[str, str] = {}
        next_fault, turn = started + warmup_s + every_s, 0

        def elapsed() -> float:
            return time.monotonic() - started

        while elapsed() < soak_s:
            fault, before = (faults[turn % len(faults)] if faults else None), len(done)
            with feeder.live(rate, batch):  # worker and sink die under load; the broker only once drained
                while elapsed() < soak_s and time.monotonic() < next_fault:
                    memory.sample(runner)
                    time.sleep(sample_s)
                if fault and fault != "broker" and elapsed() < soak_s:
                    done.append((elapsed(), fault, inject(platform, fault, feeder)))
            if fault == "broker" and elapsed() < soak_s:
                done.append((elapsed(), fault, inject(platform, fault, feeder)))
            if progress and len(done) > before:
                print(f"[{done[-1][0]:6.0f}s] {done[-1][1]}: pid {done[-1][2]} killed and restarted", flush=True)
            ready = [d for d in feeder.devices if elapsed() - last_spike[d] > SPIKE_GAP_S]
            if ready and elapsed() < soak_s:  # a spike after each fault: it must still become an alert
                last_spike[ready[0]] = elapsed()
                spikes[feeder.spike(ready[0])] = ready[0]
            next_fault, turn = time.monotonic() + every_s, turn + 1
        wait_stored(platform, len(feeder.ledger.accepted), 120)
        wait_alerts(platform, spikes, 60)  # the books say which are missing
    finally:
        platform.stop(timeout_s=30)
        feeder.close()
    return ChaosReport(check(data_dir / "chdb", feeder.ledger), memory, memory.growth(warmup_s), done,
                       feeder.failures)
