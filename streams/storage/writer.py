"""`BatchWriter`: the sink's inserts on a thread of their own, one batch in flight.

While ClickHouse stores one batch, the sink thread polls Kafka and decodes the next: chdb and
clickhouse-driver release the GIL while they work, so decoding and inserting overlap on two cores
(`bench storage`, 1 M rows: ~100k rows/s one after the other, ~140k overlapped; BENCHMARKS.md).
One batch at a time keeps every guarantee of the sequential sink: the sink thread, which owns the Kafka
consumer, commits a batch's offsets only after its result says ClickHouse has it; a failed batch comes
back whole (minus the tables that did land) and the messages read since are put behind it; a rebalance
waits for the batch in flight. Memory stays bounded: at most the batch in flight plus one being gathered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from streams.storage.base import Store
from streams.storage.batch import PendingBatch
from streams.storage.rows import Decoded

#: (table, rows, seconds) of each insert that landed.
Inserted = tuple[str, int, float]


@dataclass
class Written:
    """What became of one batch: the inserts that landed, and the error that stopped the rest (if any)."""

    batch: PendingBatch
    inserted: list[Inserted] = field(default_factory=list)
    discarded: int = 0  # messages dropped because ClickHouse already held them
    error: BaseException | None = None
    table: str | None = None  # the table whose insert failed


def prepare_message(store: Store, table: str, decoded: Decoded) -> None:
    """Turn one message's rows into the form the store inserts (chdb: an Arrow table) as soon as they are
    decoded, on the sink thread: converted while they are hot in the cache, the message's Python objects
    are freed at once instead of piling up until the flush (the garbage collector kept walking them), and
    the writer thread only concatenates. Rows that cannot be prepared (Arrow cannot hold them, or the
    table's types could not be read) stay as they are; their batch's insert then fails or succeeds on the
    writer thread, where failures are reported, retried and never kill the sink."""
    rows = decoded.count
    if not rows:
        return
    try:
        prepared = store.prepare(table, decoded.as_columns())
    except Exception:  # noqa: BLE001 - on the sink thread, which must not die; the insert path reports it
        return
    # rows from the per-event path (a message with a reject) become columns too: keep their count
    decoded.columns, decoded.column_rows, decoded.rows = prepared, rows, []


def write_batch(store: Store, batch: PendingBatch, *, epoch: str = "",
                discard_stored: Callable[[PendingBatch, str], int] | None = None) -> Written:
    """Insert each table of `batch` (dead letters last: a message's rows and its rejects are separate
    inserts, both replay-exact). A table is emptied in the batch once it landed, so a retry of the same
    batch inserts only what is missing. `discard_stored(batch, table)` first drops messages ClickHouse
    already holds (after a failure, when an insert may have landed without an answer)."""
    out, now = Written(batch), datetime.now(UTC)
    for table in sorted(batch.tables, key=lambda t: t == "deadletters"):
        try:
            if discard_stored is not None:
                out.discarded += discard_stored(batch, table)
            if not batch.tables[table]:
                continue
            started = time.monotonic()
            token = batch.dedup_token(table, epoch=epoch)
            n = store.insert(table, batch.columns(table, now), dedup_token=token)
            out.inserted.append((table, n, time.monotonic() - started))
            batch.tables[table] = []
        except Exception as exc:  # noqa: BLE001 - handed to the sink thread, which logs and retries
            out.error, out.table = exc, table
            break
    return out


class BatchWriter:
    """One background thread, at most one batch in flight."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None  # started by the first batch, again after `close`
        self._future: Future[Written] | None = None
        self._rows = 0

    @property
    def busy(self) -> bool:
        return self._future is not None

    @property
    def rows(self) -> int:
        """Rows of the batch in flight (they count against the sink's memory bound)."""
        return self._rows if self._future is not None else 0

    def submit(self, batch: PendingBatch, write: Callable[[PendingBatch], Written]) -> None:
        if self._future is not None:
            raise RuntimeError("a batch is already in flight: settle it first")
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="citybrain-sink-insert")
        self._rows = batch.rows
        self._future = self._pool.submit(write, batch)

    def result(self, *, wait: bool) -> Written | None:
        """The batch in flight once it is done (then the writer is free), else None."""
        if self._future is None or not (wait or self._future.done()):
            return None
        future, self._future = self._future, None
        return future.result()

    def close(self) -> None:
        """Wait for the batch in flight, if any, and stop the thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
