"""The stall watchdog: a stuck partition is re-fetched, then the worker restarted; idle ones are left alone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from faust.types import TP

from streams.watchdog import Action, PartitionStalled, StallWatch, patrol

EVENTS = TP("citybrain.events.v1", 2)
OTHER = TP("citybrain.events.v1", 0)


@dataclass
class FakeConsumer:
    highwaters: dict[TP, int]
    seeks: list[tuple[TP, int]] = field(default_factory=list)

    def highwater(self, tp: TP) -> int:
        return self.highwaters[tp]

    async def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))


@dataclass
class FakeApp:
    consumer: FakeConsumer
    crashed: list[BaseException] = field(default_factory=list)

    async def crash(self, reason: BaseException) -> None:
        self.crashed.append(reason)


def test_idle_partition_is_never_stalled_however_long_it_is_quiet() -> None:
    watch = StallWatch(stall_s=60, escalate_s=30)
    watch.assigned([EVENTS], now=0)
    watch.processed(EVENTS, 41, now=1)
    for now in range(0, 3600, 10):
        assert watch.check(EVENTS, highwater=42, now=now) is Action.NONE


def test_quiet_partition_that_gets_data_has_the_full_grace_period() -> None:
    watch = StallWatch(stall_s=60, escalate_s=30)
    watch.assigned([EVENTS], now=0)
    watch.processed(EVENTS, 41, now=1)
    assert watch.check(EVENTS, highwater=42, now=1000) is Action.NONE  # idle until now
    assert watch.check(EVENTS, highwater=50, now=1050) is Action.NONE  # data arrived, 50 s is within grace
    assert watch.check(EVENTS, highwater=50, now=1061) is Action.SEEK


def test_stuck_partition_is_sought_then_the_worker_crashes_and_progress_clears_it() -> None:
    consumer = FakeConsumer({EVENTS: 500, OTHER: 10})
    app = FakeApp(consumer)
    watch = StallWatch(stall_s=60, escalate_s=30)
    watch.assigned([EVENTS, OTHER], now=0)
    watch.processed(EVENTS, 199, now=5)
    watch.processed(OTHER, 9, now=5)

    asyncio.run(patrol(app, watch, now=30))
    assert consumer.seeks == [] and app.crashed == []
    asyncio.run(patrol(app, watch, now=70))
    assert consumer.seeks == [(EVENTS, 200)], "re-fetch from the first offset not yet processed"
    asyncio.run(patrol(app, watch, now=90))
    assert app.crashed == []
    asyncio.run(patrol(app, watch, now=101))
    assert len(app.crashed) == 1 and isinstance(app.crashed[0], PartitionStalled)
    assert "citybrain.events.v1[2]" in str(app.crashed[0])

    watch.processed(EVENTS, 250, now=102)  # it moved again: back to healthy, escalation forgotten
    assert watch.check(EVENTS, highwater=500, now=150) is Action.NONE
    assert watch.check(EVENTS, highwater=500, now=163) is Action.SEEK


def test_revoked_partitions_are_forgotten_and_unknown_highwaters_skipped() -> None:
    consumer = FakeConsumer({})  # highwater() raises KeyError: as if not assigned any more
    app = FakeApp(consumer)
    watch = StallWatch(stall_s=1, escalate_s=1)
    watch.assigned([EVENTS], now=0)
    asyncio.run(patrol(app, watch, now=100))
    assert consumer.seeks == [] and app.crashed == []
    watch.revoked([EVENTS])
    assert watch.watched() == []
    assert watch.check(EVENTS, highwater=10, now=200) is Action.NONE


def test_after_a_restart_an_idle_partition_is_judged_by_the_fetch_position() -> None:
    """No record processed yet: high watermark 41 at fetch position 41 is idle, not 42 records behind."""
    watch = StallWatch(stall_s=60, escalate_s=30)
    watch.assigned([EVENTS], now=0)
    assert watch.check(EVENTS, highwater=41, now=500, position=41) is Action.NONE
    assert watch.check(EVENTS, highwater=41, now=900, position=None) is Action.NONE  # unknown: no verdict
    assert watch.check(EVENTS, highwater=60, now=959, position=41) is Action.NONE
    assert watch.check(EVENTS, highwater=60, now=961, position=41) is Action.SEEK


def test_a_topic_that_restarts_from_offset_zero_is_watched_from_zero() -> None:
    """A restarted memory broker numbers offsets from 0 again: the old epoch's progress must not blind us."""
    watch = StallWatch(stall_s=60, escalate_s=30)
    watch.assigned([EVENTS], now=0)
    watch.processed(EVENTS, 499, now=10)
    assert watch.check(EVENTS, highwater=20, now=20, position=0) is Action.NONE  # new epoch noticed
    watch.processed(EVENTS, 5, now=25)  # new-epoch progress counts again
    assert watch.next_offset(EVENTS) == 6
    assert watch.check(EVENTS, highwater=300, now=84, position=6) is Action.NONE
    assert watch.check(EVENTS, highwater=300, now=86, position=6) is Action.SEEK


def test_the_stall_line_names_what_each_layer_holds() -> None:
    from types import SimpleNamespace

    from aiokafka import TopicPartition

    from streams.watchdog import fetch_state

    state = SimpleNamespace(position=8996, highwater=9767, paused=False)
    assignment = SimpleNamespace(state_value=lambda tp: state)
    fetcher = SimpleNamespace(_records={}, _in_flight={1}, _fetch_task=None)
    aio = SimpleNamespace(_subscription=SimpleNamespace(subscription=SimpleNamespace(assignment=assignment)),
                          _fetcher=fetcher)
    consumer = SimpleNamespace(_thread=SimpleNamespace(_ensure_consumer=lambda: aio), _active_partitions={EVENTS},
                               _buffered_partitions=set(), flow_active=True)
    line = fetch_state(SimpleNamespace(consumer=consumer), EVENTS)
    assert line == ("position=8996 highwater=9767 paused=False buffered=False in_flight=[1] fetch_task=DEAD "
                    "active=True buffer_full=False flow=True")
    fetcher._records = {TopicPartition(EVENTS.topic, EVENTS.partition): object()}
    assert "buffered=True" in fetch_state(SimpleNamespace(consumer=consumer), EVENTS)
    assert fetch_state(SimpleNamespace(consumer=None), EVENTS).startswith("fetch state unavailable")
