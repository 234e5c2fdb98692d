"""Delivery settings of the ingest producer: acks from every replica; idempotence only where the broker has it."""

from __future__ import annotations

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
