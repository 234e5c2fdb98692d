"""Partition stall watchdog: a partition with data waiting and nothing delivered for too long is re-fetched.

Why: in 30-minute soaks on the embedded broker the faust worker stopped receiving events partitions after
12-20 minutes while another client read them fine. The cause was found later (streams/fetch_wait.py): the
broker answers a fetch with only what it read within the fetch's max-wait, and the worker's 20 ms waits got
nothing once its log was big and the worker behind. The adaptive wait cures that; this watchdog stays as the
safety net for any other way a consumer can stop receiving (faust only logs "Stream stopped processing", and
every spike on those devices would go unscored). It watches the worker's own progress and escalates:

1. a partition whose high watermark is ahead of the last offset an agent processed, with no progress for
   `stall_s`, is sought to the next offset it needs (resets aiokafka's fetch state for that partition);
2. still stuck `escalate_s` after that: the worker crashes on purpose and its supervisor (the runner, or
   Kubernetes) restarts it; it resumes from committed offsets with its detector snapshots.

Tansu can under-report high watermarks (never over-report, see deploy/broker.py), so an idle partition is
never taken for a stalled one; a real stall may be seen late, not falsely.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Any

from faust.types import TP

from streams import metrics

log = logging.getLogger("citybrain.worker")


class Action(enum.Enum):
    NONE = "none"
    SEEK = "seek"
    RESTART = "restart"


@dataclass
class _Progress:
    offset: int  # last offset an agent processed; -1 before the first
    at: float  # when it last advanced (or when the partition was assigned)
    sought_at: float | None = None


class StallWatch:
    """Per-partition progress and the decision what to do about a stall.

    >>> w = StallWatch(stall_s=60, escalate_s=30)
    >>> tp = TP("citybrain.events.v1", 2)
    >>> w.assigned([tp], now=0); w.processed(tp, 99, now=10)
    >>> w.check(tp, highwater=100, now=20)   # caught up: idle is healthy
    <Action.NONE: 'none'>
    >>> w.check(tp, highwater=140, now=79), w.check(tp, highwater=140, now=81)
    (<Action.NONE: 'none'>, <Action.SEEK: 'seek'>)
    >>> w.check(tp, highwater=150, now=100), w.check(tp, highwater=150, now=112)
    (<Action.NONE: 'none'>, <Action.RESTART: 'restart'>)
    >>> w.processed(tp, 120, now=113); w.check(tp, highwater=150, now=114)
    <Action.NONE: 'none'>
    """

    def __init__(self, stall_s: float, escalate_s: float) -> None:
        self.stall_s, self.escalate_s = stall_s, escalate_s
        self._tps: dict[TP, _Progress] = {}

    def assigned(self, tps: list[TP] | set[TP], now: float) -> None:
        for tp in tps:
            self._tps.setdefault(tp, _Progress(offset=-1, at=now))

    def revoked(self, tps: list[TP] | set[TP]) -> None:
        for tp in tps:
            self._tps.pop(tp, None)

    def processed(self, tp: TP, offset: int, now: float) -> None:
        p = self._tps.setdefault(tp, _Progress(offset=-1, at=now))
        if offset > p.offset:
            p.offset, p.at, p.sought_at = offset, now, None

    def next_offset(self, tp: TP) -> int | None:
        """Where a seek should restart fetching (None before the first record: let committed offsets decide)."""
        p = self._tps.get(tp)
        return p.offset + 1 if p is not None and p.offset >= 0 else None

    def stalled_for(self, tp: TP, now: float) -> float:
        p = self._tps.get(tp)
        return now - p.at if p is not None else 0.0

    def watched(self) -> list[TP]:
        return list(self._tps)

    def check(self, tp: TP, highwater: int | None, now: float, position: int | None = None) -> Action:
        """`position`: the consumer's fetch position, which says what is waiting before the first record
        after a (re)assignment, when no processed offset is known yet."""
        p = self._tps.get(tp)
        if p is None or highwater is None:
            return Action.NONE
        if highwater < p.offset:  # the topic came back with offsets from 0 (a memory broker restarted)
            p.offset, p.at, p.sought_at = -1, now, None
        needed = p.offset + 1 if p.offset >= 0 else position
        if needed is None or highwater <= needed:  # nothing waiting: an idle partition is a healthy one
            p.at, p.sought_at = now, None
            return Action.NONE
        if now - p.at < self.stall_s:
            return Action.NONE
        if p.sought_at is None:
            p.sought_at = now
            return Action.SEEK
        return Action.RESTART if now - p.sought_at >= self.escalate_s else Action.NONE


class PartitionStalled(RuntimeError):
    """A partition stayed stuck after a re-fetch: crash so the supervisor restarts the worker."""


def _tp_state(app: Any, tp: TP) -> Any:
    """aiokafka's subscription state of `tp` and whether records are buffered for it (private attributes)."""
    from aiokafka import TopicPartition

    atp = TopicPartition(tp.topic, tp.partition)
    consumer = app.consumer._thread._ensure_consumer()
    return consumer._subscription.subscription.assignment.state_value(atp), atp in getattr(
        consumer._fetcher, "_records", {})


def fetch_position(app: Any, tp: TP) -> int | None:
    """aiokafka's next fetch offset for `tp` (None when unknown: then nothing is judged before a record)."""
    try:
        return _tp_state(app, tp)[0].position
    except Exception:  # noqa: BLE001 - private attributes: best effort
        return None


def fetch_state(app: Any, tp: TP) -> str:
    """Every layer's view of a partition for the stall log line (private attributes: best effort only).

    aiokafka: position, highwater, paused, records buffered, a fetch in flight, the fetch task alive;
    faust: the partition among those it asks aiokafka for (`active`) or parked because its stream buffer
    was full (`buffer_full`), and whether flow is on. A stall names the layer that holds it.
    """
    try:
        state, buffered = _tp_state(app, tp)
        consumer = app.consumer._thread._ensure_consumer()
        fetcher = consumer._fetcher
        task = getattr(fetcher, "_fetch_task", None)
        faust_consumer = app.consumer
        return (f"position={state.position} highwater={state.highwater} paused={state.paused} "
                f"buffered={buffered} in_flight={sorted(getattr(fetcher, '_in_flight', ()))} "
                f"fetch_task={'alive' if task is not None and not task.done() else 'DEAD'} "
                f"active={tp in (faust_consumer._active_partitions or ())} "
                f"buffer_full={tp in faust_consumer._buffered_partitions} flow={faust_consumer.flow_active}")
    except Exception as exc:  # noqa: BLE001 - diagnostics must never break the watchdog
        return f"fetch state unavailable ({exc!r})"


async def patrol(app: Any, watch: StallWatch, now: float) -> None:
    """One round of the watchdog over every watched partition (run by a faust timer)."""
    for tp in watch.watched():
        try:
            highwater = app.consumer.highwater(tp)
        except Exception as exc:  # noqa: BLE001 - not (or no longer) assigned: nothing to judge
            log.debug("no high watermark for %s: %r", tp, exc)
            continue
        action = watch.check(tp, highwater, now, position=fetch_position(app, tp))
        if action is Action.NONE:
            continue
        metrics.STALLS.labels(action=action.value).inc()
        offset = watch.next_offset(tp)
        log.error("partition %s[%s] stalled: data up to offset %s waiting, next needed %s, no progress for %.0f s"
                  " (%s); %s", tp.topic, tp.partition, highwater, offset, watch.stalled_for(tp, now),
                  fetch_state(app, tp), "re-fetching it" if action is Action.SEEK else "restarting the worker")
        if action is Action.SEEK and offset is not None:
            await app.consumer.seek(tp, offset)
        elif action is Action.RESTART:
            await app.crash(PartitionStalled(f"{tp.topic}[{tp.partition}] still stuck after a re-fetch"))
            return
