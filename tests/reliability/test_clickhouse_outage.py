"""Fault (c): ClickHouse unreachable for CITYBRAIN_RELIABILITY_OUTAGE_S seconds (12 in CI, 60 for issue 10's
scenario) while events keep arriving and the worker keeps detecting.

The sink runs as its own process (server-mode layout) over chdb; for the outage its store answers every
insert and query with `StoreUnavailable`, exactly what the server backend raises when the server is down
(the real server outage, Debian's clickhouse-server stopped and restarted, is exercised at the sink level
by tests/integration/storage/test_sink_outage.py). Kafka keeps the data, the sink pauses and retries with
backoff, re-checks what landed, and afterwards every event is stored exactly once.
"""

from __future__ import annotations

import sys
import time

from benchmarks.harness import Pipeline, wait_caught_up
from deploy.accounting import Ledger, check
from deploy.supervisor import Child, child_env
from ingest.topics import EVENTS_TOPIC
from streams.settings import get_sink_settings
from tests.reliability.conftest import OUTAGE_S, produce_events

PARTITIONS = 4


def test_outage_pauses_the_sink_then_everything_is_stored_once(tmp_path) -> None:
    ledger = Ledger("rel/outage")
    flag = tmp_path / "clickhouse-down"
    group = get_sink_settings().group_id
    with Pipeline(tmp_path, partitions=PARTITIONS, workers=1, sink=False) as pipe:
        bootstrap = pipe.broker.bootstrap
        env = child_env(CITYBRAIN_KAFKA_BOOTSTRAP=bootstrap, CITYBRAIN_DATA_DIR=str(tmp_path), CITYBRAIN_ENV="dev",
                        CITYBRAIN_SINK_RETRY_BACKOFF_S="0.5", CITYBRAIN_SINK_RETRY_BACKOFF_MAX_S="4")
        sink = pipe.sup.add(Child("sink", [sys.executable, "-m", "tests.reliability.sink_process",
                                           "--outage-flag", str(flag)], env, tmp_path / "logs" / "sink.log",
                                  restart=False))
        ends = produce_events(bootstrap, ledger, 0, 2000)
        wait_caught_up(pipe, group, EVENTS_TOPIC, ends, timeout_s=120)
        logged_before = len(sink.log_path.read_text().splitlines())
        flag.touch()
        sent, outage_end = 2000, time.monotonic() + OUTAGE_S
        while time.monotonic() < outage_end:  # the city keeps talking; Kafka takes it
            for p, end in produce_events(bootstrap, ledger, sent, 500).items():
                ends[p] = max(ends.get(p, 0), end)
            sent += 500
            time.sleep(1.0)
        during = "\n".join(sink.log_path.read_text().splitlines()[logged_before:])
        flag.unlink()
        wait_caught_up(pipe, group, EVENTS_TOPIC, ends, timeout_s=120)
        time.sleep(1.5)
    # the outage's log: the retries name the cause, the periodic stats show the partitions paused
    assert "'paused': True" in during and "unreachable" in during, during[-2000:]
    verdict = check(tmp_path / "chdb", ledger)
    assert verdict.ok and verdict.stored == sent, verdict.summary()
