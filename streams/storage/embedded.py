"""`EmbeddedStore`: ClickHouse in-process through chdb, the default backend of `citybrain up`.

One process owns a chdb directory (chdb refuses a second path in the same process), and inside that
process the API reads while the sink thread inserts, so every call goes through one lock per directory.
Inserts hand chdb an Arrow table (`INSERT ... SELECT ... FROM Python(batch)`), never text VALUES.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from streams.storage.arrow import rows_of, to_arrow
from streams.storage.base import StoreUnavailable, insertable_columns
from streams.storage.errors import QueryRejected, error_code, is_unavailable
from streams.storage.params import render_params

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
TOKEN = re.compile(r"^[A-Za-z0-9_.:\-]{1,200}$")
#: Per-table insert settings. The rollup views of `events` GROUP BY their keys already, so the merge pass
#: `optimize_on_insert` runs over each new rollup part finds nothing to fold and only costs CPU.
INSERT_SETTINGS = {"events": "optimize_on_insert = 0"}
_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: str) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, threading.RLock())


def check_identifier(name: str) -> str:
    """Database/table names cannot be bound parameters, so they must be plain identifiers.

    >>> check_identifier("citybrain_t1")
    'citybrain_t1'
    """
    if not IDENT.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


class EmbeddedStore:
    """chdb session on `path`, working in `database` (created if missing)."""

    backend = "chdb"

    def __init__(self, path: str | Path, database: str = "citybrain") -> None:
        from chdb.session import Session

        self.path = str(Path(path).resolve())
        self.database = check_identifier(database)
        Path(self.path).mkdir(parents=True, exist_ok=True)
        self._lock = _lock_for(self.path)
        self._types: dict[str, dict[str, str]] = {}
        with self._lock:
            try:
                self._session = Session(self.path)
            except RuntimeError as exc:  # "EmbeddedServer already initialized with path ..."
                raise StoreUnavailable(f"chdb at {self.path}: {exc} (one process owns one chdb dir)") from exc
            self._run(f"CREATE DATABASE IF NOT EXISTS {self.database}")
            self._run(f"USE {self.database}")
            # Strings leave as bytes and become text only when valid UTF-8 (`arrow.rows_of`).
            self._run("SET output_format_parquet_string_as_string = 0")

    def _run(self, sql: str, fmt: str = "CSV", params: Mapping[str, str] | None = None) -> Any:
        try:
            return self._session.query(sql, fmt, params=dict(params) if params else None)
        except Exception as exc:  # chdb raises ChdbError/RuntimeError carrying ClickHouse's message
            message = str(exc)
            if is_unavailable(message):
                raise StoreUnavailable(f"chdb: {message}") from exc
            raise QueryRejected(message, error_code(message)) from exc

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        rendered = render_params(sql, params)
        with self._lock:
            self._run(sql, "CSV", rendered)
            if sql.lstrip()[:6].upper() in ("ALTER ", "DROP T", "CREATE"):
                self._types.clear()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        rendered = render_params(sql, params)
        with self._lock:
            # Parquet, not Arrow: chdb's Arrow output turns DateTime into bare uint32 seconds.
            data = self._run(sql, "Parquet", rendered).bytes()
        return rows_of(pq.read_table(pa.BufferReader(data))) if data else []

    def column_types(self, table: str) -> dict[str, str]:
        """Column name -> ClickHouse type, cached (inserts need it to type the Arrow batch)."""
        if table not in self._types:
            try:
                self._types[table] = insertable_columns(self, table)
            except LookupError as exc:
                raise QueryRejected(str(exc)) from exc
        return self._types[table]

    def prepare(self, table: str, columns: Mapping[str, Sequence[Any]]) -> pa.Table:
        """The Arrow table `insert` hands chdb, built ahead (e.g. on another thread)."""
        return to_arrow(columns, self.column_types(table))

    def insert(self, table: str, columns: Mapping[str, Sequence[Any]] | pa.Table, *,
               dedup_token: str | None = None) -> int:
        check_identifier(table)
        batch = columns if isinstance(columns, pa.Table) else self.prepare(table, columns)
        if batch.num_rows == 0:
            return 0
        names = ", ".join(f"`{n}`" for n in batch.column_names)
        settings = [INSERT_SETTINGS[table]] if table in INSERT_SETTINGS else []
        if dedup_token is not None:
            if not TOKEN.match(dedup_token):
                raise ValueError(f"dedup token must match {TOKEN.pattern}")
            settings.append(f"insert_deduplication_token = '{dedup_token}'")
        with_settings = f" SETTINGS {', '.join(settings)}" if settings else ""
        sql = f"INSERT INTO {table} ({names}){with_settings} SELECT {names} FROM Python(batch)"
        with self._lock:
            self._run(sql)  # chdb finds `batch` among this frame's locals
        return batch.num_rows

    def close(self) -> None:
        with self._lock:
            self._session.close()

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
