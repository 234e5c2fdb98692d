"""`LiveHub`: numbered messages in a bounded ring buffer, fanned out to subscribers' queues.

Ids increase across restarts (they start at the boot time in milliseconds), so a client resuming with
`Last-Event-ID` from before a restart simply gets what the new buffer holds. A subscriber too slow to
keep up is cut off (its queue is bounded) and resumes from its last id; it never stalls the others.
`publish` is thread-safe: request threads and the Kafka consumer task both call it.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from brain_api.security.roles import Principal


@dataclass(frozen=True)
class LiveMessage:
    id: int
    event: str  # "alert" or "cell"
    data: dict[str, Any]

    def visible_to(self, principal: Principal) -> bool:
        return principal.can_see(department=self.data.get("department"), cell=self.data.get("cell"))


class SlowSubscriber(Exception):
    """The subscriber's queue overflowed; it must reconnect with its last event id."""


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[LiveMessage | None] = asyncio.Queue(maxsize)
        self.overflowed = False

    def offer(self, msg: LiveMessage | None) -> None:
        try:
            self.queue.put_nowait(msg)
        except asyncio.QueueFull:
            self.overflowed = True


class LiveHub:
    def __init__(self, capacity: int = 1000, queue_size: int = 1000) -> None:
        self.buffer: deque[LiveMessage] = deque(maxlen=capacity)
        self.queue_size = queue_size
        self._ids = itertools.count(int(time.time() * 1000))
        self._subs: set[_Subscriber] = set()
        self._lock = threading.Lock()

    def publish(self, event: str, data: dict[str, Any]) -> LiveMessage:
        with self._lock:
            msg = LiveMessage(next(self._ids), event, data)
            self.buffer.append(msg)
            subs = list(self._subs)
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, msg)
            except RuntimeError:  # that subscriber's loop is closed
                self._subs.discard(sub)
        return msg

    async def subscribe(
        self, principal: Principal, last_event_id: int | None = None
    ) -> AsyncIterator[LiveMessage]:
        """Messages visible to `principal`: the buffered ones after `last_event_id`, then live ones."""
        sub = _Subscriber(asyncio.get_running_loop(), self.queue_size)
        with self._lock:
            self._subs.add(sub)
            backlog = [m for m in self.buffer if last_event_id is not None and m.id > last_event_id]
        sent = last_event_id or 0
        try:
            for msg in backlog:
                sent = msg.id
                if msg.visible_to(principal):
                    yield msg
            while True:
                msg = await sub.queue.get()
                if sub.overflowed:
                    raise SlowSubscriber(f"subscriber fell behind after id {sent}")
                if msg is None:
                    return
                if msg.id > sent:
                    sent = msg.id
                    if msg.visible_to(principal):
                        yield msg
        finally:
            with self._lock:
                self._subs.discard(sub)

    def close(self) -> None:
        """End every subscription (at shutdown), so streaming responses finish."""
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, None)
            except RuntimeError:
                pass

    @property
    def subscribers(self) -> int:
        return len(self._subs)
