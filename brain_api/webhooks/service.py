"""Start and stop the webhook delivery service from the API lifespan.

`start_webhook_dispatcher(app)` returns at once (Kafka is joined in the background) and keeps the
dispatcher on `app.state.webhook_dispatcher`, where the subscriptions router nudges it after an edit.
Without a Kafka bootstrap (no broker configured) there is nothing to consume and it stays off.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from brain_api.webhooks.dispatcher import WebhookDispatcher
from brain_api.webhooks.settings import WebhookSettings, get_webhook_settings
from ingest.settings import get_kafka_settings
from streams.storage.base import Store

log = logging.getLogger(__name__)


async def start_webhook_dispatcher(
    app: FastAPI, *, store: Store | None = None, bootstrap: str | None = None,
    settings: WebhookSettings | None = None,
) -> WebhookDispatcher | None:
    """Run the dispatcher beside the API; `store`/`bootstrap` default to `app.state.store` and settings."""
    kafka = get_kafka_settings()
    bootstrap = bootstrap or kafka.bootstrap
    store = store or getattr(app.state, "store", None)
    if not bootstrap or store is None:
        log.warning("webhooks: no Kafka bootstrap or store; webhook delivery is off")
        return None
    dispatcher = WebhookDispatcher(store, bootstrap, settings or get_webhook_settings(), kafka)
    await dispatcher.start()
    app.state.webhook_dispatcher = dispatcher
    return dispatcher


async def stop_webhook_dispatcher(app: FastAPI) -> None:
    """Stop consuming and cancel in-flight attempts; what was pending stays stored for the next start."""
    dispatcher: WebhookDispatcher | None = getattr(app.state, "webhook_dispatcher", None)
    app.state.webhook_dispatcher = None
    if dispatcher is not None:
        await dispatcher.stop()
