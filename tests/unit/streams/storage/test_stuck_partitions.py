"""The sink's check for partitions kafka-python will not fetch from (reconnect trigger after a broker restart)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka import TopicPartition

from streams.storage.consumer import stuck_partitions

A, B, C = (TopicPartition("citybrain.events.v1", p) for p in range(3))


@dataclass
class State:
    fetchable: bool

    def is_fetchable(self) -> bool:
        return self.fetchable


@dataclass
class Subscription:
    assignment: dict


@dataclass
class FakeConsumer:
    states: dict
    paused_tps: set = field(default_factory=set)

    def __post_init__(self) -> None:
        self._subscription = Subscription(self.states)

    def paused(self) -> set:
        return self.paused_tps


def test_unfetchable_partitions_the_sink_did_not_pause_are_stuck() -> None:
    consumer = FakeConsumer({A: State(True), B: State(False), C: State(False)}, paused_tps={C})
    assert stuck_partitions(consumer) == [B]  # C is paused by the sink itself (positioning, ClickHouse down)


def test_a_consumer_without_that_state_reports_nothing() -> None:
    assert stuck_partitions(object()) == []
