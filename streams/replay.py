"""Replay stored events from ClickHouse back onto Kafka, in time order, paced by a speed factor.

One engine for `POST /api/v1/replays` and `citybrain replay --from --to`: `replay_from_store(store, spec,
publish)`. Events are read hour by hour (the events sort key starts with the hour, so a read touches only
that hour's granules; hours without data are skipped) and page by page inside an hour (keyset on
`(time, id, source)`), and handed to `publish` — in practice ingest's `EventPublisher`, which packs them as
JSON arrays per partition like live ingest does. Stored events passed validation at the door, so they are
re-emitted as they are. The target is a `citybrain.replay.*` topic, or the live input topic only when the
caller explicitly allows it (`check_target`), so a replay cannot feed live detection by accident.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ingest.events import Category, CityEvent, EventType
from ingest.topics import EVENTS_TOPIC
from streams.storage.base import Store

REPLAY_TOPIC = "citybrain.replay.v1"
_REPLAY_NAME = re.compile(r"^citybrain\.replay\.[a-z0-9][a-z0-9_\-]{0,62}(\.v\d+)?$")
_COLUMNS = ("id, source, type, time, device_id, lat, lon, cell, category, measurements, attributes, flags,"
            " received_at")

Publish = Callable[[Sequence[CityEvent]], Awaitable[object]]
Progress = Callable[[int, int], None]


class ReplayTargetRefused(ValueError):
    """The target topic is the live input (without `allow_live`) or outside `citybrain.replay.*`."""


def check_target(topic: str, *, allow_live: bool = False) -> str:
    """The topic a replay may write to.

    >>> check_target("citybrain.replay.v1"), check_target("citybrain.replay.flood-drill")
    ('citybrain.replay.v1', 'citybrain.replay.flood-drill')
    >>> check_target("citybrain.events.v1")
    Traceback (most recent call last):
    ...
    streams.replay.ReplayTargetRefused: citybrain.events.v1 is the live input topic; replaying into it needs allow_live
    """
    if topic == EVENTS_TOPIC:
        if not allow_live:
            raise ReplayTargetRefused(f"{topic} is the live input topic; replaying into it needs allow_live")
        return topic
    if not _REPLAY_NAME.match(topic):
        raise ReplayTargetRefused(f"{topic!r} is not a replay topic (citybrain.replay.<name>)")
    return topic


@dataclass(frozen=True)
class ReplaySpec:
    """Which stored events to replay (`start <= time < end`, all filters must hold) and how fast."""

    start: datetime
    end: datetime
    categories: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()
    device_ids: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    speed: float | None = None  # None: as fast as the broker takes them; 10.0: ten times real time

    def where(self) -> tuple[str, dict[str, Any]]:
        """WHERE clause and parameters of the filters (bound, never pasted)."""
        sql = ["time >= {start:DateTime64(3, 'UTC')}", "time < {end:DateTime64(3, 'UTC')}"]
        params: dict[str, Any] = {"start": self.start, "end": self.end}
        for column, values in (("category", self.categories), ("cell", self.cells),
                               ("device_id", self.device_ids), ("source", self.sources)):
            if values:
                sql.append(f"has({{f_{column}:Array(String)}}, {column})")
                params[f"f_{column}"] = list(values)
        return " AND ".join(sql), params


def count_events(store: Store, spec: ReplaySpec) -> int:
    where, params = spec.where()
    return int(store.query(f"SELECT count() AS n FROM events WHERE {where}", params)[0]["n"])


def event_of(row: dict[str, Any]) -> CityEvent:
    """A stored row back into the envelope it was (no re-validation: it passed at ingest)."""
    attributes = row["attributes"]
    return CityEvent.model_construct(
        id=row["id"], source=row["source"], type=EventType(row["type"]), time=row["time"],
        device_id=row["device_id"] or None, lat=row["lat"], lon=row["lon"], cell=row["cell"] or None,
        category=Category(row["category"]), measurements=dict(row["measurements"] or {}),
        attributes=orjson.loads(attributes) if attributes else {}, flags=tuple(row["flags"] or ()),
        received_at=row["received_at"],
    )


def read_pages(store: Store, spec: ReplaySpec, *, page: int = 5000) -> Iterator[list[dict[str, Any]]]:
    """Rows in `(time, id, source)` order, `page` at a time, one hour (that has data) after the other."""
    where, params = spec.where()
    hours = store.query(f"SELECT DISTINCT toStartOfHour(time) AS hour FROM events WHERE {where} ORDER BY hour",
                        params)
    for hour in (h["hour"] for h in hours):
        after: tuple[datetime, str, str] | None = None
        while True:
            keyset, extra = "", {}
            if after is not None:
                keyset = " AND (time, id, source) > ({at:DateTime64(3, 'UTC')}, {after_id:String}, {after_src:String})"
                extra = {"at": after[0], "after_id": after[1], "after_src": after[2]}
            rows = store.query(
                f"SELECT {_COLUMNS} FROM events WHERE {where} AND toStartOfHour(time) = {{hour:DateTime('UTC')}}"
                f"{keyset} ORDER BY time, id, source LIMIT {{page:UInt32}}",
                {**params, **extra, "hour": hour, "page": page},
            )
            if rows:
                yield rows
            if len(rows) < page:
                break
            after = (rows[-1]["time"], rows[-1]["id"], rows[-1]["source"])


async def replay_from_store(
    store: Store, spec: ReplaySpec, publish: Publish, *, progress: Progress | None = None,
    stop: asyncio.Event | None = None, page: int = 5000,
) -> int:
    """Publish the events `spec` selects in time order, paced by `spec.speed`; returns how many were sent.

    `progress(sent, total)` is called after every publish; setting `stop` ends the replay early.
    Storage reads run in a worker thread so an API event loop stays responsive.
    """
    total = await asyncio.to_thread(count_events, store, spec)
    sent, first, wall0 = 0, None, time.monotonic()
    pages = read_pages(store, spec, page=page)
    while (rows := await asyncio.to_thread(next, pages, None)) is not None:
        batch: list[CityEvent] = []
        for row in rows:
            event = event_of(row)
            if spec.speed:
                first = first or event.time
                wait = wall0 + (event.time - first).total_seconds() / spec.speed - time.monotonic()
                if wait > 0.02:  # publish what is due, then wait for this event's moment
                    sent += await _flush(publish, batch, sent, total, progress)
                    await _sleep(wait, stop)
            if stop is not None and stop.is_set():
                return sent
            batch.append(event)
        sent += await _flush(publish, batch, sent, total, progress)
    if progress is not None:
        progress(sent, total)
    return sent


async def ensure_topic(bootstrap: str, topic: str, partitions: int | None = None) -> None:
    """Create the target topic when missing (same partition count as the live topics by default)."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    from ingest.settings import get_kafka_settings

    settings = get_kafka_settings()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"{settings.client_id}-replay")
    await admin.start()
    try:
        if topic in await admin.list_topics():
            return
        new = NewTopic(topic, partitions or settings.partitions, settings.replication_factor)
        try:
            await admin.create_topics([new])
        except TopicAlreadyExistsError:
            pass
    finally:
        await admin.close()


async def _flush(publish: Publish, batch: list[CityEvent], sent: int, total: int, progress: Progress | None) -> int:
    if not batch:
        return 0
    await publish(batch)
    n = len(batch)
    batch.clear()
    if progress is not None:
        progress(sent + n, max(total, sent + n))
    return n


async def _sleep(seconds: float, stop: asyncio.Event | None) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
