"""EventPublisher against the real broker: packed batches land on Kafka's default partition for their
device, in order, with the batch content type; dead letters carry reason headers and scrubbed bytes."""

from __future__ import annotations

import orjson
import pytest

from ingest.events import CityEvent
from ingest.packing import partition_for
from ingest.publisher import EventPublisher
from ingest.topics import DEADLETTER_TOPIC, EVENTS_TOPIC
from tests.factories import make_event

pytestmark = pytest.mark.integration


async def test_packed_batches_land_on_the_default_partition_in_order(publisher, read, unique_name):
    devices = [f"{unique_name}-d{i}" for i in range(12)]
    events = [make_event(id=f"{unique_name}-{n}", device_id=devices[n % 12]) for n in range(1200)]
    publisher.settings = publisher.settings.model_copy(update={"max_events_per_message": 100})

    messages_sent = await publisher.publish(events)

    got = read(EVENTS_TOPIC, lambda m: unique_name.encode() in m.value, expect=messages_sent)
    assert len(got) == messages_sent >= 12  # 1200 events, <= 100 per message, several partitions
    partitions = await publisher.partitions(EVENTS_TOPIC)
    seen: dict[str, list[str]] = {}
    for m in got:
        assert m.headers["content-type"] == b"application/cloudevents-batch+json"
        batch = [CityEvent.model_validate(e) for e in orjson.loads(m.value)]
        assert len(batch) <= 100
        for e in batch:
            assert m.partition == partition_for(e.device_id, partitions)
            seen.setdefault(e.device_id, []).append(e.id)
    assert sum(map(len, seen.values())) == 1200
    for device, ids in seen.items():  # per-device order survives packing
        assert ids == [e.id for e in events if e.device_id == device]


async def test_dead_letter_keeps_bytes_and_reason_but_no_clear_identifier(publisher, read, unique_name):
    raw = f'{{"id": "{unique_name}", "attributes": {{"plate_no": "浙A99999"}}, "lat": 123'.encode()

    await publisher.dead_letter(raw, "lat: Input should be <= 90 (got 123)", "http", field="lat")

    [m] = read(DEADLETTER_TOPIC, lambda m: unique_name.encode() in m.value, expect=1)
    assert m.headers["cb-reason"] == b"lat: Input should be <= 90 (got 123)"
    assert m.headers["cb-stage"] == b"ingest"
    assert m.headers["cb-adapter"] == b"http"
    assert m.headers["cb-field"] == b"lat"
    assert "浙A99999".encode() not in m.value
    assert m.value.startswith(f'{{"id": "{unique_name}", "attributes": {{"plate_no": "ps1:k2:'.encode())
    assert m.value.endswith(b'"lat": 123')


async def test_unreachable_broker_is_reported_not_swallowed(pz):
    from deploy.broker import free_port
    from ingest.errors import BrokerUnavailable

    publisher = EventPublisher(f"127.0.0.1:{free_port()}", pseudonymizer=pz, timeout_s=2.0)
    with pytest.raises(BrokerUnavailable):
        await publisher.start()
