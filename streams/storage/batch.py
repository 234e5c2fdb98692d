"""The sink's pending batch: per table, one columnar chunk per Kafka message, with where it came from.

A batch is flushed when it holds `flush_rows` rows (`batch_rows`, more while the sink is behind) or its
oldest message is `batch_age_s` old. A message
is the unit of everything here: its rows enter and leave together (one insert per table, never split),
and a message is dropped per table when ClickHouse already holds it there, which is what makes a replay
after a crash exact.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from streams.storage.arrow import columns_of
from streams.storage.rows import DECODERS, Decoded, Row, sink_deadletter

TopicPartition = tuple[str, int]
#: ClickHouse's guidance is 10k-100k rows per insert; fewer, larger parts also mean fewer merges later.
CATCH_UP_ROWS = 100_000
Position = tuple[str, int, int]


@dataclass(frozen=True)
class Chunk:
    """The rows one message gives one table, column-wise."""

    topic: str
    partition: int
    offset: int
    rows: int
    columns: dict[str, Any]

    @property
    def position(self) -> Position:
        return (self.topic, self.partition, self.offset)


def _transpose(rows: list[Row]) -> dict[str, list[Any]]:
    return {name: [r[name] for r in rows] for name in rows[0]}


def _values(column: Any) -> list[Any]:
    return column.to_pylist() if isinstance(column, pa.ChunkedArray | pa.Array) else column


def _concat_arrow(tables: list[pa.Table]) -> pa.Table | None:
    """One table from per-message tables; the fast and the per-event path name the same columns in another
    order. None when they disagree beyond that: then they are joined as Python columns."""
    names = tables[0].column_names
    try:
        return pa.concat_tables([t if t.column_names == names else t.select(names) for t in tables])
    except (pa.ArrowInvalid, KeyError):
        return None


def _concat(parts: list[Any]) -> Any:
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate(parts)
    return list(itertools.chain.from_iterable(parts))


def flush_rows(batch_rows: int, max_buffered_rows: int, *, behind: bool) -> int:
    """Rows that make a batch due. While the consumer is behind (its last poll came back full) each insert
    costs a part per table plus merges later, so the sink gathers up to `CATCH_UP_ROWS` per insert
    (measured: events alone 270k -> 420k rows/s from 10k to 50k rows; with the rollup views, 50k -> 100k
    saves ~1 µs of CPU per event in merges); when caught up it keeps `batch_rows`, and the age bound keeps
    latency low either way. At most half the memory bound: the writer may hold one batch while the next
    one is gathered.

    >>> flush_rows(10_000, 200_000, behind=False), flush_rows(10_000, 200_000, behind=True)
    (10000, 100000)
    >>> flush_rows(2_000, 20_000, behind=True)  # never more than half the memory bound
    10000
    """
    if not behind:
        return batch_rows
    return max(batch_rows, min(CATCH_UP_ROWS, max_buffered_rows // 2))


@dataclass
class PendingBatch:
    """Chunks waiting for ClickHouse; `offsets` holds the next offset to commit per (topic, partition)."""

    tables: dict[str, list[Chunk]] = field(default_factory=lambda: defaultdict(list))
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    rows: int = 0
    messages: int = 0
    opened: float | None = None

    def add(
        self, table: str, topic: str, partition: int, offset: int, timestamp_ms: int, decoded: Decoded,
        skip_tables: frozenset[str] = frozenset(),
    ) -> None:
        """Add one message: its rows for `table` and its rejects for `deadletters`, minus tables that have it."""
        if self.opened is None:
            self.opened = time.monotonic()
        if table not in skip_tables and decoded.count:
            self._chunk(table, Chunk(topic, partition, offset, decoded.count, decoded.as_columns()))
        if decoded.rejects and "deadletters" not in skip_tables:
            dead = [sink_deadletter(raw, why, topic, partition, offset, timestamp_ms) for raw, why in decoded.rejects]
            self._chunk("deadletters", Chunk(topic, partition, offset, len(dead), _transpose(dead)))
        self.offsets[(topic, partition)] = offset + 1
        self.messages += 1

    def _chunk(self, table: str, chunk: Chunk) -> None:
        self.tables[table].append(chunk)
        self.rows += chunk.rows

    def extend(self, later: PendingBatch) -> None:
        """Put the messages of `later` (read after this batch's) behind this batch's, as if added here.

        >>> a, b = PendingBatch(), PendingBatch()
        >>> a.add("feedback", "t", 0, 7, 0, Decoded(rows=[{"a": 1}]))
        >>> b.add("feedback", "t", 0, 8, 0, Decoded(rows=[{"a": 2}, {"a": 3}]))
        >>> a.extend(b)
        >>> a.rows, a.messages, a.offsets, [c.offset for c in a.tables["feedback"]]
        (3, 2, {('t', 0): 9}, [7, 8])
        """
        for table, chunks in later.tables.items():
            self.tables[table].extend(chunks)
        self.offsets.update(later.offsets)
        self.rows += later.rows
        self.messages += later.messages
        if self.opened is None:
            self.opened = later.opened

    def due(self, max_rows: int, max_age_s: float) -> bool:
        if self.opened is None:
            return False
        return self.rows >= max_rows or time.monotonic() - self.opened >= max_age_s

    def columns(self, table: str, inserted_at: datetime) -> dict[str, Any]:
        """One insert's worth of columns, with each row's Kafka position and the batch's insert time.
        Chunks the store already prepared (Arrow tables) are concatenated as Arrow."""
        chunks = self.tables[table]
        sizes = [c.rows for c in chunks]
        arrow = [isinstance(c.columns, pa.Table) for c in chunks]
        joined = _concat_arrow([c.columns for c in chunks]) if all(arrow) else None
        if joined is not None:
            cols = {name: joined.column(name) for name in joined.column_names}
        else:  # a message Arrow could not hold goes back to Python with the rest; its insert will say why
            parts = [columns_of(c.columns) if a else c.columns for c, a in zip(chunks, arrow, strict=True)]
            cols = {name: _concat([p[name] for p in parts]) for name in parts[0]}
        cols["kafka_partition"] = np.repeat(np.array([c.partition for c in chunks], dtype=np.int32), sizes)
        cols["kafka_offset"] = np.repeat(np.array([c.offset for c in chunks], dtype=np.int64), sizes)
        cols["inserted_at"] = np.full(sum(sizes), int(inserted_at.timestamp() * 1000), dtype=np.int64)
        return cols

    def dedup_token(self, table: str, epoch: str = "") -> str:
        """Same messages -> same token, so a retried insert is dropped by ClickHouse, not doubled.

        `epoch` names the topics' incarnations: a recreated topic reuses offsets, and its first batch
        must not look like a retry of the old topic's (ClickHouse would silently drop it).

        >>> a, b = PendingBatch(), PendingBatch()
        >>> for x in (a, b): x.add("feedback", "citybrain.feedback.v1", 0, 7, 0, Decoded(rows=[{"a": 1}]))
        >>> a.dedup_token("feedback") == b.dedup_token("feedback") != a.dedup_token("feedback", "new-topic")
        True
        """
        text = epoch + repr(sorted(c.position for c in self.tables[table]))
        return f"{table}-{hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:20]}"

    def spans(self, table: str) -> dict[TopicPartition, tuple[int, int]]:
        """Lowest and highest offset per (topic, partition) among a table's pending messages."""
        out: dict[TopicPartition, tuple[int, int]] = {}
        for c in self.tables[table]:
            lo, hi = out.get((c.topic, c.partition), (c.offset, c.offset))
            out[(c.topic, c.partition)] = (min(lo, c.offset), max(hi, c.offset))
        return out

    def discard(self, table: str, stored: set[Position]) -> int:
        """Drop messages ClickHouse already holds in `table`; returns how many were dropped."""
        kept = [c for c in self.tables[table] if c.position not in stored]
        dropped = len(self.tables[table]) - len(kept)
        self.rows -= sum(c.rows for c in self.tables[table]) - sum(c.rows for c in kept)
        self.tables[table] = kept
        return dropped

    def ids(self, table: str, partitions: set[TopicPartition]) -> list[str]:
        """Event ids pending in `table` from these partitions."""
        return [i for c in self.tables.get(table, []) if c.position[:2] in partitions
                for i in _values(c.columns["id"])]

    def drop_partitions(self, revoked: set[TopicPartition]) -> None:
        """Forget messages of partitions this sink no longer owns; the next owner re-reads them."""
        for table in list(self.tables):
            self.discard(table, {c.position for c in self.tables[table] if c.position[:2] in revoked})
        for tp in revoked:
            self.offsets.pop(tp, None)


#: table -> the topic its messages come from (dead letters say their own topic per chunk).
TABLE_TOPIC = {table: topic for topic, (table, _) in DECODERS.items()}
