"""The worker's adaptive fetch wait against the real embedded broker: a backlog is read to the end from the
shortest possible starting wait, to which the broker answers nothing at all (see the conformance quirk)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from streams.fetch_wait import FetchWait, observe_fetches

pytestmark = pytest.mark.integration


class PeakWait(FetchWait):
    """Remembers the longest wait it asked for."""

    peak = 0

    def observe(self, behind: bool, delivered: bool) -> int:
        self.peak = max(self.peak, super().observe(behind, delivered))
        return self.ms


def until_all_read(offsets: list[int], within_s: float = 30) -> Iterator[None]:
    """One turn per poll until the 4,000 records are read or the time is up."""
    deadline = time.monotonic() + within_s
    while len(offsets) < 4000 and time.monotonic() < deadline:
        yield


def offsets_of(batches: dict[Any, list[Any]]) -> list[int]:
    return [r.offset for records in batches.values() for r in records]


@pytest.fixture(scope="module")
def backlog(kafka_bootstrap: str) -> str:
    """A topic holding 4,000 records of 1.8 kB (7 MB): more than the broker reads in a short wait. Both tests
    read it from offset 0 without a group, so they share it."""
    unique_name = f"backlog-{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(unique_name, 1, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5)
    for i in range(4000):
        producer.send(unique_name, i.to_bytes(4, "big") * 450, partition=0)
    producer.flush()
    producer.close()
    return unique_name


def test_the_workers_consumer_reads_a_backlog_to_the_end(kafka_bootstrap: str, backlog: str) -> None:
    unique_name = backlog
    policy = PeakWait(min_ms=0, max_ms=2000)

    async def read() -> list[int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False,
                                    fetch_max_wait_ms=0, max_partition_fetch_bytes=16 << 20)
        observe_fetches(consumer, policy)
        await consumer.start()
        tp = TopicPartition(unique_name, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        offsets: list[int] = []
        try:
            for _ in until_all_read(offsets):
                offsets += offsets_of(await consumer.getmany(timeout_ms=500))
        finally:
            await consumer.stop()
        return offsets

    offsets = asyncio.run(read())
    assert offsets == list(range(4000)), f"read {len(offsets)} of 4000 records"
    assert policy.peak > 0, "the broker answered nothing with data waiting: the wait went up"


def test_the_sinks_consumer_reads_a_backlog_to_the_end(kafka_bootstrap: str, backlog: str) -> None:
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KafkaTP

    from streams.fetch_wait import observe_kafka_python_fetches

    policy = PeakWait(min_ms=0, max_ms=2000)
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False, fetch_max_wait_ms=0,
                             max_partition_fetch_bytes=16 << 20)
    observe_kafka_python_fetches(consumer, policy)
    tp = KafkaTP(backlog, 0)
    consumer.assign([tp])
    consumer.seek(tp, 0)
    offsets: list[int] = []
    try:
        for _ in until_all_read(offsets):
            offsets += offsets_of(consumer.poll(500))
    finally:
        consumer.close()
    assert offsets == list(range(4000)), f"read {len(offsets)} of 4000 records"
    assert policy.peak > 0, "the broker answered nothing with data waiting: the wait went up"
