"""Issue 8's multi-worker check on one machine: two faust workers in one consumer group against the
embedded broker; one is SIGKILLed mid-stream; the other takes its partitions, restores their detector
state from snapshots, and every event is stored exactly once.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from benchmarks.harness import Pipeline, wait_caught_up
from benchmarks.throughput import produce
from benchmarks.workload import generate
from ingest.topics import EVENTS_TOPIC
from streams.settings import get_detection_settings, get_sink_settings
from tests.chdb_query import query_chdb

pytestmark = pytest.mark.integration
PARTITIONS = 4


def _count(store_dir) -> tuple[int, int]:
    row = query_chdb(store_dir, "SELECT count() AS n, uniqExact(id) AS d FROM events")[0]
    return int(row["n"]), int(row["d"])


def test_killed_worker_partitions_move_with_state_and_nothing_is_lost(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CITYBRAIN_DETECT_SNAPSHOT_INTERVAL_S", "1")
    first = generate(200, 20_000, PARTITIONS, seed=21)
    second = generate(200, 20_000, PARTITIONS, seed=22)
    with Pipeline(tmp_path, partitions=PARTITIONS, workers=2) as pipe:
        time.sleep(10)  # both workers join the group
        ends = produce(pipe.broker.bootstrap, first.messages)
        wait_caught_up(pipe, get_detection_settings().group_id, EVENTS_TOPIC, ends, timeout_s=120)
        time.sleep(2.5)  # a snapshot after the last batch
        victim, survivor = pipe.sup.children[0], pipe.sup.children[1]
        assert victim.proc is not None
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait(5)
        pipe.sup.children.remove(victim)  # expected death: the harness must not report it
        ends = produce(pipe.broker.bootstrap, second.messages)
        wait_caught_up(pipe, get_detection_settings().group_id, EVENTS_TOPIC, ends, timeout_s=180)
        wait_caught_up(pipe, get_sink_settings().group_id, EVENTS_TOPIC, ends, timeout_s=120)
        victim_log = victim.log_path.read_text()
        survivor_log = survivor.log_path.read_text()
    victim_parts = set(re.findall(r"detect-(\d+): (?:cold start|restored)", victim_log))
    restored = set(re.findall(r"detect-(\d+): restored from snapshot", survivor_log))
    assert victim_parts, "the killed worker owned no events partition; the test proved nothing"
    assert victim_parts <= restored, f"partitions {victim_parts - restored} started cold on the survivor"
    total, distinct = _count(tmp_path / "chdb")
    assert (total, distinct) == (first.events + second.events,) * 2
