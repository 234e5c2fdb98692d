"""kafka-python glue for the sink: the consumer it needs, rebalance hooks, lag and topic ids.

Offsets are committed by hand (after ClickHouse acknowledged), never automatically; a new group starts
at the earliest offset because ClickHouse, not the group, decides where reading resumes (`progress.py`).
Session timeouts stay short because Tansu completes a group join only after half of it.
"""

from __future__ import annotations

from collections.abc import Callable

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from ingest.settings import get_kafka_settings
from streams.fetch_wait import FetchWait, observe_kafka_python_fetches
from streams.settings import get_sink_settings


def sink_consumer(bootstrap: str, group_id: str) -> KafkaConsumer:
    kafka, sink = get_kafka_settings(), get_sink_settings()
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, client_id="citybrain-sink",
        enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=500,
        session_timeout_ms=kafka.session_timeout_ms, heartbeat_interval_ms=kafka.heartbeat_interval_ms,
    )
    # the embedded broker answers only what it read within the wait: give it longer when a fetch comes back
    # empty with data waiting (a sink catching up after an outage reads from deep in a big log)
    observe_kafka_python_fetches(consumer, FetchWait(sink.fetch_wait_min_ms, sink.fetch_wait_max_ms))
    return consumer


class RebalanceHooks(ConsumerRebalanceListener):
    """Forward assignments to the sink. Hooks must return quickly: kafka-python runs them inside poll(),
    where they block heartbeats, so anything slow (ClickHouse) happens later in the poll loop."""

    def __init__(
        self, on_assigned: Callable[[list[TopicPartition]], None],
        on_revoked: Callable[[list[TopicPartition]], None],
    ) -> None:
        self._assigned, self._revoked = on_assigned, on_revoked

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._revoked(list(revoked))

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._assigned(list(assigned))


def topic_id(consumer: KafkaConsumer, topic: str) -> str:
    """The broker's id of the topic's current incarnation ('' when the broker does not say).

    kafka-python keeps it in its cluster metadata without a public accessor.
    """
    value = consumer._client.cluster.topic_id(topic)
    return str(value) if value else ""


def lag(consumer: KafkaConsumer) -> int | None:
    """Sum of high watermark minus position (the broker reports watermarks with each fetch: cheap).

    Tansu's watermarks can be wrong after multi-message batches (see deploy/broker.py): a hint, not a fact.
    """
    total, known = 0, False
    try:
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is not None:
                total += max(0, high - consumer.position(tp, timeout_ms=100))
                known = True
    except (KafkaError, AssertionError):  # no position yet during a rebalance
        return None
    return total if known else None


def stuck_partitions(consumer: KafkaConsumer) -> list[TopicPartition]:
    """Assigned partitions the sink has not paused that kafka-python will not fetch from (no valid
    position, or a position awaiting leader-epoch validation). After the embedded broker restarts,
    kafka-python can keep partitions in that state indefinitely (seen in the broker-restart test, with
    the sink thread looping in `maybe_validate_positions`); the sink then reconnects (`Sink.run`).
    Reads kafka-python's subscription state, which has no public accessor; best effort."""
    try:
        paused = consumer.paused()
        states = consumer._subscription.assignment
        return [tp for tp, st in states.items() if tp not in paused and not st.is_fetchable()]
    except (AttributeError, KafkaError):
        return []
