"""Ingest accounting: every item an adapter was handed is accepted, rejected or a duplicate — exactly.

Prometheus counters carry one label, the adapter name, taken from the fixed `ADAPTERS` list: a label
built from request data could leak an identifier into a metrics store, so unknown names are refused.
`ingest_stats()` reads the same numbers for `GET /api/v1/stats`; `received` is incremented by the
same call as the three outcomes, so `received == accepted + rejected + duplicates` always holds.
"""

from __future__ import annotations

import threading

from prometheus_client import Counter

ADAPTERS = (
    "http",  # POST /api/v1/events
    "heartbeats",  # POST /api/v1/heartbeats
    "reports",  # POST /api/v1/reports
    "viid-vehicles",  # POST /VIID/MotorVehicles
    "viid-persons",  # POST /VIID/Persons
    "viid-crowd",  # POST /VIID/CrowdCounts
    "mqtt",  # ingest.mqtt_bridge
    "replay",  # citybrain replay
)
OUTCOMES = ("accepted", "rejected", "duplicates")

RECEIVED = Counter("citybrain_ingest_received", "Items handed to an ingest adapter", ["adapter"])
ACCEPTED = Counter("citybrain_ingest_accepted", "Items published to citybrain.events.v1", ["adapter"])
REJECTED = Counter("citybrain_ingest_rejected", "Items refused and dead-lettered", ["adapter"])
DUPLICATES = Counter("citybrain_ingest_duplicates", "Items already seen (same source and id)", ["adapter"])
REFUSED = Counter(
    "citybrain_ingest_refused_requests",
    "Whole requests refused before parsing (size, broker down)",
    ["adapter", "reason"],
)

_lock = threading.Lock()
_stats: dict[str, dict[str, int]] = {}


def _known(adapter: str) -> str:
    if adapter not in ADAPTERS:
        raise ValueError(f"unknown adapter {adapter!r}; add it to ingest.metrics.ADAPTERS")
    return adapter


def record(adapter: str, *, accepted: int = 0, rejected: int = 0, duplicates: int = 0) -> None:
    """Count the outcome of one batch.

    >>> before = ingest_stats().get("replay", {}).get("received", 0)
    >>> record("replay", accepted=3, rejected=1, duplicates=1)
    >>> s = ingest_stats()["replay"]
    >>> s["received"] - before, s["received"] == s["accepted"] + s["rejected"] + s["duplicates"]
    (5, True)
    """
    _known(adapter)
    with _lock:
        row = _stats.setdefault(adapter, {"received": 0, "accepted": 0, "rejected": 0, "duplicates": 0})
        row["received"] += accepted + rejected + duplicates
        row["accepted"] += accepted
        row["rejected"] += rejected
        row["duplicates"] += duplicates
        RECEIVED.labels(adapter).inc(accepted + rejected + duplicates)
        ACCEPTED.labels(adapter).inc(accepted)
        REJECTED.labels(adapter).inc(rejected)
        DUPLICATES.labels(adapter).inc(duplicates)


def record_refused(adapter: str, reason: str) -> None:
    """Count a request refused as a whole (`too_large`, `broker_unavailable`); its items were not received."""
    REFUSED.labels(
        _known(adapter), reason if reason in {"too_large", "broker_unavailable"} else "other"
    ).inc()


def ingest_stats() -> dict[str, dict[str, int]]:
    """Per adapter: received, accepted, rejected, duplicates (a copy, safe to serialise)."""
    with _lock:
        return {adapter: dict(row) for adapter, row in _stats.items()}
