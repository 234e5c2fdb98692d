"""Fault (a): a faust worker SIGKILLed mid-batch is restarted by the runner's supervisor, resumes from
committed offsets with every partition's detector state restored from its snapshot, and a spike on a
device warmed before the crash still becomes an alert naming the spike's event id."""

from __future__ import annotations

import time

from deploy.chaos import wait_stored
from deploy.faults import kill, wait_restarted
from tests.reliability.conftest import settle, wait_alert


def test_killed_worker_resumes_with_restored_state_and_loses_nothing(start_platform, feeder_for) -> None:
    platform = start_platform()
    runner = platform.proc.pid
    feeder = feeder_for(platform)
    feeder.warm_up()
    assert wait_stored(platform, len(feeder.ledger.accepted), 90), platform.logs()
    time.sleep(2.5)  # a snapshot after the warm-up batches (interval 1 s in these tests)
    worker_log = platform.data_dir / "logs" / "worker-0.log"
    snapshotted = {p.stem.split("-")[1] for p in (platform.data_dir / "state").glob("detect-*.snap")}
    with feeder.live(rate=150):
        time.sleep(3)  # the worker is mid-stream, batches in hand
        old = kill(runner, "worker")
        before_restart = worker_log.stat().st_size
        wait_restarted(runner, "worker", old)
        time.sleep(4)
    second_life = worker_log.read_bytes()[before_restart:].decode(errors="replace")
    deadline = time.monotonic() + 60
    while "Worker ready" not in second_life and time.monotonic() < deadline:
        time.sleep(0.5)
        second_life = worker_log.read_bytes()[before_restart:].decode(errors="replace")
    restored = {line.split("detect-")[1].split(":")[0] for line in second_life.splitlines()
                if "detect-" in line and "restored from snapshot" in line}
    assert snapshotted and snapshotted <= restored, second_life[-3000:]
    spike = feeder.spike(feeder.devices[1])
    wait_alert(platform, feeder.devices[1], spike)
    settle(platform, feeder)
