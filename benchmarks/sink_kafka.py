"""`bench_sink_through_kafka`: the sink as it runs, Kafka included, against the embedded broker.

`bench_storage` times the sink's path from the message bytes on (decode, id check, Arrow, overlapped
inserts), which is what the issue's insert figure is about. This one adds what it leaves out: the
messages are first produced (untimed, lz4 batches, as ingest sends them) into a fresh Tansu broker, then
a real `Sink` with its own consumer group reads them, and the clock runs from its partition assignment
until ClickHouse holds every row. The difference between the two figures is the cost of fetching from
the broker (BENCHMARKS.md, Storage). Wired to `citybrain bench storage --through-kafka [--json]`.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from typing import Any

from kafka import KafkaProducer

from benchmarks.harness import cpu_seconds
from deploy.broker import EmbeddedBroker
from deploy.topics import ensure_topics
from ingest.topics import EVENTS_TOPIC
from streams.settings import ClickHouseSettings
from streams.storage.bench import messages
from streams.storage.embedded import EmbeddedStore
from streams.storage.migrate import migrate
from streams.storage.sink import Sink


def _produce(bootstrap: str, rows: int, devices: int, hours: float) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=1 << 20,
                             max_request_size=8 << 20, compression_type="lz4")
    for i, value in enumerate(messages(rows, devices, hours)):
        producer.send(EVENTS_TOPIC, value, key=f"k{i % 64}".encode())
    producer.flush()
    producer.close()


def bench_sink_through_kafka(rows: int = 2_000_000, *, devices: int = 10_000, hours: float = 24.0,
                             partitions: int = 8, timeout_s: float = 1800.0) -> dict[str, Any]:
    """Produce `rows` events into a fresh embedded broker, then time a real sink storing all of them.

    The broker keeps everything in memory (~165 bytes of lz4 per event): 2 M events by default."""
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory(prefix="citybrain-bench-") as tmp:
        ensure_topics(broker.bootstrap, partitions)
        _produce(broker.bootstrap, rows, devices, hours)
        store = EmbeddedStore(tmp, database=f"bench_{uuid.uuid4().hex[:8]}")
        try:
            migrate(store, ClickHouseSettings(retention_events_days=30))
            sink = Sink(store, broker.bootstrap, topics=[EVENTS_TOPIC], group_id=f"bench-{uuid.uuid4().hex[:8]}")
            sink.start()
            if not sink.assigned.wait(120):
                raise TimeoutError("the sink got no partitions from the embedded broker within 120 s")
            broker_cpu0, cpu0, t0 = cpu_seconds(broker.proc.pid), time.process_time(), time.perf_counter()
            deadline = t0 + timeout_s
            while sink.stats()["rows"].get("events", 0) < rows and time.perf_counter() < deadline:
                time.sleep(0.05)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            broker_cpu = cpu_seconds(broker.proc.pid) - broker_cpu0
            sink.stop()
            counted = store.query("SELECT count() AS n, uniqExact(id) AS d FROM events")[0]
        finally:
            store.close()
    stored = sink.stats()["rows"].get("events", 0)
    return {
        "rows": rows, "stored_rows": counted["n"], "distinct_rows": counted["d"], "partitions": partitions,
        "sink_rows_per_s": round(stored / seconds), "seconds": round(seconds, 2),
        # the sink's process: its thread, the writer, chdb's inserts and merges, the kafka-python client
        "sink_process_cpu_s": round(cpu, 2),
        "broker_cpu_s": round(broker_cpu, 2),
        "batches": sink.stats()["batches"],
    }
