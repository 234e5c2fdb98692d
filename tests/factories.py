"""Test factories: one place that knows how to build valid records, so tests state only what matters."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from ingest.events import CityEvent
from streams.records import Anomaly

_seq = itertools.count(1)
T0 = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
HANGZHOU = (30.2741, 120.1551)


def event_dict(**over: Any) -> dict[str, Any]:
    """A valid CityEvent as a JSON-ready dict (the shape the API accepts)."""
    n = next(_seq)
    base: dict[str, Any] = {
        "id": f"e-{n}", "source": "test/traffic", "type": "reading",
        "time": (T0 + timedelta(seconds=n)).isoformat(), "device_id": "tdet-0042",
        "lat": HANGZHOU[0], "lon": HANGZHOU[1], "category": "traffic",
        "measurements": {"speed_kmh": 42.0, "occupancy": 0.31}, "attributes": {},
    }
    base.update(over)
    return base


def make_event(**over: Any) -> CityEvent:
    return CityEvent.model_validate(event_dict(**over))


def make_anomaly(**over: Any) -> Anomaly:
    n = next(_seq)
    base: dict[str, Any] = {
        "id": f"an-{n}", "event_id": f"e-{n}", "source": "test/traffic", "device_id": "tdet-0042",
        "metric": "speed_kmh", "category": "traffic", "cell": "88309a553dfffff",
        "lat": HANGZHOU[0], "lon": HANGZHOU[1], "time": T0 + timedelta(seconds=n),
        "observed": 8.0, "expected": 45.0, "score": 0.97, "threshold": 0.9,
        "detector": "seasonal", "detected_at": T0 + timedelta(seconds=n),
    }
    base.update(over)
    return Anomaly.model_validate(base)
