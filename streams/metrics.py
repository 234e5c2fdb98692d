"""Prometheus metrics of the worker. Labels are stage names only — never device ids or identifiers."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_SCORED = Counter("citybrain_detect_events_total", "Events scored by the detection agent")
ANOMALIES = Counter("citybrain_detect_anomalies_total", "Anomalies emitted")
DETECT_SECONDS = Histogram(
    "citybrain_detect_batch_seconds", "Detector latency per partition batch",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
DEAD_LETTERS = Counter("citybrain_deadletters_total", "Records sent to the dead-letter topic", ["stage"])
INCIDENTS = Counter("citybrain_fusion_incident_updates_total", "Incident creations and updates")
ALERTS = Counter("citybrain_fusion_alerts_total", "Alerts emitted (new or escalated)")
STALLS = Counter(
    "citybrain_worker_partition_stalls_total",
    "Partitions found stalled by the watchdog, by what was done (seek, then restart)", ["action"],
)
FETCH_WAIT_MS = Gauge(
    "citybrain_fetch_max_wait_ms", "Max-wait of a consumer's next fetch (streams.fetch_wait)", ["client"],
)
SUPPRESSED = Counter("citybrain_fusion_alerts_suppressed_total", "Alerts held back by per-department rate limits")


def observe_detect(events: int, anomalies: int, seconds: float) -> None:
    EVENTS_SCORED.inc(events)
    ANOMALIES.inc(anomalies)
    DETECT_SECONDS.observe(seconds)


def observe_fusion(incidents: int, alerts: int, suppressed: int) -> None:
    INCIDENTS.inc(incidents)
    ALERTS.inc(alerts)
    SUPPRESSED.inc(suppressed)
