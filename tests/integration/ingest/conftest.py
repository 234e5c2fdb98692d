"""Ingest integration fixtures: a real publisher on the session broker, the routers in a FastAPI app, a
reader that takes messages back off Kafka, and a real mosquitto on a free port."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from kafka import KafkaConsumer, TopicPartition

from deploy.broker import free_port, wait_for_port
from ingest.http import devices_router, events_router, reports_router, viid_router
from ingest.http.deps import IngestContext, get_context
from ingest.pseudonym import Pseudonymizer
from ingest.publisher import EventPublisher
from ingest.registry import DeviceRegistry

TEST_KEYS = {"k2": b"integration-key-two", "k1": b"integration-key-one"}


@pytest.fixture
def pz() -> Pseudonymizer:
    return Pseudonymizer(TEST_KEYS, active_key_id="k2")


@pytest.fixture
async def publisher(kafka_bootstrap: str, kafka_topics: list[str], pz: Pseudonymizer) -> AsyncIterator[EventPublisher]:
    async with EventPublisher(kafka_bootstrap, pseudonymizer=pz) as pub:
        yield pub


@pytest.fixture
def registry() -> DeviceRegistry:
    return DeviceRegistry()


@pytest.fixture
async def client(publisher: EventPublisher, registry: DeviceRegistry) -> AsyncIterator[httpx.AsyncClient]:
    """The four ingest routers, wired the way brain_api wires them (without its auth)."""
    app = FastAPI()
    for router in (events_router, viid_router, reports_router, devices_router):
        app.include_router(router)
    context = IngestContext.create(publisher, registry)
    app.dependency_overrides[get_context] = lambda: context
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest.test") as http:
        http.context = context  # type: ignore[attr-defined]
        yield http


@dataclass
class Message:
    topic: str
    partition: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


def read_topic(
    bootstrap: str, topic: str, match: Callable[[Message], bool], expect: int, timeout_s: float = 15.0
) -> list[Message]:
    """Every message of `topic` (all partitions, from the start) that `match`es, once `expect` arrived."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        found: list[Message] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and len(found) < expect:
            for tp, records in consumer.poll(timeout_ms=300).items():
                for r in records:
                    m = Message(tp.topic, tp.partition, r.key, r.value, dict(r.headers or []))
                    if match(m):
                        found.append(m)
        return found
    finally:
        consumer.close()


@pytest.fixture
def read(kafka_bootstrap: str) -> Callable[..., list[Message]]:
    return lambda topic, match, expect, timeout_s=15.0: read_topic(kafka_bootstrap, topic, match, expect, timeout_s)


class Mosquitto:
    """A real mosquitto on a loopback port; `restart()` keeps the port so clients can reconnect."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            pytest.fail("mosquitto is not installed (make test installs it: deploy/scripts/install-test-deps.sh)")
        self.binary, self.port = binary, free_port()
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.log = workdir / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=out, stderr=subprocess.STDOUT)
        if not wait_for_port("127.0.0.1", self.port, 10):
            self.stop()
            pytest.fail(f"mosquitto did not listen on {self.port}: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self, down_s: float = 1.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
