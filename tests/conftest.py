"""Shared fixtures. Integration fixtures start real peers (Tansu broker, chdb, ClickHouse server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local import LocalPlatform

os.environ.setdefault("CITYBRAIN_ENV", "test")
# outside dev the platform refuses its development key, so the suite brings its own
os.environ.setdefault("CITYBRAIN_PRIVACY_HMAC_KEYS", "k1:test-only-pseudonym-key-0001")


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


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """`citybrain up --no-simulator` on a free port in a temp data dir; SIGINT at teardown, as a user would."""
    running = LocalPlatform(tmp_path_factory.mktemp("platform"))
    try:
        running.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield running
    finally:
        took = running.stop()
        assert took < 15, f"citybrain up took {took:.1f}s to stop"
