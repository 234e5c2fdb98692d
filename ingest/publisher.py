"""`EventPublisher`: the one way ingest writes to Kafka — packed events, dead letters, device records.

aiokafka, `acks=all`, idempotent where the broker supports it (`CITYBRAIN_KAFKA_IDEMPOTENT_PRODUCER`;
Apache Kafka yes, the embedded Tansu broker no, so off by default), and `publish()`
returns only after the broker acknowledged every message, so an HTTP 202 means "on the bus". Dead
letters carry the original bytes with identifiers scrubbed (`ingest.redact`) and the reason in headers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from ingest.errors import BrokerUnavailable, PartialPublish
from ingest.events import CityEvent
from ingest.packing import MAX_MESSAGE_BYTES, pack_events
from ingest.pseudonym import Pseudonymizer
from ingest.redact import redact_bytes
from ingest.settings import KafkaSettings, get_kafka_settings
from ingest.topics import CONTENT_TYPE_BATCH, DEADLETTER_TOPIC, DEVICES_TOPIC, EVENTS_TOPIC

log = logging.getLogger(__name__)


class EventPublisher:
    """Publishes `CityEvent`s to `citybrain.events.v1` and rejects to `citybrain.deadletter.v1`.

    Use as `async with EventPublisher(bootstrap) as pub: await pub.publish(events)`, or call
    `start()`/`stop()` from an application lifespan.
    """

    def __init__(
        self,
        bootstrap: str | None = None,
        *,
        settings: KafkaSettings | None = None,
        pseudonymizer: Pseudonymizer | None = None,
        events_topic: str = EVENTS_TOPIC,
        timeout_s: float = 30.0,
    ) -> None:
        self.settings = settings or get_kafka_settings()
        self.bootstrap = bootstrap or self.settings.bootstrap
        if not self.bootstrap:
            raise BrokerUnavailable("no Kafka bootstrap address: set CITYBRAIN_KAFKA_BOOTSTRAP")
        self.pz = pseudonymizer or Pseudonymizer.from_settings()
        self.events_topic = events_topic
        self.timeout_s = timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._partitions: dict[str, int] = {}

    def producer_options(self) -> dict[str, Any]:
        """What the producer is started with (kept apart so the delivery settings are testable)."""
        return {
            "bootstrap_servers": self.bootstrap,
            "client_id": f"{self.settings.client_id}-ingest",
            "acks": "all",
            "enable_idempotence": self.settings.idempotent_producer,
            "linger_ms": self.settings.linger_ms,
            "compression_type": self.settings.compression_type,
            # one batch may hold the packed messages of several concurrent requests for the same partition:
            # the embedded broker's fetch slows with the number of batches it holds, not with their bytes
            "max_batch_size": MAX_MESSAGE_BYTES,
            "max_request_size": MAX_MESSAGE_BYTES + 100_000,
            "request_timeout_ms": int(self.timeout_s * 1000),
        }

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(**self.producer_options())
        try:
            await self._producer.start()
        except KafkaError as exc:
            self._producer = None
            raise BrokerUnavailable(f"cannot reach Kafka at {self.bootstrap}: {exc}") from exc

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def __aenter__(self) -> EventPublisher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise BrokerUnavailable("publisher is not started")
        return self._producer

    async def partitions(self, topic: str) -> int:
        if topic not in self._partitions:
            found = await self.producer.partitions_for(topic)
            self._partitions[topic] = len(found)
        return self._partitions[topic]

    async def publish(self, events: Sequence[CityEvent], *, topic: str | None = None) -> int:
        """Publish events packed per partition; returns the number of Kafka messages acknowledged."""
        if not events:
            return 0
        topic = topic or self.events_topic
        try:
            packed = pack_events(
                events, await self.partitions(topic), max_events=self.settings.max_events_per_message
            )
            headers = [("content-type", CONTENT_TYPE_BATCH)]
            futures = [
                await self.producer.send(topic, m.value, key=m.key, partition=m.partition, headers=headers)
                for m in packed
            ]
        except (KafkaError, TimeoutError) as exc:
            raise BrokerUnavailable(f"Kafka did not take {len(events)} events: {exc!r}") from exc
        done, _ = await asyncio.wait(futures, timeout=self.timeout_s)
        ok = [f in done and not f.cancelled() and f.exception() is None for f in futures]
        if not all(ok):
            acked = frozenset(k for m, landed in zip(packed, ok, strict=True) if landed for k in m.event_keys)
            errors = [f.exception() for f in done if not f.cancelled() and f.exception() is not None]
            why = repr(errors[0]) if errors else f"no answer within {self.timeout_s}s"
            raise PartialPublish(f"Kafka acknowledged {len(acked)} of {len(events)} events: {why}", acked)
        return len(packed)

    async def dead_letter(self, raw: bytes, reason: str, adapter: str, field: str | None = None) -> None:
        """Keep a rejected item (identifiers scrubbed) with the reason in `cb-*` headers."""
        await self.dead_letters([(raw, reason, field)], adapter)

    async def dead_letters(self, items: Sequence[tuple[bytes, str, str | None]], adapter: str) -> None:
        futures = []
        try:
            for raw, reason, field in items:
                value = redact_bytes(raw, self.pz)
                headers = [
                    ("cb-reason", reason.encode()[:4000]),
                    ("cb-stage", b"ingest"),
                    ("cb-adapter", adapter.encode()),
                ]
                if field:
                    headers.append(("cb-field", field.encode()[:256]))
                if len(value) > MAX_MESSAGE_BYTES:
                    value = value[:MAX_MESSAGE_BYTES]
                    headers.append(("cb-truncated", b"1"))
                futures.append(await self.producer.send(DEADLETTER_TOPIC, value, headers=headers))
            await asyncio.wait_for(asyncio.gather(*futures), self.timeout_s)
        except (KafkaError, TimeoutError) as exc:
            raise BrokerUnavailable(f"Kafka did not acknowledge {len(items)} dead letters: {exc!r}") from exc

    async def send_record(self, topic: str, key: str, record: dict[str, Any]) -> None:
        """One JSON record (e.g. a device change on `citybrain.devices.v1`), keyed, acknowledged."""
        try:
            future = await self.producer.send(topic, orjson.dumps(record), key=key.encode())
            await asyncio.wait_for(future, self.timeout_s)
        except (KafkaError, TimeoutError) as exc:
            raise BrokerUnavailable(f"Kafka did not acknowledge a record on {topic}: {exc!r}") from exc

    async def send_device(self, record: dict[str, Any]) -> None:
        await self.send_record(DEVICES_TOPIC, record["device_id"], record)
