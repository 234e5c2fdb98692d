"""The storage interface every reader and writer uses, and the factory that picks a backend.

Queries use ClickHouse's `{name:Type}` parameters only (never string-built values): chdb binds them
server-side; the server backend rewrites them to clickhouse-driver's escaped client-side parameters.
Inserts are columnar (dict of column -> list/ndarray) in batches of thousands of rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ingest.errors import CityBrainError


class StoreUnavailable(CityBrainError):
    """ClickHouse did not answer (down, timed out, disk full); callers retry or answer 503."""


class Store(Protocol):
    backend: str  # "chdb" or "server"
    database: str

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns nothing (DDL, ALTER, INSERT ... SELECT)."""

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a SELECT; rows as dicts keyed by column name."""

    def prepare(self, table: str, columns: Mapping[str, Sequence[Any]]) -> Any:
        """The batch in the form `insert` takes fastest (chdb: an Arrow table). The sink prepares on its
        own thread so that its writer thread spends its time in ClickHouse."""

    def insert(self, table: str, columns: Any, *, dedup_token: str | None = None) -> int:
        """Insert one columnar batch (columns or what `prepare` made of them) as one block; returns rows
        written. Idempotent with `dedup_token`."""

    def close(self) -> None: ...


def insertable_columns(store: Store, table: str) -> dict[str, str]:
    """Column name -> ClickHouse type of what an INSERT may write (not MATERIALIZED/ALIAS columns).

    Both backends type their columnar batches with this; `system.columns` answers the same on chdb and on
    servers back to 18.16. Raises `LookupError` when the table does not exist.
    """
    rows = store.query(
        "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String}"
        " AND default_kind NOT IN ('MATERIALIZED', 'ALIAS')",
        {"db": store.database, "t": table},
    )
    if not rows:
        raise LookupError(f"table {store.database}.{table} does not exist (run `citybrain migrate`)")
    return {r["name"]: r["type"] for r in rows}


def open_store(url: str | None = None, *, database: str | None = None, path: str | None = None) -> Store:
    """Open the backend the settings name: a server URL -> clickhouse-driver, otherwise chdb at `path`."""
    from ingest.settings import get_common_settings
    from streams.settings import get_clickhouse_settings

    ch = get_clickhouse_settings()
    url = url if url is not None else ch.url
    database = database or ch.database
    if url:
        from streams.storage.server import ServerStore

        return ServerStore(url, database=database, connect_timeout_s=ch.connect_timeout_s)
    from streams.storage.embedded import EmbeddedStore

    return EmbeddedStore(path or str(get_common_settings().data_dir / "chdb"), database=database)
