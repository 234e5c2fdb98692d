"""The API against the real Tansu broker and real chdb: background services on (live feed, feedback)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

ADMIN_SECRET = "it-admin-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from streams.storage.embedded import EmbeddedStore
    from streams.storage.migrate import migrate

    # chdb allows one directory per process: share the session's, one database per module.
    s = EmbeddedStore(str(tmp_path_factory.getbasetemp() / "chdb"), database=f"apiit_{uuid.uuid4().hex[:10]}")
    migrate(s)
    yield s
    s.command(f"DROP DATABASE IF EXISTS {s.database}")


@pytest.fixture(scope="module")
def live_client(store: Any, kafka_bootstrap: str, kafka_topics: list[str]) -> Iterator[Any]:
    """TestClient around an app whose lifespan started the Kafka side (sink off: storage tests own it)."""
    from fastapi.testclient import TestClient

    from brain_api.settings import get_api_settings
    from ingest.settings import get_kafka_settings

    env = {"CITYBRAIN_KAFKA_BOOTSTRAP": kafka_bootstrap, "CITYBRAIN_API_RUN_SINK": "false",
           "CITYBRAIN_ADMIN_TOKEN": ADMIN_SECRET, "CITYBRAIN_API_RUN_ESCALATION": "false",
           "CITYBRAIN_API_RATE_LIMIT_BURST": "100000", "CITYBRAIN_API_RATE_LIMIT_PER_S": "100000",
           "CITYBRAIN_API_CACHE_TTL_S": "0"}  # rows are written straight into the store and read back at once
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_api_settings.cache_clear()
    get_kafka_settings.cache_clear()
    from brain_api.main import create_app

    try:
        with TestClient(create_app(store=store, background=True)) as client:
            yield client
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_api_settings.cache_clear()
        get_kafka_settings.cache_clear()
