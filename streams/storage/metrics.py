"""Prometheus metrics of the storage sink (module-level: one registration per process, however many sinks).

Labels are table names only — never device ids or other identifiers. `SinkStats` keeps the same numbers
per sink instance for `Sink.stats()` and `/api/v1/stats`, which cannot read them back from a registry.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

ROWS = Counter("citybrain_sink_rows_total", "Rows inserted into ClickHouse by the sink", ["table"])
BATCH_SECONDS = Histogram(
    "citybrain_sink_batch_seconds", "Time to insert one batch into one table",
    ["table"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ERRORS = Counter("citybrain_sink_errors_total", "Failed inserts/commits by kind", ["kind"])
DEAD = Counter("citybrain_sink_deadletters_total", "Messages the sink itself could not decode")
LAG = Gauge("citybrain_sink_lag_messages", "High watermark minus position, summed over partitions")
REPEATED = Counter("citybrain_sink_repeated_events_total",
                   "Events not stored because the same (source, id) was stored moments before")
PAUSED = Gauge("citybrain_sink_paused", "1 while the sink has stopped fetching because ClickHouse failed")


@dataclass
class SinkStats:
    """Per-instance counters, safe to read from the API thread while the sink thread writes."""

    rows: Tally[str] = field(default_factory=Tally)
    errors: Tally[str] = field(default_factory=Tally)
    messages: int = 0
    batches: int = 0
    skipped: int = 0
    deadletters: int = 0
    repeats: int = 0
    lag: int | None = None
    paused: bool = False
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def inserted(self, table: str, rows: int, seconds: float) -> None:
        ROWS.labels(table).inc(rows)
        BATCH_SECONDS.labels(table).observe(seconds)
        with self._lock:
            self.rows[table] += rows

    def failed(self, kind: str, message: str) -> None:
        ERRORS.labels(kind).inc()
        with self._lock:
            self.errors[kind] += 1
            self.last_error = message[:500]

    def repeated(self, n: int) -> None:
        if n:
            REPEATED.inc(n)
            with self._lock:
                self.repeats += n

    def set_paused(self, paused: bool) -> None:
        PAUSED.set(1 if paused else 0)
        self.paused = paused

    def set_lag(self, lag: int | None) -> None:
        if lag is not None:
            LAG.set(lag)
        self.lag = lag

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rows": dict(self.rows), "rows_total": sum(self.rows.values()), "errors": dict(self.errors),
                "messages": self.messages, "batches": self.batches, "skipped_already_stored": self.skipped,
                "deadletters": self.deadletters, "repeated_events": self.repeats, "lag": self.lag,
                "paused": self.paused, "last_error": self.last_error,
            }
