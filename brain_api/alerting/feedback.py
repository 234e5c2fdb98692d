"""Operators' false-positive verdicts, published to `citybrain.feedback.v1` so detection adapts.

One record per evidence series (device, metric, detector), keyed by device like the events, in the shape
docs/architecture.md fixes. Sent synchronously (kafka-python, acks=all) from the request thread: the
transition is written only after Kafka took the feedback, so a 200 means detection will hear about it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from ingest.errors import BrokerUnavailable
from ingest.settings import get_kafka_settings
from streams.topics import FEEDBACK_TOPIC


def feedback_records(alert: Mapping[str, Any], note: str, at: datetime | None = None) -> list[dict[str, Any]]:
    """The feedback records for one alert, one per distinct (device, metric, detector).

    >>> ev = {"device_id": "d1", "metric": "speed_kmh", "detector": "seasonal"}
    >>> alert = {"id": "al-1", "evidence": [ev, dict(ev)]}
    >>> [r["device_id"] for r in feedback_records(alert, "road works")]
    ['d1']
    """
    at = at or datetime.now(UTC)
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for ev in alert.get("evidence") or ():
        key = (ev["device_id"], ev["metric"], ev["detector"])
        device_id, metric, detector = key
        seen.setdefault(key, {
            "alert_id": alert["id"], "device_id": device_id, "metric": metric, "detector": detector,
            "kind": "false_positive", "note": note, "at": at.isoformat(),
        })
    return list(seen.values())


class FeedbackPublisher:
    """A small kafka-python producer owned by the API process."""

    def __init__(self, bootstrap: str, *, client_id: str = "citybrain-api", timeout_s: float = 10.0) -> None:
        from kafka import KafkaProducer

        self.timeout_s = timeout_s
        self._producer = KafkaProducer(bootstrap_servers=bootstrap, client_id=client_id, acks="all",
                                       linger_ms=0, max_block_ms=int(timeout_s * 1000),
                                       compression_type=get_kafka_settings().compression_type)

    def publish(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Send and wait for the acks; `BrokerUnavailable` (-> 503) when Kafka did not take them."""
        from kafka.errors import KafkaError

        try:
            futures = [self._producer.send(FEEDBACK_TOPIC, key=r["device_id"].encode(), value=orjson.dumps(r))
                       for r in records]
            for f in futures:
                f.get(timeout=self.timeout_s)
        except KafkaError as exc:
            raise BrokerUnavailable(f"feedback not published: {exc}") from exc
        return len(futures)

    def close(self) -> None:
        self._producer.close(timeout=5)
