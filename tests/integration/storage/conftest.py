"""Real ClickHouse for the storage tests: chdb in-process, and Debian's clickhouse-server 18.16 started here.

The server gets its own temp config and data dir on free loopback ports and can be stopped and restarted
(outage tests). 18.16 lacks DateTime64, Map, TTL and LowCardinality, so the server runs the full schema
nowhere; it gets the `COMPAT_DDL` tables below, which use only what it has, to exercise the server
backend's real plumbing (connect, bound parameters, batching, retries, outage and recovery).
A missing server binary fails the tests with instructions instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SERVER_BIN = shutil.which("clickhouse-server") or "/usr/sbin/clickhouse-server"

# The sink's tables for feedback and dead letters, and its epoch table, in 18.16's dialect.
COMPAT_DDL = [
    """CREATE TABLE IF NOT EXISTS feedback (alert_id String, device_id String, metric String, detector String,
        kind String, note String, at DateTime('UTC'), kafka_partition Int32, kafka_offset Int64,
        inserted_at DateTime('UTC')) ENGINE = MergeTree PARTITION BY toYYYYMM(inserted_at) ORDER BY (at, alert_id)""",
    """CREATE TABLE IF NOT EXISTS deadletters (at DateTime('UTC'), stage String, reason String, adapter String,
        source_topic String, source_partition Nullable(Int32), source_offset Nullable(Int64), payload String,
        kafka_topic String, kafka_partition Int32, kafka_offset Int64, inserted_at DateTime('UTC'))
        ENGINE = MergeTree PARTITION BY toYYYYMM(inserted_at) ORDER BY (stage, at)""",
    """CREATE TABLE IF NOT EXISTS sink_epochs (topic String, topic_id String, since DateTime('UTC'))
        ENGINE = MergeTree ORDER BY (topic, since)""",
]

_CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{dir}/server.log</log><errorlog>{dir}/server.err.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{tcp}</tcp_port>
  <http_port>{http}</http_port>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <user_files_path>{dir}/user_files/</user_files_path>
  <format_schema_path>{dir}/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
</yandex>
"""
_USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalClickHouse:
    """One clickhouse-server process with its own config and data; `stop()`/`start()` keep the data."""

    def __init__(self, directory: Path) -> None:
        self.dir, self.tcp, self.http = directory, _free_port(), _free_port()
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.xml").write_text(_CONFIG.format(dir=directory, tcp=self.tcp, http=self.http))
        (directory / "users.xml").write_text(_USERS)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"clickhouse://default:@127.0.0.1:{self.tcp}/default"

    def start(self, timeout_s: float = 30.0) -> LocalClickHouse:
        self.proc = subprocess.Popen(
            [SERVER_BIN, f"--config-file={self.dir / 'config.xml'}"], cwd=self.dir,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.tcp), timeout=0.5):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        log = (self.dir / "server.err.log").read_text()[-2000:] if (self.dir / "server.err.log").exists() else ""
        self.stop()
        raise RuntimeError(f"clickhouse-server did not listen on 127.0.0.1:{self.tcp}: {log}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def start_server(directory: Path) -> LocalClickHouse:
    if not os.access(SERVER_BIN, os.X_OK):
        pytest.fail(f"clickhouse-server not found at {SERVER_BIN}: run `make sysdeps` (Debian clickhouse-server)")
    return LocalClickHouse(directory).start()


@pytest.fixture(scope="session")
def clickhouse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalClickHouse]:
    server = start_server(tmp_path_factory.mktemp("clickhouse"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """chdb allows one directory per process: every test module shares this one (same as the API tests)."""
    return str(tmp_path_factory.getbasetemp() / "chdb")


@pytest.fixture
def chdb_store(chdb_dir: str) -> Iterator[Any]:
    from streams.storage.embedded import EmbeddedStore

    store = EmbeddedStore(chdb_dir, database=f"st_{uuid.uuid4().hex[:10]}")
    yield store
    store.command(f"DROP DATABASE IF EXISTS {store.database}")
    store.close()


@pytest.fixture
def server_store(clickhouse_server: LocalClickHouse) -> Iterator[Any]:
    from streams.storage.server import ServerStore

    store = ServerStore(clickhouse_server.url, database=f"st_{uuid.uuid4().hex[:10]}", backoff_s=0.1)
    yield store
    store.command(f"DROP DATABASE IF EXISTS {store.database}")
    store.close()


@pytest.fixture
def server_sink_tables(server_store: Any) -> Any:
    """The server store with the sink's feedback/dead-letter/epoch tables in 18.16's dialect."""
    for ddl in COMPAT_DDL:
        server_store.command(ddl)
    return server_store


@pytest.fixture(params=["chdb", "server"])
def any_store(request: pytest.FixtureRequest) -> Any:
    """The same test against both backends (clickhouse-connect style)."""
    return request.getfixturevalue(f"{request.param}_store")
