"""The Kafka side of the live feed: alerts and incidents as streams publish them, turned into hub messages.

No consumer group: each API process assigns itself every partition and starts at the end, so replicas
all see everything, nothing is committed, and Tansu's slow group join is avoided. What happened while the
API was down is in ClickHouse, not in the live feed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from fastapi.concurrency import run_in_threadpool

from brain_api.alerting.queries import current_state
from brain_api.live.hub import LiveHub
from streams.routing import Router
from streams.storage.base import Store
from streams.topics import ALERTS_TOPIC, INCIDENTS_TOPIC

log = logging.getLogger(__name__)
ALERT_SEVERITIES = frozenset({"high", "critical"})


def cell_state(incident: dict[str, Any], router: Router) -> dict[str, Any]:
    """A cell-state message from an incident: `alert` for high/critical severity, else `warning`.

    >>> cell_state({"id": "in-1", "cell": "88309a553dfffff", "category": "traffic", "sub_category": "jam",
    ...             "severity": "high", "updated_at": "2026-11-21T02:00:00+00:00"}, Router())["status"]
    'alert'
    """
    cell, category, sub = incident["cell"], incident["category"], incident.get("sub_category", "")
    return {
        "cell": cell, "status": "alert" if incident["severity"] in ALERT_SEVERITIES else "warning",
        "incident_id": incident["id"], "severity": incident["severity"], "category": category,
        "sub_category": sub, "lat": incident.get("lat"), "lon": incident.get("lon"),
        "updated_at": incident.get("updated_at"), "department": router.department(category, sub, cell),
    }


class LiveFeed:
    """Consume the alerts and incidents topics from their end and publish into the hub."""

    def __init__(
        self, hub: LiveHub, store: Store, bootstrap: str, *, client_id: str = "citybrain-api-live"
    ) -> None:
        self.hub, self.store, self.bootstrap, self.client_id = hub, store, bootstrap, client_id
        self.router = Router.from_env()
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-feed")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        from streams.fetch_wait import FetchWait, observe_fetches

        while True:
            # a short fetch wait: the live feed is about latency (aiokafka's default holds fetches 500 ms);
            # it adapts if the embedded broker needs longer to read (streams.fetch_wait)
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, client_id=self.client_id,
                                        enable_auto_commit=False, group_id=None, fetch_max_wait_ms=20)
            observe_fetches(consumer, FetchWait(min_ms=20, max_ms=4000), who="live-feed")
            try:
                await consumer.start()
                parts = [TopicPartition(t, p) for t in (ALERTS_TOPIC, INCIDENTS_TOPIC)
                         for p in sorted(consumer.partitions_for_topic(t) or ())]
                consumer.assign(parts)
                await consumer.seek_to_end(*parts)
                self.ready.set()
                async for msg in consumer:
                    await self._handle(msg.topic, msg.value)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the broker went away: log, back off, reconnect
                log.exception("live feed consumer failed; reconnecting in 2 s")
                await asyncio.sleep(2.0)
            finally:
                await consumer.stop()

    async def _handle(self, topic: str, value: bytes | None) -> None:
        try:
            record = orjson.loads(value or b"null")
            if not isinstance(record, dict):
                return
            if topic == ALERTS_TOPIC:
                state, version = ("open", 0)
                if int(record.get("version", 1)) > 1:  # a re-sent alert keeps the state people gave it
                    state, version = await run_in_threadpool(current_state, self.store, record["id"])
                self.hub.publish("alert", {**record, "state": state, "state_version": version})
            else:
                self.hub.publish("cell", cell_state(record, self.router))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            log.warning("live feed skipped a record from %s: %s", topic, exc)
