"""Delivery settings of the ingest producer: acks from every replica; idempotence only where the broker has it."""

from __future__ import annotations

from ingest.packing import MAX_MESSAGE_BYTES
from ingest.publisher import EventPublisher
from ingest.settings import KafkaSettings


def test_acks_all_and_idempotence_follows_the_setting() -> None:
    embedded = EventPublisher("127.0.0.1:9", settings=KafkaSettings())
    server = EventPublisher("kafka:9092", settings=KafkaSettings(idempotent_producer=True))
    assert embedded.producer_options()["acks"] == server.producer_options()["acks"] == "all"
    # Tansu refuses idempotent producers (tests/integration/test_broker_conformance.py), Apache Kafka has them
    assert embedded.producer_options()["enable_idempotence"] is False
    assert server.producer_options()["enable_idempotence"] is True
    assert server.producer_options()["bootstrap_servers"] == "kafka:9092"


def test_batches_are_lz4_compressed_by_default_and_can_hold_several_requests() -> None:
    options = EventPublisher("127.0.0.1:9", settings=KafkaSettings()).producer_options()
    assert options["compression_type"] == "lz4"
    # a batch holds at least one whole packed message, so concurrent requests can share one
    assert options["max_batch_size"] >= MAX_MESSAGE_BYTES
    plain = EventPublisher("127.0.0.1:9", settings=KafkaSettings(compression="none")).producer_options()
    assert plain["compression_type"] is None
