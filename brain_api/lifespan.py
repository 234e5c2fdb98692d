"""What runs beside the requests, started and stopped in order by the app's lifespan.

Always: the store (one shared object; embedded chdb is owned by this process), migrations, the
authenticator, the live hub and the transition service. With a Kafka bootstrap and `background=True`:
the sink thread (embedded storage, or `CITYBRAIN_API_RUN_SINK=true`), the ingest publisher behind the
ingest routers, the false-positive feedback producer, the live feed consumer, webhook delivery, and the
escalation timer. Everything is stopped in reverse order; a failing start stops what already started.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from prometheus_client import REGISTRY

from brain_api.alerting.escalation import escalation_loop
from brain_api.alerting.locks import KeyedLocks
from brain_api.alerting.transitions import Transitions
from brain_api.live.hub import LiveHub
from brain_api.response_cache import ResponseCache
from brain_api.security.auth import Authenticator
from brain_api.security.ratelimit import RateLimiter
from brain_api.security.token_store import TokenStore
from brain_api.settings import ApiSettings, get_api_settings
from ingest.settings import get_kafka_settings
from streams.settings import get_clickhouse_settings
from streams.storage.base import open_store
from streams.storage.memory_metrics import ClickHouseMemory

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    from streams.storage.migrate import migrate

    settings = get_api_settings()
    bootstrap = get_kafka_settings().bootstrap
    async with AsyncExitStack() as stack:
        store = app.state.injected_store
        if store is None:
            store = await run_in_threadpool(open_store)
            stack.callback(store.close)
        app.state.store = store
        await run_in_threadpool(migrate, store)
        memory = ClickHouseMemory(store)
        REGISTRY.register(memory)
        stack.callback(REGISTRY.unregister, memory)
        app.state.kafka_bootstrap = bootstrap
        app.state.authenticator = Authenticator(TokenStore(store), settings.admin_token, settings.token_cache_s)
        app.state.rate_limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
        app.state.live = hub = LiveHub(settings.live_buffer)
        stack.callback(hub.close)
        app.state.response_cache = cache = ResponseCache(settings.cache_ttl_s)
        app.state.transitions = Transitions(store, locks=KeyedLocks(), hub=hub, on_change=cache.clear)
        if app.state.background:
            await _start_background(app, stack, settings, bootstrap)
        yield


async def _start_background(app: FastAPI, stack: AsyncExitStack, settings: ApiSettings, bootstrap: str | None) -> None:
    if settings.run_escalation:
        task = asyncio.create_task(escalation_loop(app.state.transitions, settings.escalation_after_s,
                                                   settings.escalation_check_s), name="escalation")
        stack.push_async_callback(_cancel, task)
    if not bootstrap:
        log.warning("no CITYBRAIN_KAFKA_BOOTSTRAP: ingest, live feed, feedback and webhooks are off")
        return
    store = app.state.store
    if settings.sink_enabled(get_clickhouse_settings().url):
        from streams.storage.sink import Sink

        sink = Sink(store, bootstrap)
        await run_in_threadpool(sink.start)
        app.state.sink = sink
        stack.push_async_callback(run_in_threadpool, sink.stop)

    from ingest.http.deps import IngestContext, configure
    from ingest.publisher import EventPublisher

    publisher = EventPublisher(bootstrap)
    await publisher.start()
    stack.push_async_callback(publisher.stop)
    context = IngestContext.create(publisher)
    configure(context)
    stack.callback(configure, None)
    if settings.mqtt_bridge:
        await _start_mqtt_bridge(stack, settings.mqtt_bridge, context)

    from brain_api.alerting.feedback import FeedbackPublisher

    feedback = await run_in_threadpool(FeedbackPublisher, bootstrap)
    app.state.transitions.feedback = feedback
    stack.push_async_callback(run_in_threadpool, feedback.close)

    if settings.run_live_feed:
        from brain_api.live.feed import LiveFeed

        feed = LiveFeed(app.state.live, store, bootstrap)
        await feed.start()
        app.state.live_feed = feed
        stack.push_async_callback(feed.stop)

    from brain_api.webhooks.service import start_webhook_dispatcher, stop_webhook_dispatcher

    await start_webhook_dispatcher(app, store=store, bootstrap=bootstrap)
    stack.push_async_callback(stop_webhook_dispatcher, app)

    from brain_api.replay import close_replays

    stack.push_async_callback(close_replays, app)  # LIFO: replays stop before the publisher they use


async def _start_mqtt_bridge(stack: AsyncExitStack, address: str, context: object) -> None:
    from ingest.mqtt_bridge import MqttBridge

    host, _, port = address.rpartition(":")
    bridge = MqttBridge(host or "127.0.0.1", int(port), context.pipeline)  # type: ignore[attr-defined]
    await bridge.start()
    task = asyncio.create_task(bridge.run(), name="mqtt-bridge")
    stack.push_async_callback(_cancel, task)
    stack.push_async_callback(bridge.stop)  # LIFO: stop the bridge, then reap its task


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
