"""ClickHouse's own memory figures as a Prometheus gauge, read from `system.metrics` at each scrape.

Why: embedded ClickHouse (chdb) lives inside the API process, so that process's RSS mixes Python's heap
with ClickHouse's allocations and caches. A soak that sees the RSS grow needs to know which of the two
grows; operators of a server see the same figures for their server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

#: system.metrics name -> label value. MemoryTracking is everything ClickHouse allocated; the rest are
#: the caches that live inside it.
FIGURES = {
    "MemoryTracking": "tracked",
    "MarkCacheBytes": "mark_cache",
    "PrimaryIndexCacheBytes": "primary_index_cache",
    "UncompressedCacheBytes": "uncompressed_cache",
    "QueryCacheBytes": "query_cache",
    "QueryConditionCacheBytes": "query_condition_cache",
    "PageCacheBytes": "page_cache",
}
SQL = "SELECT metric, value FROM system.metrics WHERE metric IN ({})".format(
    ", ".join(f"'{name}'" for name in FIGURES))


class ClickHouseMemory(Collector):
    """`citybrain_clickhouse_memory_bytes{what=...}`; a failed read yields the family without samples."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The family without samples: registering must not query ClickHouse (without this method the
        registry calls `collect` to learn the name, a query on the API's start-up path)."""
        yield _family()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = _family()
        try:
            rows = self.store.query(SQL)
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database is down
            rows = []
        for row in rows:
            family.add_metric([FIGURES[row["metric"]]], float(row["value"]))
        yield family


def _family() -> GaugeMetricFamily:
    return GaugeMetricFamily("citybrain_clickhouse_memory_bytes",
                             "ClickHouse's tracked memory and its caches (system.metrics)", labels=["what"])
