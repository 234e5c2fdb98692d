"""Apply the numbered DDL files in `migrations/` in order, once each, recorded in `schema_migrations`.

The runner, the API lifespan, the tests and `deploy/` all call `migrate(store)`; `citybrain migrate` is the
same function on the command line. Retention is templated into the DDL at migrate time: a file may say
`${retention_events_days}` (any `ClickHouseSettings.retention_*` field), filled from the settings
(`CITYBRAIN_CLICKHOUSE_RETENTION_EVENTS_DAYS=90 citybrain migrate`). A TTL is part of a table's DDL, so
changing the setting later needs `ALTER TABLE ... MODIFY TTL`; the checksum recorded per file covers the
file's SQL (not its comments, not the values), so a new retention never makes a migration look edited.
With `CITYBRAIN_CLICKHOUSE_CLUSTER` set, each statement is first rewritten by `cluster.to_cluster`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from ingest.errors import CityBrainError
from streams.settings import ClickHouseSettings, get_clickhouse_settings
from streams.storage.base import Store
from streams.storage.errors import IncompatibleServer

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MIN_SERVER = (23, 8)
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_STATEMENT_END = re.compile(r";[ \t]*$", re.MULTILINE)


class MigrationChanged(CityBrainError):
    """An applied migration file was edited; add a new numbered file instead."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        """Over the SQL without comments or blank lines: fixing a comment is not a schema change."""
        lines = (ln.strip() for ln in self.text.splitlines())
        sql = "\n".join(ln for ln in lines if ln and not ln.startswith("--"))
        return hashlib.sha256(sql.encode()).hexdigest()[:16]


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Migration files in version order; two files with one number are a merge mistake.

    >>> [m.version for m in discover()][:3]
    [1, 2, 3]
    """
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        if not (m := _FILE.match(path.name)):
            raise ValueError(f"{path.name}: migration files are named NNNN_snake_case.sql")
        version = int(m.group(1))
        if version in found:
            raise ValueError(f"two migrations numbered {version:04d}: {found[version].path.name}, {path.name}")
        found[version] = Migration(version, m.group(2), path)
    return [found[v] for v in sorted(found)]


def template_values(settings: ClickHouseSettings) -> dict[str, str]:
    """What `${...}` may name in DDL: the retention settings, as integers (never free text)."""
    return {k: str(int(v)) for k, v in settings.model_dump().items() if k.startswith("retention_")}


def statements(text: str, values: dict[str, str]) -> list[str]:
    """Fill the template, then split at `;` ending a line; comment-only chunks are dropped.

    >>> statements("-- t\\nCREATE TABLE a (x UInt8) ENGINE = Log;\\n\\nSELECT ${n};\\n", {"n": "7"})
    ['-- t\\nCREATE TABLE a (x UInt8) ENGINE = Log', 'SELECT 7']
    """
    filled = Template(text).substitute(values)
    chunks = (c.strip() for c in _STATEMENT_END.split(filled))
    return [c for c in chunks if any(line.strip() and not line.strip().startswith("--") for line in c.splitlines())]


def check_server(store: Store) -> str:
    """The schema needs DateTime64, Map and TTL: ClickHouse 23.8 or newer (chdb 4 embeds 26.x)."""
    version = str(store.query("SELECT version() AS v")[0]["v"])
    major_minor = tuple(int(p) for p in version.split(".")[:2])
    if major_minor < MIN_SERVER:
        raise IncompatibleServer(
            f"ClickHouse {version} is too old for the City Brain schema; it needs {MIN_SERVER[0]}.{MIN_SERVER[1]}+"
        )
    return version


def migrate(
    store: Store, settings: ClickHouseSettings | None = None, *, directory: Path = MIGRATIONS_DIR
) -> list[str]:
    """Apply what is missing, in order; returns the names applied this time (empty when up to date)."""
    check_server(store)
    settings = settings or get_clickhouse_settings()
    values = template_values(settings)
    migrations = discover(directory)
    if not migrations or migrations[0].name != "schema_migrations":
        raise ValueError("the first migration must create schema_migrations")

    def apply(migration: Migration) -> None:
        for sql in statements(migration.text, values):
            if settings.cluster:
                from streams.storage.cluster import to_cluster

                for clustered in to_cluster(sql, settings.cluster):
                    store.command(clustered)
            else:
                store.command(sql)

    apply(migrations[0])
    rows = store.query(
        "SELECT version, argMax(checksum, applied_at) AS checksum FROM schema_migrations GROUP BY version"
    )
    applied = {int(r["version"]): r["checksum"] for r in rows}
    done: list[str] = []
    for m in migrations:
        if m.version in applied:
            if applied[m.version] != m.checksum:
                raise MigrationChanged(f"{m.path.name} changed after it was applied; add a new migration")
            continue
        apply(m)
        store.insert("schema_migrations", {"version": [m.version], "name": [m.name], "checksum": [m.checksum]})
        done.append(f"{m.version:04d}_{m.name}")
    return done
