"""The pending batch: messages in and out whole, replays skipped per table, positions per row."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from ingest.topics import EVENTS_TOPIC
from streams.storage.batch import PendingBatch
from streams.storage.rows import decode_event_message
from tests.factories import event_dict


def _message(n: int) -> bytes:
    return orjson.dumps([event_dict() for _ in range(n)])


def test_columns_carry_each_rows_kafka_position() -> None:
    batch = PendingBatch()
    batch.add("events", EVENTS_TOPIC, 2, 10, 0, decode_event_message(_message(3)))
    batch.add("events", EVENTS_TOPIC, 5, 40, 0, decode_event_message(_message(2)))
    cols = batch.columns("events", datetime(2026, 11, 21, tzinfo=UTC))
    assert cols["kafka_partition"].tolist() == [2, 2, 2, 5, 5]
    assert cols["kafka_offset"].tolist() == [10, 10, 10, 40, 40]
    assert len(cols["id"]) == 5 and batch.offsets == {(EVENTS_TOPIC, 2): 11, (EVENTS_TOPIC, 5): 41}


def test_rejects_go_to_deadletters_with_their_source() -> None:
    batch = PendingBatch()
    batch.add("events", EVENTS_TOPIC, 0, 7, 1_700_000_000_000, decode_event_message(b"not json"))
    dead = batch.columns("deadletters", datetime.now(UTC))
    assert dead["stage"] == ["sink"] and dead["source_topic"] == [EVENTS_TOPIC] and dead["source_offset"] == [7]
    assert dead["kafka_topic"] == [EVENTS_TOPIC] and "events" not in batch.tables


def test_skip_tables_drop_only_what_clickhouse_has() -> None:
    value = orjson.dumps([event_dict(), {"broken": True}])
    batch = PendingBatch()
    batch.add("events", EVENTS_TOPIC, 0, 1, 0, decode_event_message(value), frozenset({"events"}))
    assert "events" not in batch.tables and batch.tables["deadletters"][0].rows == 1
    assert batch.offsets[(EVENTS_TOPIC, 0)] == 2  # still committed past it


def test_discard_and_revoke_work_per_message() -> None:
    batch = PendingBatch()
    for offset in range(4):
        batch.add("events", EVENTS_TOPIC, offset % 2, offset, 0, decode_event_message(_message(10)))
    assert batch.discard("events", {(EVENTS_TOPIC, 0, 0), (EVENTS_TOPIC, 1, 3)}) == 2 and batch.rows == 20
    assert batch.spans("events") == {(EVENTS_TOPIC, 0): (2, 2), (EVENTS_TOPIC, 1): (1, 1)}
    batch.drop_partitions({(EVENTS_TOPIC, 1)})
    assert batch.rows == 10 and (EVENTS_TOPIC, 1) not in batch.offsets
    token = batch.dedup_token("events")
    assert token.startswith("events-") and token == batch.dedup_token("events")


def test_a_sink_that_is_behind_gathers_larger_inserts_within_its_memory_bound() -> None:
    from streams.storage.batch import flush_rows

    assert flush_rows(10_000, 200_000, behind=False) == 10_000
    assert flush_rows(10_000, 200_000, behind=True) == 100_000  # plus one in flight: the whole bound
    assert flush_rows(10_000, 20_000, behind=True) == 10_000  # never below the configured size
    assert flush_rows(500, 4_000, behind=True) == 2_000
