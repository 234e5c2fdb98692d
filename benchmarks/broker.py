"""`citybrain bench broker`: what the embedded broker's memory-only log costs as it grows.

Why this exists: long soaks at thousands of events/s slowed down after minutes, with Tansu using a whole core.
Two figures explain it and size the workarounds (docs/guarantees.md, BENCHMARKS.md):

- **fetch time per stored batch.** A fetch reads a partition by listing every batch the partition holds, so
  each fetch costs time in proportion to the batches stored so far. Measured on one partition filled with
  single-record batches; the slope is what every consumer pays per fetch per partition.
- **bytes held per event.** Nothing is ever evicted, so the broker's memory grows by what it stores;
  batch compression (`CITYBRAIN_KAFKA_COMPRESSION`) divides that.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from benchmarks.throughput import produce
from benchmarks.workload import generate
from deploy.broker import EmbeddedBroker
from deploy.faults import rss_mb
from deploy.topics import ensure_topics
from ingest.settings import KafkaSettings
from ingest.topics import EVENTS_TOPIC


def _tail_fetch_ms(consumer: KafkaConsumer, tp: TopicPartition, end: int, repeats: int = 5) -> float:
    """Median time to read the last record: the fetch a consumer at the tip makes all the time."""
    times = []
    for _ in range(repeats):
        consumer.seek(tp, end - 1)
        t0 = time.perf_counter()
        while not consumer.poll(timeout_ms=1000):
            pass
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def fetch_cost(batches: int, step: int) -> dict[str, Any]:
    """Tail-fetch time after every `step` single-record batches, and its slope per stored batch."""
    points: dict[int, float] = {}
    with EmbeddedBroker() as broker:
        ensure_topics(broker.bootstrap, partitions=1)
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=0,
                                 max_in_flight_requests_per_connection=1)
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100)
        tp = TopicPartition(EVENTS_TOPIC, 0)
        consumer.assign([tp])
        for stored in range(step, batches + 1, step):
            for _ in range(step):  # each send waits for its ack, so each record is a batch of its own
                producer.send(EVENTS_TOPIC, b"x" * 200, partition=0).get(timeout=30)
            points[stored] = round(_tail_fetch_ms(consumer, tp, stored), 2)
        producer.close()
        consumer.close()
    xs, ys = np.array(list(points)), np.array(list(points.values()))
    slope = float(np.polyfit(xs, ys, 1)[0]) * 1000  # ms per batch -> µs per batch
    return {"tail_fetch_ms_by_stored_batches": points, "fetch_us_per_stored_batch": round(slope, 3)}


def bytes_per_event(events: int, compression: str) -> float:
    """Broker RSS growth per event after producing simulator-shaped packed events (`compression`: a
    `CITYBRAIN_KAFKA_COMPRESSION` value)."""
    workload = generate(10_000, events, 8)
    with EmbeddedBroker() as broker:
        ensure_topics(broker.bootstrap, partitions=8)
        assert broker.proc is not None
        before = rss_mb(broker.proc.pid) or 0.0
        produce(broker.bootstrap, workload.messages, settings=KafkaSettings(compression=compression))
        return ((rss_mb(broker.proc.pid) or 0.0) - before) * 2**20 / events


def bench_broker(batches: int = 60_000, step: int = 10_000, events: int = 1_000_000) -> dict[str, Any]:
    result = fetch_cost(batches, step)
    result["bytes_per_event"] = {c: round(bytes_per_event(events, c), 1) for c in ("none", "lz4")}
    return result
