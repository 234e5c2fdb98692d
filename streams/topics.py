"""Every Kafka topic of the platform, with its partition count, in one list the runner creates.

Events are keyed by device, so per-device order and detector state stay on one partition/worker.
Department topics carry only that department's alerts (least privilege on the bus, too).
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.topics import DEADLETTER_TOPIC, DEVICES_TOPIC, EVENTS_TOPIC

ANOMALIES_TOPIC = "citybrain.anomalies.v1"
INCIDENTS_TOPIC = "citybrain.incidents.v1"
ALERTS_TOPIC = "citybrain.alerts.v1"
FEEDBACK_TOPIC = "citybrain.feedback.v1"
DEPARTMENTS = ("traffic", "public-security", "environment", "health", "city-management")


def department_topic(department: str) -> str:
    """The topic a department subscribes to.

    >>> department_topic("traffic")
    'citybrain.alerts.traffic.v1'
    """
    return f"citybrain.alerts.{department}.v1"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    compacted: bool = False


def all_topics(partitions: int) -> list[TopicSpec]:
    """The topics `citybrain up` (and `deploy/`) create. Keyed data topics get `partitions`."""
    spread = [EVENTS_TOPIC, ANOMALIES_TOPIC, FEEDBACK_TOPIC]
    small = [DEADLETTER_TOPIC, DEVICES_TOPIC, INCIDENTS_TOPIC, ALERTS_TOPIC, *map(department_topic, DEPARTMENTS)]
    return [TopicSpec(t, partitions) for t in spread] + [TopicSpec(t, max(1, partitions // 4)) for t in small]
