"""Fault-injection fixtures: a fresh `citybrain up` per scenario, a client that keeps the books, tmpfs data dirs.

Every test here is marked `reliability`; all but the offline fuzzing run real processes (broker, chdb).
Outages are short in CI; `CITYBRAIN_RELIABILITY_OUTAGE_S` (default 12) stretches them (60 for issue 10's
full scenario), and `citybrain chaos` runs the long soak.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer

from deploy.accounting import Ledger, Verdict, check
from deploy.chaos import alert_naming, wait_stored
from deploy.load import Feeder
from deploy.local import LocalPlatform
from ingest.topics import EVENTS_TOPIC
from tests.factories import event_dict

OUTAGE_S = float(os.environ.get("CITYBRAIN_RELIABILITY_OUTAGE_S", "12"))
FAST_ENV = {"CITYBRAIN_DETECT_SNAPSHOT_INTERVAL_S": "1"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.reliability)


@pytest.fixture
def start_platform(tmp_path: Path) -> Iterator[Callable[..., LocalPlatform]]:
    """`start_platform(env=..., data_dir=...)` -> a running platform, stopped at teardown."""
    started: list[LocalPlatform] = []

    def start(*, env: dict[str, str] | None = None, data_dir: Path | None = None) -> LocalPlatform:
        platform = LocalPlatform(data_dir or tmp_path / "citybrain", env={**FAST_ENV, **(env or {})})
        started.append(platform)
        try:
            return platform.start()
        except RuntimeError as exc:
            pytest.fail(str(exc))

    yield start
    for platform in started:
        platform.stop(timeout_s=30)


@pytest.fixture
def feeder_for() -> Iterator[Callable[[LocalPlatform], Feeder]]:
    made: list[Feeder] = []

    def make(platform: LocalPlatform, devices: int = 4) -> Feeder:
        feeder = Feeder(platform.base_url, platform.headers, f"rel/{uuid.uuid4().hex[:8]}", devices=devices)
        made.append(feeder)
        return feeder

    yield make
    for feeder in made:
        feeder.close()


def settle(platform: LocalPlatform, feeder: Feeder, timeout_s: float = 90.0) -> Verdict:
    """Wait until everything accepted is stored, stop the platform, and check the books."""
    stored = wait_stored(platform, len(feeder.ledger.accepted), timeout_s)
    time.sleep(1.0)  # a duplicate would land within a sink batch age
    logs = platform.logs(40)
    platform.stop(timeout_s=30)
    verdict = check(platform.data_dir / "chdb", feeder.ledger)
    assert stored and verdict.ok, f"{verdict.summary()}\n{logs}"
    return verdict


def wait_alert(platform: LocalPlatform, device: str, event_id: str, timeout_s: float = 30.0) -> dict:
    """The alert whose evidence names `event_id` (served by the API)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if alert := alert_naming(platform, device, event_id):
            return alert
        time.sleep(0.5)
    pytest.fail(f"no alert names {event_id} within {timeout_s}s\n{platform.logs(30)}")


@pytest.fixture
def tmpfs() -> Iterator[Callable[[Path, str], Path]]:
    """Mount a tmpfs of a given size (root only): real ENOSPC and real read-only remounts."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs (disk-full and read-only faults)")
    mounted: list[Path] = []

    def mount(path: Path, size: str) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["mount", "-o", "remount,rw", str(path)], check=False)
        subprocess.run(["umount", "-l", str(path)], check=False)


def produce_events(bootstrap: str, ledger: Ledger, first: int, count: int, per_message: int = 50) -> dict[int, int]:
    """Packed batches keyed by device, as ingest sends them; returns the next offset per partition."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    ends: dict[int, int] = {}
    try:
        for start in range(first, first + count, per_message):
            device = f"dev-{start // per_message % 7}"
            batch = [event_dict(id=f"{ledger.source.replace('/', '-')}-{i}", source=ledger.source, device_id=device)
                     for i in range(start, min(start + per_message, first + count))]
            meta = producer.send(EVENTS_TOPIC, orjson.dumps(batch), key=device.encode()).get(10)
            ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)
            ledger.accepted |= {e["id"] for e in batch}  # acknowledged by Kafka = accepted
    finally:
        producer.close()
    return ends
