"""Replays started through the API: background tasks around `streams.replay`, progress kept in ClickHouse.

A replay's row (`replays`, migration 0022) is rewritten with a higher version as it advances — queued,
running (with sent/total about once a second), then done, failed or cancelled — so any API replica can
answer `GET /api/v1/replays/{id}`. A replay whose row stops advancing while no process here runs it was
cut off by a restart; it is reported (and recorded) as `interrupted` rather than "running" forever.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from ingest.publisher import EventPublisher
from streams.replay import ReplaySpec, ensure_topic, replay_from_store
from streams.storage.base import Store

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(seconds=30)
ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class ReplayRecord:
    id: str
    created_by: str
    spec: ReplaySpec
    topic: str
    state: str = "queued"
    total: int = 0
    sent: int = 0
    error: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def percent(self) -> float:
        """Share of the selected events sent so far; an empty selection that finished is complete.

        >>> spec = ReplaySpec(datetime.now(UTC), datetime.now(UTC))
        >>> running = ReplayRecord("r", "t", spec, "x", total=8, sent=2)
        >>> running.percent, ReplayRecord("r", "t", spec, "x", "done").percent
        (25.0, 100.0)
        """
        if self.total == 0:
            return 100.0 if self.state == "done" else 0.0
        return round(100.0 * self.sent / self.total, 1)


def save(store: Store, rec: ReplayRecord) -> None:
    s = rec.spec
    filters = {"categories": s.categories, "cells": s.cells, "device_ids": s.device_ids, "sources": s.sources}
    store.insert("replays", {
        "id": [rec.id], "created_by": [rec.created_by], "from_time": [s.start], "to_time": [s.end],
        "filter": [orjson.dumps(filters).decode()], "speed": [s.speed or 0.0], "topic": [rec.topic],
        "state": [rec.state], "total": [rec.total], "sent": [rec.sent], "error": [rec.error[:2000]],
        "created_at": [rec.created_at], "updated_at": [rec.updated_at], "version": [time.time_ns()],
    })


def _record(row: dict[str, Any]) -> ReplayRecord:
    f = orjson.loads(row["filter"])
    spec = ReplaySpec(_utc(row["from_time"]), _utc(row["to_time"]), tuple(f["categories"]), tuple(f["cells"]),
                      tuple(f["device_ids"]), tuple(f["sources"]), row["speed"] or None)
    return ReplayRecord(row["id"], row["created_by"], spec, row["topic"], row["state"], int(row["total"]),
                        int(row["sent"]), row["error"], _utc(row["created_at"]), _utc(row["updated_at"]))


def load(store: Store, replay_id: str) -> ReplayRecord | None:
    rows = store.query("SELECT * FROM replays FINAL WHERE id = {id:String}", {"id": replay_id})
    return _record(rows[0]) if rows else None


def recent(store: Store, limit: int = 50) -> list[ReplayRecord]:
    rows = store.query("SELECT * FROM replays FINAL ORDER BY created_at DESC LIMIT {n:UInt32}", {"n": limit})
    return [_record(r) for r in rows]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ReplayRunner:
    """The replays this process runs; one per API process, kept on `app.state.replays`."""

    def __init__(self, store: Store, bootstrap: str | None, *, persist_every_s: float = 1.0) -> None:
        self.store, self.bootstrap, self.persist_every_s = store, bootstrap, persist_every_s
        self.live: dict[str, ReplayRecord] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stops: dict[str, asyncio.Event] = {}

    async def submit(self, rec: ReplayRecord) -> ReplayRecord:
        await asyncio.to_thread(save, self.store, rec)
        self.live[rec.id] = rec
        self._stops[rec.id] = asyncio.Event()
        self._tasks[rec.id] = asyncio.create_task(self._run(rec.id), name=f"replay:{rec.id}")
        return rec

    async def get(self, replay_id: str) -> ReplayRecord | None:
        if replay_id in self.live:
            return self.live[replay_id]
        rec = await asyncio.to_thread(load, self.store, replay_id)
        if rec is not None and rec.state in ACTIVE and datetime.now(UTC) - rec.updated_at > STALE_AFTER:
            rec = replace(rec, state="interrupted", error="the process running it stopped",
                          updated_at=datetime.now(UTC))
            await asyncio.to_thread(save, self.store, rec)
        return rec

    async def cancel(self, replay_id: str) -> bool:
        if (stop := self._stops.get(replay_id)) is None:
            return False
        stop.set()
        return True

    async def close(self) -> None:
        for stop in self._stops.values():
            stop.set()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def _update(self, replay_id: str, **changes: Any) -> ReplayRecord:
        rec = self.live[replay_id] = replace(self.live[replay_id], updated_at=datetime.now(UTC), **changes)
        return rec

    async def _run(self, replay_id: str) -> None:
        rec, stop = self.live[replay_id], self._stops[replay_id]

        def progress(sent: int, total: int) -> None:
            self._update(replay_id, sent=sent, total=total)

        async def persist_loop() -> None:
            while True:
                await asyncio.sleep(self.persist_every_s)
                await asyncio.to_thread(save, self.store, self.live[replay_id])

        saver = asyncio.create_task(persist_loop())
        try:
            self._update(replay_id, state="running")
            await ensure_topic(self.bootstrap or "", rec.topic)
            async with EventPublisher(self.bootstrap, events_topic=rec.topic) as publisher:
                await replay_from_store(self.store, rec.spec, lambda evs: publisher.publish(evs, topic=rec.topic),
                                        progress=progress, stop=stop)
            self._update(replay_id, state="cancelled" if stop.is_set() else "done")
        except Exception as exc:  # the replay fails, the API does not; the reason is kept for the caller
            log.exception("replay %s failed", replay_id)
            self._update(replay_id, state="failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            saver.cancel()
            await asyncio.gather(saver, return_exceptions=True)
            await asyncio.to_thread(save, self.store, self.live[replay_id])
            self.live.pop(replay_id, None)
            self._tasks.pop(replay_id, None)
            self._stops.pop(replay_id, None)


async def close_replays(app: Any) -> None:
    """Lifespan shutdown hook: stop this process's replays cleanly (they end as `cancelled`)."""
    runner: ReplayRunner | None = getattr(app.state, "replays", None)
    if runner is not None:
        await runner.close()
