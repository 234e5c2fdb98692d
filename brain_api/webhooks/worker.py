"""One subscription's delivery loop: a bounded queue drained by one task, retries with backoff.

Isolation is the point (Orion lets one dead endpoint starve the others): each subscription has its own
queue and task, so a slow or failing endpoint only delays its own deliveries. Deliveries to one endpoint
are serialised, which keeps them in alert order and caps what we do to a struggling receiver at one
request at a time. A full queue refuses new work (`offer` -> False); the delivery is already stored as
queued and the dispatcher's re-drive loop brings it back later, so nothing is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx

from brain_api.webhooks.delivery import Attempt, Delivery, DeliveryState, is_permanent_refusal
from brain_api.webhooks.settings import WebhookSettings, backoff_delay
from brain_api.webhooks.signing import signed_headers
from brain_api.webhooks.subscription import Subscription

log = logging.getLogger(__name__)

Record = Callable[[Attempt], Awaitable[None]]
Done = Callable[[Delivery], None]


class SubscriptionWorker:
    def __init__(
        self, subscription: Subscription, client: httpx.AsyncClient, settings: WebhookSettings,
        record: Record, done: Done,
    ) -> None:
        self.subscription = subscription  # replaced in place when the subscription is edited
        self.client = client
        self.settings = settings
        self.record = record
        self.done = done
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=settings.queue_size)
        self.task: asyncio.Task[None] | None = None

    def start(self) -> SubscriptionWorker:
        self.task = asyncio.create_task(self._run(), name=f"webhook:{self.subscription.id}")
        return self

    def offer(self, delivery: Delivery) -> bool:
        """Queue `delivery` unless the queue is full (then it waits in storage for a re-drive)."""
        try:
            self.queue.put_nowait(delivery)
        except asyncio.QueueFull:
            return False
        return True

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            delivery = await self.queue.get()
            try:
                await self._deliver(delivery)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug here must not kill the loop of this subscription
                log.exception("webhook %s: delivery %s crashed", self.subscription.id, delivery.id)
            finally:
                self.done(delivery)

    async def _deliver(self, delivery: Delivery) -> None:
        if delivery.not_before is not None:
            await asyncio.sleep(max(0.0, (delivery.not_before - datetime.now(UTC)).total_seconds()))
        attempt = delivery.attempts
        while attempt < self.settings.max_attempts:
            attempt += 1
            status, error, took_ms = await self._post(delivery)
            now = datetime.now(UTC)
            if 200 <= status < 300:
                state, wait = DeliveryState.delivered, None
            elif attempt >= self.settings.max_attempts or is_permanent_refusal(status):
                state, wait = DeliveryState.failed, None
            else:
                state = DeliveryState.retrying
                wait = backoff_delay(attempt, self.settings.backoff_base_s, self.settings.backoff_max_s)
            await self.record(Attempt(
                delivery.id, delivery.subscription_id, delivery.alert_id, attempt, state, now,
                http_status=status, error=error, duration_ms=took_ms,
                next_attempt_at=now + timedelta(seconds=wait) if wait is not None else None,
            ))
            if wait is None:
                return
            await asyncio.sleep(wait)

    async def _post(self, delivery: Delivery) -> tuple[int, str, float]:
        sub = self.subscription
        headers = signed_headers(sub.secret, delivery.body, delivery_id=delivery.id, at=datetime.now(UTC))
        started = time.perf_counter()
        try:
            response = await self.client.post(
                sub.url, content=delivery.body, headers=dict(headers), timeout=self.settings.timeout_s
            )
        except httpx.HTTPError as exc:
            return 0, f"{type(exc).__name__}: {exc}"[:500], (time.perf_counter() - started) * 1000
        took_ms = (time.perf_counter() - started) * 1000
        error = "" if response.is_success else response.text[:500]
        return response.status_code, error, took_ms
