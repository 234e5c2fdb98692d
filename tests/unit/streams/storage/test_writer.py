"""The sink's writer: one batch in flight, tables in order, a failure handed back with what did land,
and messages turned into the store's insert form (Arrow) as they are decoded."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
import pytest

from ingest.topics import EVENTS_TOPIC
from streams.storage.arrow import to_arrow
from streams.storage.batch import PendingBatch
from streams.storage.rows import decode_event_message
from streams.storage.writer import BatchWriter, Written, prepare_message, write_batch
from tests.factories import event_dict

#: The `events` columns a message gives, typed as the migrated table types them.
TYPES = {
    "id": "String", "source": "LowCardinality(String)", "type": "LowCardinality(String)",
    "time": "DateTime64(3, 'UTC')", "device_id": "String", "lat": "Nullable(Float64)",
    "lon": "Nullable(Float64)", "cell": "LowCardinality(String)", "category": "LowCardinality(String)",
    "measurements": "Map(LowCardinality(String), Float64)", "attributes": "String",
    "flags": "Array(LowCardinality(String))", "schema_version": "UInt8",
    "received_at": "Nullable(DateTime64(3, 'UTC'))", "kafka_partition": "Int32", "kafka_offset": "Int64",
    "inserted_at": "DateTime64(3, 'UTC')",
}


class ArrowStore:
    """Prepares as the embedded store does; records inserts; fails the tables it is told to."""

    def __init__(self, failing: set[str] = frozenset()) -> None:
        self.failing, self.inserts = set(failing), []

    def prepare(self, table: str, columns: Mapping[str, Any]) -> pa.Table:
        return to_arrow(columns, TYPES)

    def insert(self, table: str, columns: Any, *, dedup_token: str | None = None) -> int:
        if table in self.failing:
            raise ConnectionError(f"{table}: ClickHouse went away")
        table_ = to_arrow(columns, TYPES) if table == "events" else None
        self.inserts.append((table, dedup_token, table_))
        return len(next(iter(columns.values())))


def _message(n: int, **overrides: Any) -> bytes:
    return orjson.dumps([event_dict(**overrides) for _ in range(n)])


def _batch(store: ArrowStore, messages: list[bytes]) -> PendingBatch:
    batch = PendingBatch()
    for offset, value in enumerate(messages):
        decoded = decode_event_message(value)
        prepare_message(store, "events", decoded)
        batch.add("events", EVENTS_TOPIC, 0, offset, 0, decoded)
    return batch


def test_prepared_messages_are_arrow_and_insert_the_same_rows_as_python_ones() -> None:
    store = ArrowStore()
    messages = [_message(3), _message(2, flags=["calibrated"])]
    prepared = _batch(store, messages)
    assert all(isinstance(c.columns, pa.Table) for c in prepared.tables["events"])
    plain = PendingBatch()
    for offset, value in enumerate(messages):
        plain.add("events", EVENTS_TOPIC, 0, offset, 0, decode_event_message(value))
    now = datetime(2026, 11, 21, tzinfo=UTC)
    assert to_arrow(prepared.columns("events", now), TYPES).equals(to_arrow(plain.columns("events", now), TYPES))
    assert prepared.ids("events", {(EVENTS_TOPIC, 0)}) == plain.ids("events", {(EVENTS_TOPIC, 0)})


def test_messages_with_rejects_keep_their_good_rows_when_prepared() -> None:
    """The per-event path (a message with a bad event) names the columns in another order than the fast path,
    and its rows must survive the conversion: every good row is inserted, the bad one is dead-lettered."""
    store = ArrowStore()
    batch = _batch(store, [_message(2), orjson.dumps([event_dict(attributes={"lane": 2}), {"id": "bad"}]),
                           _message(3)])
    assert [c.rows for c in batch.tables["events"]] == [2, 1, 3]
    assert all(isinstance(c.columns, pa.Table) for c in batch.tables["events"])
    written = write_batch(store, batch)
    assert written.error is None
    assert [(t, n) for t, n, _ in written.inserted] == [("events", 6), ("deadletters", 1)]
    table = store.inserts[0][2]
    assert table.column("kafka_offset").to_pylist() == [0, 0, 1, 2, 2, 2]
    assert table.column("attributes").to_pylist()[2] == '{"lane":2}'


def test_a_batch_mixing_prepared_and_python_messages_still_inserts_every_row() -> None:
    store = ArrowStore()
    batch = _batch(store, [_message(2)])
    batch.add("events", EVENTS_TOPIC, 0, 1, 0, decode_event_message(_message(3)))  # left as Python columns
    table = to_arrow(batch.columns("events", datetime.now(UTC)), TYPES)
    assert table.num_rows == 5 and table.column("kafka_offset").to_pylist() == [0, 0, 1, 1, 1]
    assert table.column("measurements").to_pylist()[0] == list(event_dict()["measurements"].items())


@pytest.mark.parametrize("error", [pa.ArrowInvalid("value out of range"), ConnectionError("types unreadable")])
def test_a_message_that_cannot_be_prepared_stays_python_and_the_sink_thread_lives(error: Exception) -> None:
    class Refusing(ArrowStore):
        def prepare(self, table: str, columns: Mapping[str, Any]) -> pa.Table:
            raise error

    decoded = decode_event_message(_message(2))
    prepare_message(Refusing(), "events", decoded)
    assert isinstance(decoded.columns, dict) and decoded.count == 2


def test_tables_land_in_order_and_a_failure_keeps_only_what_did_not() -> None:
    store = ArrowStore(failing={"deadletters"})
    batch = _batch(store, [_message(2), orjson.dumps([event_dict(), {"broken": True}])])
    written = write_batch(store, batch, epoch="e1")
    assert [t for t, _, _ in written.inserted] == ["events"] and isinstance(written.error, ConnectionError)
    assert written.table == "deadletters"
    assert batch.tables["events"] == [] and len(batch.tables["deadletters"]) == 1  # the retry sends only these
    store.failing.clear()
    again = write_batch(store, batch, epoch="e1")
    assert again.error is None and [t for t, _, _ in again.inserted] == ["deadletters"]
    assert [t for t, _, _ in store.inserts] == ["events", "deadletters"]


def test_discarded_messages_are_counted_and_not_inserted() -> None:
    store = ArrowStore()
    batch = _batch(store, [_message(2), _message(2)])
    stored = {(EVENTS_TOPIC, 0, 0)}
    written = write_batch(store, batch, discard_stored=lambda b, table: b.discard(table, stored))
    assert written.discarded == 1 and written.inserted[0][1] == 2


def test_one_batch_in_flight_and_its_result_once() -> None:
    writer, release = BatchWriter(), threading.Event()

    def slow(batch: PendingBatch) -> Written:
        release.wait(5)
        return Written(batch)

    batch = PendingBatch()
    writer.submit(batch, slow)
    assert writer.busy and writer.result(wait=False) is None
    with pytest.raises(RuntimeError):
        writer.submit(PendingBatch(), slow)
    release.set()
    done = writer.result(wait=True)
    assert done is not None and done.batch is batch and not writer.busy
    assert writer.result(wait=True) is None
    writer.close()
    writer.submit(PendingBatch(), slow)  # a closed writer starts again (a sink's `run` after `stop`)
    assert writer.result(wait=True) is not None
    writer.close()
