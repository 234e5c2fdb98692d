"""`citybrain migrate`: apply the numbered ClickHouse DDL, the same `migrate()` the runner and API call.

Embedded chdb (default, under the data dir) or a server named by `--url`/`CITYBRAIN_CLICKHOUSE_URL`.
With chdb, run it while the API is stopped: one process owns a chdb directory.
"""

from __future__ import annotations

import argparse
from typing import Any

EPILOG = """examples:
  citybrain migrate
  citybrain migrate --status
  CITYBRAIN_CLICKHOUSE_RETENTION_EVENTS_DAYS=90 citybrain migrate --data-dir /srv/citybrain
  citybrain migrate --url clickhouse://citybrain:secret@ch-1:9000/citybrain"""


def register(subparsers: Any, formatter_class: type[argparse.HelpFormatter]) -> None:
    parser = subparsers.add_parser("migrate", help="create/upgrade the ClickHouse schema (idempotent)",
                                   description=__doc__, epilog=EPILOG, formatter_class=formatter_class)
    parser.add_argument("--url", default=None, help="ClickHouse server URL (default: CITYBRAIN_CLICKHOUSE_URL)")
    parser.add_argument("--database", default=None, help="database (default: CITYBRAIN_CLICKHOUSE_DATABASE)")
    parser.add_argument("--data-dir", default=None,
                        help="data directory for embedded chdb (default: CITYBRAIN_DATA_DIR)")
    parser.add_argument("--status", action="store_true", help="list applied and pending migrations, change nothing")
    parser.set_defaults(func=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    from streams.storage.base import open_store
    from streams.storage.errors import IncompatibleServer
    from streams.storage.migrate import MigrationChanged, discover, migrate

    path = f"{args.data_dir}/chdb" if args.data_dir else None
    store = open_store(args.url, database=args.database, path=path)
    try:
        if args.status:
            applied = _applied(store)
            for m in discover():
                print(f"{'applied' if m.version in applied else 'pending'}  {m.version:04d}_{m.name}")
            return 0
        try:
            done = migrate(store)
        except (IncompatibleServer, MigrationChanged) as exc:
            print(f"error: {exc}")
            return 1
        where = f"{store.backend} database {store.database}"
        print(f"applied {len(done)} migration(s) to {where}" + "".join(f"\n  {name}" for name in done)
              if done else f"{where} is up to date")
        return 0
    finally:
        store.close()


def _applied(store: Any) -> set[int]:
    exists = store.query("SELECT count() AS n FROM system.tables WHERE database = {db:String}"
                         " AND name = 'schema_migrations'", {"db": store.database})[0]["n"]
    if not exists:
        return set()
    return {int(r["version"]) for r in store.query("SELECT DISTINCT version FROM schema_migrations")}
