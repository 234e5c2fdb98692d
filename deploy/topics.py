"""Create the platform's topics (idempotent) with kafka-python's admin client, and wait until they serve."""

from __future__ import annotations

import time

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from ingest.errors import BrokerUnavailable
from streams.topics import TopicSpec, all_topics


def ensure_topics(bootstrap: str, partitions: int, replication: int = 1,
                  extra: list[TopicSpec] | None = None, timeout_s: float = 30.0) -> list[str]:
    """Create missing topics; returns the names that exist afterwards."""
    specs = all_topics(partitions) + list(extra or [])
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="citybrain-admin",
                                     request_timeout_ms=10_000)
            break
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise BrokerUnavailable(f"cannot reach Kafka at {bootstrap}: {exc}") from exc
            time.sleep(0.5)
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(s.name, s.partitions, replication,
                     topic_configs={"cleanup.policy": "compact"} if s.compacted else {})
            for s in specs if s.name not in existing
        ]
        for topic in missing:  # one by one: an "already exists" race must not hide the others
            try:
                admin.create_topics([topic])
            except TopicAlreadyExistsError:
                pass
        return sorted(set(admin.list_topics()))
    finally:
        admin.close()
