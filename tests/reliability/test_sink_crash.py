"""Fault (b): the sink process is SIGKILLed after ClickHouse stored its batches but before it committed a
single Kafka offset; a new sink in the same group re-reads everything and must store nothing twice
(ClickHouse, not Kafka, is the record of progress: streams/storage/progress.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from benchmarks.harness import Pipeline, committed, wait_caught_up
from deploy.accounting import Ledger, check
from deploy.supervisor import Child, child_env
from ingest.topics import EVENTS_TOPIC
from streams.settings import get_sink_settings
from tests.reliability.conftest import produce_events

PARTITIONS = 4


def _stored_by(proc: subprocess.Popen[str], want: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    for line in proc.stdout:
        n = int(line.split()[1])
        if n >= want or time.monotonic() > deadline:
            return n
    raise AssertionError(f"crashing sink exited with {proc.wait()}")


def test_sink_killed_between_insert_and_commit_stores_each_event_once(tmp_path) -> None:
    ledger = Ledger("rel/sink-crash")
    with Pipeline(tmp_path, partitions=PARTITIONS, workers=0, sink=False) as pipe:
        bootstrap = pipe.broker.bootstrap
        first = produce_events(bootstrap, ledger, 0, 3000)
        env = child_env(CITYBRAIN_KAFKA_BOOTSTRAP=bootstrap, CITYBRAIN_DATA_DIR=str(tmp_path), CITYBRAIN_ENV="dev")
        argv = [sys.executable, "-m", "tests.reliability.sink_process", "--no-commit"]
        crashing = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert _stored_by(crashing, 3000, 120) == 3000
        finally:
            os.kill(crashing.pid, signal.SIGKILL)
            crashing.wait(10)
        group = get_sink_settings().group_id
        assert committed(bootstrap, group, EVENTS_TOPIC, PARTITIONS) == {}, "the crashed sink committed"
        second = produce_events(bootstrap, ledger, 3000, 2000)
        ends = {p: max(first.get(p, 0), second.get(p, 0)) for p in range(PARTITIONS)}
        pipe.sup.add(Child("sink", [sys.executable, "-m", "streams.storage.sink"], env,
                           tmp_path / "logs" / "sink.log", restart=False))
        wait_caught_up(pipe, group, EVENTS_TOPIC, ends, timeout_s=120)
        time.sleep(1.0)
    verdict = check(tmp_path / "chdb", ledger)
    assert verdict.ok and verdict.stored == 5000, verdict.summary()
