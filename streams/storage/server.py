"""`ServerStore`: a ClickHouse server (or cluster entry point) through clickhouse-driver's native protocol.

Same SQL as chdb: `{name:Type}` placeholders become driver parameters (client-side escaping, never
string-built values). Inserts are columnar `INSERT ... VALUES` with the rows passed as parameters — the
driver hangs on inline VALUES with old servers and columnar is faster anyway. Network failures are retried
with backoff and then reported as `StoreUnavailable`; an INSERT is retried only when it carries a dedup
token the server honours, because a lost reply does not tell whether the rows landed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlparse

from streams.storage.base import StoreUnavailable, insertable_columns
from streams.storage.embedded import TOKEN, check_identifier
from streams.storage.errors import QueryRejected, is_unavailable
from streams.storage.params import driver_params, to_driver_sql


def _plain(values: Sequence[Any], ch_type: str) -> list[Any]:
    """Driver-ready column: numpy/Arrow to lists, epoch-ms ints to datetimes for time columns."""
    if hasattr(values, "to_pylist"):
        values = values.to_pylist()
    elif hasattr(values, "tolist"):
        values = values.tolist()
    if "DateTime" in ch_type:
        return [datetime.fromtimestamp(v / 1000, UTC) if isinstance(v, int) else v for v in values]
    return list(values)


class ServerStore:
    """clickhouse-driver client for `clickhouse://user:pass@host:9000/db`, working in `database`."""

    backend = "server"

    def __init__(
        self, url: str, database: str | None = None, *, connect_timeout_s: float = 5.0,
        retries: int = 3, backoff_s: float = 0.5,
    ) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("clickhouse", "clickhouses"):
            raise ValueError("CITYBRAIN_CLICKHOUSE_URL must look like clickhouse://user:pass@host:9000/db")
        self.database = check_identifier(database or parsed.path.lstrip("/") or "citybrain")
        self.retries, self.backoff_s = retries, backoff_s
        self._kwargs: dict[str, Any] = {
            "host": parsed.hostname or "127.0.0.1", "port": parsed.port or 9000,
            "user": unquote(parsed.username or "default"), "password": unquote(parsed.password or ""),
            "secure": parsed.scheme == "clickhouses", "connect_timeout": connect_timeout_s,
            "send_receive_timeout": 30, "sync_request_timeout": connect_timeout_s,
        }
        self._lock = threading.RLock()
        self._types: dict[str, dict[str, str]] = {}
        self._client = self._new_client("default")
        self._execute(f"CREATE DATABASE IF NOT EXISTS {self.database}", retry=True)
        self._client = self._new_client(self.database)
        version = self._execute("SELECT version()", retry=True)[0][0][0]
        self.server_version = tuple(int(p) for p in version.split(".")[:2])

    def _new_client(self, database: str) -> Any:
        from clickhouse_driver import Client

        return Client(database=database, **self._kwargs)

    def _execute(self, sql: str, params: Any = None, *, retry: bool, **kw: Any) -> Any:
        from clickhouse_driver.errors import Error, ServerException

        attempts = self.retries + 1 if retry else 1
        for attempt in range(attempts):
            try:
                with self._lock:
                    return self._client.execute(sql, params, **kw)
            except ServerException as exc:
                if not is_unavailable(exc.message, exc.code):
                    raise QueryRejected(exc.message, exc.code) from exc
                failure: Exception = exc
            except (Error, OSError, EOFError) as exc:  # NetworkError, SocketTimeoutError, refused, reset
                failure = exc
            with self._lock:
                self._client.disconnect()
            if attempt + 1 < attempts:
                time.sleep(self.backoff_s * 2**attempt)
        raise StoreUnavailable(f"ClickHouse at {self._kwargs['host']}:{self._kwargs['port']}: {failure}")

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._execute(to_driver_sql(sql), driver_params(sql, params), retry=True)
        if sql.lstrip()[:6].upper() in ("ALTER ", "DROP T", "CREATE"):
            self._types.clear()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        rows, columns = self._execute(
            to_driver_sql(sql), driver_params(sql, params), retry=True, with_column_types=True
        )
        names = [c[0] for c in columns]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def column_types(self, table: str) -> dict[str, str]:
        if table not in self._types:
            try:
                self._types[table] = insertable_columns(self, table)
            except LookupError as exc:
                raise QueryRejected(str(exc)) from exc
        return self._types[table]

    def prepare(self, table: str, columns: Mapping[str, Sequence[Any]]) -> Mapping[str, Sequence[Any]]:
        """Nothing to build ahead: the driver converts the columns as it sends them."""
        return columns

    def insert(
        self, table: str, columns: Mapping[str, Sequence[Any]], *, dedup_token: str | None = None
    ) -> int:
        check_identifier(table)
        types = self.column_types(table)
        if unknown := set(columns) - set(types):
            raise KeyError(f"columns not in {table}: {sorted(unknown)}")
        data = [_plain(values, types[name]) for name, values in columns.items()]
        if not data or not data[0]:
            return 0
        settings: dict[str, Any] = {}
        # insert_deduplication_token exists from 22.2 on; older servers would reject the setting.
        honoured = dedup_token is not None and self.server_version >= (22, 2)
        if honoured:
            if not TOKEN.match(dedup_token or ""):
                raise ValueError(f"dedup token must match {TOKEN.pattern}")
            settings["insert_deduplication_token"] = dedup_token
        names = ", ".join(f"`{n}`" for n in columns)
        self._execute(
            f"INSERT INTO {table} ({names}) VALUES", data, retry=honoured, columnar=True, settings=settings
        )
        return len(data[0])

    def close(self) -> None:
        with self._lock:
            self._client.disconnect()
