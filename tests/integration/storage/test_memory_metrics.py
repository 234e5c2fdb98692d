"""ClickHouse's memory figures reach Prometheus from both backends, and a dead database does not break a scrape."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from streams.storage.base import StoreUnavailable
from streams.storage.memory_metrics import ClickHouseMemory


def _scrape(store: Any) -> str:
    registry = CollectorRegistry()
    registry.register(ClickHouseMemory(store))
    return generate_latest(registry).decode()


def test_tracked_memory_is_exported_from_either_backend(any_store: Any) -> None:
    any_store.query("SELECT count() AS n FROM numbers(100000)")
    text = _scrape(any_store)
    name = 'citybrain_clickhouse_memory_bytes{what="tracked"}'
    tracked = [line for line in text.splitlines() if line.startswith(name)]
    assert len(tracked) == 1 and float(tracked[0].split()[-1]) > 0, text


class _Down:
    def query(self, *_: Any, **__: Any) -> list[dict[str, Any]]:
        raise StoreUnavailable("Code: 210. connection refused")


def test_a_scrape_while_clickhouse_is_down_still_answers() -> None:
    text = _scrape(_Down())
    assert "# TYPE citybrain_clickhouse_memory_bytes gauge" in text and "what=" not in text


class _Counting:
    queries = 0

    def query(self, *_: Any, **__: Any) -> list[dict[str, Any]]:
        self.queries += 1
        return []


def test_registering_does_not_query_clickhouse() -> None:
    store = _Counting()
    CollectorRegistry(auto_describe=True).register(ClickHouseMemory(store))
    assert store.queries == 0
