"""Webhook delivery against the real broker, real chdb and real HTTP endpoints on 127.0.0.1.

One endpoint fails (503) a few times, one is slower than the timeout, one refuses for good (410): the
healthy endpoint still gets every alert promptly, the failing one gets them after backoff, every body is
signed, every attempt is recorded, and a delivery left pending by a stopped dispatcher goes out after
a restart.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from brain_api.webhooks import repository as repo
from brain_api.webhooks.dispatcher import WebhookDispatcher
from brain_api.webhooks.settings import WebhookSettings
from brain_api.webhooks.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from brain_api.webhooks.subscription import Subscription
from ingest.settings import KafkaSettings
from streams.records import Alert
from streams.topics import TopicSpec

pytestmark = pytest.mark.integration


class Endpoint:
    """A real HTTP server: answers `fail_with` to the first `failures` requests, can be slow, records all."""

    def __init__(self, *, failures: int = 0, fail_with: int = 503, delay_s: float = 0.0) -> None:
        self.failures, self.fail_with, self.delay_s = failures, fail_with, delay_s
        self.requests: list[tuple[float, dict[str, str], bytes]] = []
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(outer.delay_s)
                with lock:
                    outer.requests.append((time.monotonic(), dict(self.headers), body))
                    failing = outer.failures > 0
                    outer.failures -= failing
                code = outer.fail_with if failing else 200
                outer.answers.append(code)
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> list[bytes]:
        return [body for (_, _, body), code in zip(self.requests, self.answers, strict=False) if code == 200]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoints() -> Iterator[list[Endpoint]]:
    made: list[Endpoint] = []
    yield made
    for e in made:
        e.close()


@pytest.fixture
def topic(kafka_bootstrap: str, unique_name: str) -> str:
    from deploy.topics import ensure_topics

    name = f"citybrain.alerts.{unique_name}"
    ensure_topics(kafka_bootstrap, 1, extra=[TopicSpec(name, 2)])
    return name


def settings(unique_name: str) -> WebhookSettings:
    return WebhookSettings(group_id=f"hooks-{unique_name}", timeout_s=1.0, max_attempts=5, backoff_base_s=0.3,
                           backoff_max_s=2.0, redrive_interval_s=0.5, subscriptions_refresh_s=0.5)


def subscribe(store: Any, url: str, **filters: Any) -> Subscription:
    sub = Subscription(id=f"sub-{uuid.uuid4().hex[:16]}", url=url, secret=uuid.uuid4().hex, owner="test",
                       created_at=datetime.now(UTC) - timedelta(minutes=1), **filters)
    repo.save_subscription(store, sub)
    return sub


def alert(n: int) -> Alert:
    return Alert(id=f"al-{uuid.uuid4().hex[:8]}-{n}", incident_id=f"in-{n}", department="traffic",
                 category="traffic", sub_category="trafficJam", severity="high", confidence=0.9,
                 title=f"jam {n}", description="", cell="88309a553dfffff", created_at=datetime.now(UTC))


async def produce(bootstrap: str, topic: str, alerts: list[Alert]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for a in alerts:
            await producer.send_and_wait(topic, a.model_dump_json().encode(), key=a.id.encode())
    finally:
        await producer.stop()


async def until(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.05)


async def test_one_failing_endpoint_never_delays_the_others(store, kafka_bootstrap, topic, unique_name, endpoints):
    good, flaky, slow = Endpoint(), Endpoint(failures=3), Endpoint(delay_s=1.5)
    gone = Endpoint(failures=99, fail_with=410)
    endpoints += [good, flaky, slow, gone]
    subs = {e: subscribe(store, e.url) for e in (good, flaky, slow, gone)}
    subscribe(store, good.url, department="health")  # matches nothing here
    dispatcher = await WebhookDispatcher(store, kafka_bootstrap, settings(unique_name), KafkaSettings(),
                                         topic=topic).start()
    try:
        await asyncio.wait_for(dispatcher.ready.wait(), 30)
        alerts = [alert(n) for n in range(5)]
        sent_at = time.monotonic()
        await produce(kafka_bootstrap, topic, alerts)
        await until(lambda: len(good.delivered()) == 5, 10, "the healthy endpoint")
        took = good.requests[-1][0] - sent_at
        # the healthy endpoint is served while the others sit in backoff or time out
        assert took < 3.0, f"healthy endpoint waited {took:.2f}s"
        assert len(flaky.delivered()) < 5 and len(slow.requests) < 5
        await until(lambda: len(flaky.delivered()) == 5, 15, "the flaky endpoint after retries")
        assert flaky.answers[:4] == [503, 503, 503, 200]
        # an endpoint's 200 is recorded just after it answers; stopping first would leave it pending (and
        # re-sent after a restart: at-least-once), so let the records catch up before stopping
        await until(lambda: all(d.subscription_id == subs[slow].id for d in repo.pending_deliveries(store)),
                    10, "delivery records")
    finally:
        await dispatcher.stop()

    ids = {a.id for a in alerts}
    for endpoint in (good, flaky):
        secret = subs[endpoint].secret
        seen = set()
        for _, headers, body in endpoint.requests:
            assert verify(secret, body, headers[SIGNATURE_HEADER])
            assert not verify("another-secret-entirely", body, headers[SIGNATURE_HEADER])
            assert abs(int(headers[TIMESTAMP_HEADER]) - time.time()) < 60
            seen.add(headers[DELIVERY_HEADER])
        assert len(seen) == 5
        assert {orjson.loads(b)["alert"]["id"] for b in endpoint.delivered()} == ids
    assert gone.answers == [410] * 5  # refused for good: one attempt each, no retries

    flaky_rows = repo.list_attempts(store, subs[flaky].id, limit=1000)
    first = [r for r in flaky_rows if r.delivery_id == next(
        d.delivery_id for d in flaky_rows if d.state.value == "retrying")]
    states = [(r.attempt, r.state.value, r.http_status) for r in sorted(first, key=lambda r: r.attempt)]
    assert states == [(0, "queued", 0), (1, "retrying", 503), (2, "retrying", 503), (3, "retrying", 503),
                      (4, "delivered", 200)]
    gone_rows = repo.list_attempts(store, subs[gone].id, limit=1000)
    assert sorted(r.state.value for r in gone_rows) == ["failed"] * 5 + ["queued"] * 5
    assert not repo.pending_deliveries(store) or all(
        d.subscription_id == subs[slow].id for d in repo.pending_deliveries(store))


async def test_pending_deliveries_survive_a_restart(store, kafka_bootstrap, topic, unique_name, endpoints):
    down = Endpoint(failures=10_000, fail_with=500)
    endpoints.append(down)
    sub = subscribe(store, down.url)
    cfg = settings(unique_name)
    first = await WebhookDispatcher(store, kafka_bootstrap, cfg, KafkaSettings(), topic=topic).start()
    try:
        await produce(kafka_bootstrap, topic, [alert(1)])
        await until(lambda: len(down.requests) >= 1, 30, "a first failed attempt")
        # the attempt is recorded just after the endpoint answers: stop only once it is on the books
        await until(lambda: any(d.attempts >= 1 for d in repo.pending_deliveries(store) if d.subscription_id == sub.id),
                    10, "the failed attempt recorded")
    finally:
        await first.stop()
    pending = [d for d in repo.pending_deliveries(store) if d.subscription_id == sub.id]
    assert len(pending) == 1 and pending[0].attempts >= 1

    down.failures = 0  # the endpoint recovers while the API is down
    second = await WebhookDispatcher(store, kafka_bootstrap, cfg, KafkaSettings(), topic=topic).start()
    try:
        await until(lambda: len(down.delivered()) == 1, 15, "the re-driven delivery")
        await asyncio.wait_for(second.ready.wait(), 30)
        await asyncio.sleep(1.0)  # the alert may be consumed again (uncommitted): it must not be sent twice
    finally:
        await second.stop()
    assert len(down.delivered()) == 1
    assert not [d for d in repo.pending_deliveries(store) if d.subscription_id == sub.id]
