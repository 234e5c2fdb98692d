"""Shared fixtures. Integration fixtures start real peers (Tansu broker, chdb, ClickHouse server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("CITYBRAIN_ENV", "test")


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh embedded Tansu broker per test session (a stuck consumer group must not leak across runs)."""
    from deploy.broker import EmbeddedBroker

    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_path=log) as broker:
        yield broker.bootstrap


@pytest.fixture(scope="session")
def kafka_topics(kafka_bootstrap: str) -> list[str]:
    """The platform's topics created on the session broker (4 partitions each keeps tests quick)."""
    from deploy.topics import ensure_topics

    return ensure_topics(kafka_bootstrap, partitions=4)


@pytest.fixture
def unique_name() -> str:
    """A name no other test uses (consumer groups, databases, topics)."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "citybrain"


class Platform:
    """A running `citybrain up` (embedded broker, worker, API + chdb sink), driven over HTTP."""

    def __init__(self, base_url: str, token: str, data_dir: Path, proc: object) -> None:
        self.base_url = base_url
        self.token = token
        self.data_dir = data_dir
        self.proc = proc

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def logs(self) -> str:
        out = []
        for path in sorted((self.data_dir / "logs").glob("*.log")):
            out.append(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-30:]))
        return "\n".join(out)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """`citybrain up --no-simulator` on free ports in a temp data dir; SIGINT at teardown, as a user would."""
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from deploy.broker import free_port

    data = tmp_path_factory.mktemp("platform")
    port = free_port()
    token = "test-admin-" + uuid.uuid4().hex
    env = {**os.environ, "CITYBRAIN_ADMIN_TOKEN": token, "CITYBRAIN_ENV": "dev",
           "CITYBRAIN_KAFKA_PARTITIONS": "4"}
    env.pop("CITYBRAIN_KAFKA_BOOTSTRAP", None)
    env.pop("CITYBRAIN_CLICKHOUSE_URL", None)
    up_log = open(data / "up.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen([sys.executable, "-m", "deploy.cli", "up", "--no-simulator", "--port", str(port),
                             "--data-dir", str(data)], env=env, stdout=up_log, stderr=subprocess.STDOUT)
    running = Platform(f"http://127.0.0.1:{port}", token, data, proc)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = (data / "up.log").read_text(errors="replace")
            pytest.fail(f"citybrain up exited with {proc.returncode}:\n{out}\n{running.logs()}")
        try:
            if httpx.get(f"{running.base_url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    else:
        proc.send_signal(signal.SIGINT)
        pytest.fail(f"platform not ready in 120 s\n{running.logs()}")
    try:
        yield running
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("citybrain up did not stop within 15 s of SIGINT")
        finally:
            up_log.close()
