"""ClickHouse storage: one `Store` interface, two backends (embedded chdb, server via clickhouse-driver),
numbered DDL in `migrations/` applied by `migrate`, and the exactly-once `sink`.

SQL is written once, with ClickHouse's native `{name:Type}` bound parameters, for both backends.
Where to start reading: `base.py` (the interface), `migrations/` (the schema), `sink.py` (Kafka -> tables)
and `progress.py` (why a replay after a crash stores nothing twice). May import `ingest` and `streams`.
"""

from streams.storage.base import Store, StoreUnavailable, open_store

__all__ = ["Store", "StoreUnavailable", "open_store"]
