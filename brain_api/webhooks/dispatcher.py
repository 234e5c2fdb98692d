"""The webhook delivery service: consume `citybrain.alerts.v1`, fan out to matching subscriptions.

Order of work per Kafka batch: match -> store the new deliveries (`queued`, with body) -> commit the
offsets -> hand them to the subscriptions' workers. A crash anywhere before the commit re-reads the alerts
and `known_delivery_ids` drops what was already queued; a crash after it leaves `queued` rows that the
re-drive (at start, then every `redrive_interval_s`) sends. Delivery is therefore at-least-once, with a
stable `X-CityBrain-Delivery` id for the receiver to deduplicate on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from brain_api.webhooks import repository as repo
from brain_api.webhooks.delivery import Attempt, Delivery, DeliveryState, build_delivery
from brain_api.webhooks.settings import WebhookSettings
from brain_api.webhooks.subscription import Subscription, matching
from brain_api.webhooks.worker import SubscriptionWorker
from ingest.settings import KafkaSettings
from streams.records import Alert
from streams.storage.base import Store
from streams.topics import ALERTS_TOPIC

log = logging.getLogger(__name__)


class WebhookDispatcher:
    def __init__(self, store: Store, bootstrap: str, settings: WebhookSettings, kafka: KafkaSettings,
                 *, topic: str = ALERTS_TOPIC) -> None:
        self.store, self.bootstrap, self.topic = store, bootstrap, topic
        self.settings, self.kafka = settings, kafka
        self.workers: dict[str, SubscriptionWorker] = {}
        self.inflight: set[str] = set()
        self._recent_done: dict[str, None] = {}  # insertion-ordered; guards a re-drive racing a completion
        self.ready = asyncio.Event()  # set once partitions are assigned and positioned
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> WebhookDispatcher:
        """Load subscriptions, re-drive stored deliveries, then consume in the background: the API does not
        wait for Kafka, and deliveries already stored go out even while the broker is away."""
        self._client = httpx.AsyncClient(follow_redirects=False, limits=httpx.Limits(max_connections=200))
        await self.refresh()
        loops = {
            "consume": self._consume(),
            "refresh": self._every(self.settings.subscriptions_refresh_s, self.refresh),
            "redrive": self._every(self.settings.redrive_interval_s, self.redrive),
        }
        self._tasks = [asyncio.create_task(c, name=f"webhooks:{n}") for n, c in loops.items()]
        await self.redrive()
        return self

    async def _connect(self) -> AIOKafkaConsumer:
        delay = 0.5
        while True:
            consumer = AIOKafkaConsumer(
                self.topic, bootstrap_servers=self.bootstrap, group_id=self.settings.group_id,
                client_id=f"{self.kafka.client_id}-webhooks", enable_auto_commit=False,
                auto_offset_reset="earliest",  # subscriptions only hear alerts raised after them anyway
                session_timeout_ms=self.kafka.session_timeout_ms,
                heartbeat_interval_ms=self.kafka.heartbeat_interval_ms,
            )
            try:
                await consumer.start()
                return consumer
            except asyncio.CancelledError:  # stopped while joining: do not leak the half-started client
                await asyncio.shield(consumer.stop())
                raise
            except KafkaError as exc:
                log.warning("webhooks: Kafka at %s not reachable (%s); retrying in %.1fs", self.bootstrap, exc, delay)
                await consumer.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(w.stop() for w in self.workers.values()))
        self.workers.clear()
        if self._consumer is not None:
            await self._consumer.stop()
        if self._client is not None:
            await self._client.aclose()

    async def refresh(self) -> None:
        """Follow subscription edits: start workers for new ones, retire deleted ones."""
        subs = {s.id: s for s in await asyncio.to_thread(repo.load_subscriptions, self.store)}
        for sid in set(self.workers) - set(subs):
            await self.workers.pop(sid).stop()
        for sid, sub in subs.items():
            if sid in self.workers:
                self.workers[sid].subscription = sub
            else:
                assert self._client is not None
                worker = SubscriptionWorker(sub, self._client, self.settings, self._record, self._done)
                self.workers[sid] = worker.start()

    async def redrive(self) -> int:
        """Queue stored deliveries that are pending and not in memory (after a restart or a full queue)."""
        offered = 0
        for d in await asyncio.to_thread(repo.pending_deliveries, self.store):
            if d.id in self.inflight or d.id in self._recent_done:
                continue
            if d.subscription_id not in self.workers:
                await self._record(Attempt(d.id, d.subscription_id, d.alert_id, d.attempts,
                                           DeliveryState.cancelled, datetime.now(UTC)))
                continue
            offered += self._offer(d)
        return offered

    async def _consume(self) -> None:
        self._consumer = consumer = await self._connect()
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            if not self.ready.is_set() and consumer.assignment():
                for tp in consumer.assignment():  # resolve the start offsets now, so "ready" means it
                    await consumer.position(tp)
                self.ready.set()
            records = [r for rs in batches.values() for r in rs]
            if not records:
                continue
            try:
                await self._fan_out(records)
            except Exception:  # storage down: do not commit, read the batch again after a pause
                log.exception("webhooks: could not queue %d alert(s); retrying", len(records))
                for tp, rs in batches.items():
                    consumer.seek(tp, rs[0].offset)
                await asyncio.sleep(1.0)
                continue
            await consumer.commit()

    async def _fan_out(self, records: list[ConsumerRecord]) -> None:
        now = datetime.now(UTC)
        subs: list[Subscription] = [w.subscription for w in self.workers.values()]
        deliveries: list[Delivery] = []
        for record in records:
            try:
                alert = Alert.model_validate_json(record.value)
            except (ValidationError, ValueError) as exc:
                log.warning("webhooks: skipping bad alert at %s[%d]@%d: %s",
                            record.topic, record.partition, record.offset, exc)
                continue
            deliveries += [build_delivery(s.id, alert, now) for s in matching(subs, alert)]
        known = await asyncio.to_thread(repo.known_delivery_ids, self.store, [d.id for d in deliveries])
        fresh = list({d.id: d for d in deliveries if d.id not in known}.values())
        await asyncio.to_thread(repo.record_queued, self.store, fresh, now)
        for d in fresh:
            self._offer(d)

    def _offer(self, d: Delivery) -> bool:
        worker = self.workers.get(d.subscription_id)
        if worker is None or d.id in self.inflight or not worker.offer(d):
            return False
        self.inflight.add(d.id)
        return True

    async def _record(self, attempt: Attempt) -> None:
        await asyncio.to_thread(repo.record_attempts, self.store, [attempt])

    def _done(self, d: Delivery) -> None:
        self.inflight.discard(d.id)
        self._recent_done[d.id] = None
        if len(self._recent_done) > 10_000:
            del self._recent_done[next(iter(self._recent_done))]

    async def _every(self, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:  # storage blips must not end the loop; the next round tries again
                log.exception("webhooks: periodic %s failed", getattr(job, "__name__", job))
