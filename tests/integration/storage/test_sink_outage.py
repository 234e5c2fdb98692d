"""ClickHouse down while the city keeps talking: Kafka holds the data, the sink pauses, then catches up.

Runs against the real clickhouse-server (stopped and restarted) through the server backend, on the
sink's feedback table in 18.16's dialect (see conftest). The outage lasts CITYBRAIN_TEST_OUTAGE_S seconds
(12 by default to keep CI short; set 60 for the issue's full scenario).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from kafka import KafkaProducer

from streams.settings import SinkSettings
from streams.storage.sink import Sink
from streams.topics import FEEDBACK_TOPIC

pytestmark = pytest.mark.integration
OUTAGE_S = float(os.environ.get("CITYBRAIN_TEST_OUTAGE_S", "12"))


def _feedback(p: KafkaProducer, run: str, first: int, count: int) -> None:
    for i in range(first, first + count):
        record = {"alert_id": f"{run}-{i}", "device_id": f"dev-{i % 11}", "metric": "speed_kmh",
                  "detector": "seasonal", "kind": "false_positive", "note": "", "at": datetime.now(UTC).isoformat()}
        p.send(FEEDBACK_TOPIC, orjson.dumps(record), key=record["device_id"].encode())
    p.flush()


def _stored(store: Any, run: str) -> tuple[int, int]:
    try:
        row = store.query("SELECT count() AS n, uniqExact(alert_id) AS d FROM feedback WHERE alert_id LIKE {p:String}",
                          {"p": f"{run}-%"})[0]
    except Exception:  # noqa: BLE001 - the server is down on purpose part of the time
        return -1, -1
    return row["n"], row["d"]


def _wait(check: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.3)


def test_outage_loses_and_doubles_nothing(
    server_sink_tables: Any, clickhouse_server: Any, kafka_bootstrap: str, kafka_topics: list[str], unique_name: str
) -> None:
    server_store = server_sink_tables
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5)
    settings = SinkSettings(batch_rows=500, batch_age_s=0.3, retry_backoff_s=0.3, retry_backoff_max_s=2.0)
    sink = Sink(server_store, kafka_bootstrap, topics=[FEEDBACK_TOPIC], group_id=unique_name, settings=settings)
    sink.start()
    try:
        _feedback(producer, unique_name, 0, 1000)
        _wait(lambda: _stored(server_store, unique_name)[0] == 1000, 60)
        clickhouse_server.stop()
        outage_end = time.monotonic() + OUTAGE_S
        produced = 1000
        while time.monotonic() < outage_end:  # the feed keeps going; Kafka takes it
            _feedback(producer, unique_name, produced, 200)
            produced += 200
            time.sleep(1.0)
        stats = sink.stats()
        assert stats["paused"] and stats["errors"].get("unavailable", 0) >= 1
        clickhouse_server.start()
        _wait(lambda: _stored(server_store, unique_name)[0] >= produced, 90)
        time.sleep(1.5)
        assert _stored(server_store, unique_name) == (produced, produced)
        assert not sink.stats()["paused"]
    finally:
        if clickhouse_server.proc is None:  # the assertions above failed mid-outage
            clickhouse_server.start()
        sink.stop()
        producer.close()
