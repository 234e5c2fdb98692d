"""The storage sink: Kafka topics -> ClickHouse tables, effectively exactly once.

Reads events, dead letters, anomalies, incidents, alerts, devices and feedback as consumer group
`citybrain-sink` (kafka-python), inserts batches bounded by rows and age, and commits offsets only after
ClickHouse acknowledged. Inserts run on the `BatchWriter`'s thread, one batch in flight, while this
thread polls and decodes the next (`writer.py`). Replays are exact because ClickHouse, not Kafka, is the
record of progress (`progress.py`). When ClickHouse fails, the sink pauses its partitions (Kafka keeps the
data, memory stays bounded), retries with backoff, and re-checks what landed before retrying. Nothing is
ever dropped.
Run it in a thread (`Sink(...).start()`, as the embedded API does) or alone: `python -m streams.storage.sink`.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from ingest.errors import CityBrainError
from ingest.settings import get_kafka_settings
from streams.settings import SinkSettings, get_sink_settings
from streams.storage.base import Store, StoreUnavailable
from streams.storage.batch import PendingBatch, flush_rows
from streams.storage.consumer import RebalanceHooks, lag, sink_consumer, stuck_partitions, topic_id
from streams.storage.metrics import DEAD, SinkStats
from streams.storage.progress import Resume, epoch_since, recent_ids, resume, stored_offsets
from streams.storage.recent_ids import RecentIds, drop_repeats
from streams.storage.rows import DECODERS
from streams.storage.writer import BatchWriter, Written, prepare_message, write_batch

log = logging.getLogger(__name__)
EVENTS = "events"


class Sink:
    """Background consumer that stores every platform topic. `commit_offsets=False` only for crash tests."""

    def __init__(
        self, store: Store, bootstrap: str, *, topics: list[str] | None = None,
        settings: SinkSettings | None = None, group_id: str | None = None, commit_offsets: bool = True,
    ) -> None:
        self.store, self.bootstrap = store, bootstrap
        self.settings = settings or get_sink_settings()
        self.topics = list(topics or DECODERS)
        self.group_id = group_id or self.settings.group_id
        self.commit_offsets = commit_offsets
        self.counters = SinkStats()
        self.assigned = threading.Event()  # set once partitions are assigned and positioned
        self._batch = PendingBatch()
        self._resume: dict[tuple[str, int], Resume] = {}
        self._epochs: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._behind = False  # the last poll filled its budget: more is waiting in Kafka
        self._retry_at = 0.0
        self._reconcile = False
        self._unpositioned: set[TopicPartition] = set()  # assigned, paused until ClickHouse says where
        self._recent = RecentIds(self.settings.dedup_window_s, self.settings.dedup_max_ids)
        self._writer = BatchWriter()
        self._consumer: KafkaConsumer | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Sink:
        self._thread = threading.Thread(target=self.run, name="citybrain-sink", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 30.0, *, commit: bool = True) -> None:
        """Flush and commit, then leave the group. `commit=False` stops as if killed after the insert."""
        self.commit_offsets = self.commit_offsets and commit
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def stats(self) -> dict[str, Any]:
        return self.counters.snapshot() | {"assigned": sorted(f"{t}[{p}]" for t, p in self._resume)}

    def run(self) -> None:
        while not self._stop.is_set():
            if stuck := self._consume():
                log.warning("sink: partitions %s unfetchable for %.0f s; reconnecting to Kafka",
                            stuck, self.settings.stuck_reconnect_s)
                self.counters.failed("reconnect", f"unfetchable partitions {stuck}")
        self._writer.close()

    def _consume(self) -> list[str]:
        """One consumer's life; returns the partitions it got stuck on (then it must be replaced)."""
        consumer = self._consumer = sink_consumer(self.bootstrap, self.group_id)
        consumer.subscribe(self.topics, listener=RebalanceHooks(
            on_assigned=lambda tps: self._assigned(consumer, tps), on_revoked=self._revoked))
        last_lag, stuck_since = 0.0, None
        try:
            while not self._stop.is_set():
                self._settle(consumer, wait=False)
                if self._unpositioned:
                    self._position_partitions(consumer)
                if self._failures and not self._writer.busy and time.monotonic() >= self._retry_at:
                    self._flush(consumer)
                budget = self._budget()
                records = consumer.poll(timeout_ms=100 if not self._failures else 250, max_records=budget)
                polled = 0
                for tp, messages in records.items():
                    polled += len(messages)
                    for m in messages:
                        self._add(tp.topic, tp.partition, m.offset, m.timestamp, m.value, m.headers)
                self._behind = polled >= budget
                if not self._failures and self._batch.due(self._flush_rows(), self.settings.batch_age_s):
                    self._flush(consumer)
                if time.monotonic() - last_lag > 5.0:
                    last_lag = time.monotonic()
                    self.counters.set_lag(lag(consumer))
                    stuck = stuck_partitions(consumer) if not polled else []
                    stuck_since = (stuck_since or last_lag) if stuck else None
                    if stuck_since is not None and last_lag - stuck_since >= self.settings.stuck_reconnect_s:
                        self._drop_pending()
                        return sorted(f"{tp.topic}[{tp.partition}]" for tp in stuck)
            self._settle(consumer, wait=True)
            if self._batch.messages and not self._failures:
                self._flush(consumer)
                self._settle(consumer, wait=True)
        finally:
            self._writer.result(wait=True)  # never leave an insert running behind a closed consumer
            consumer.close(autocommit=False)
            self._consumer = None
        return []

    def _drop_pending(self) -> None:
        """Give up every partition as a revoke would: the next consumer re-reads what is not stored, exactly."""
        self._revoked([TopicPartition(t, p) for t, p in self._resume] + list(self._unpositioned))

    # -- batching --------------------------------------------------------------------------------
    def _budget(self) -> int:
        """Messages one poll may add so the batch stays under `max_buffered_rows` (a message may pack
        `max_events_per_message` events): memory is bounded by settings, not by how far behind we are."""
        per_message = max(1, get_kafka_settings().max_events_per_message)
        room = self.settings.max_buffered_rows - self._batch.rows - self._writer.rows
        return max(1, min(500, room // per_message))

    def _flush_rows(self) -> int:
        s = self.settings
        return flush_rows(s.batch_rows, s.max_buffered_rows, behind=self._behind)

    def _add(self, topic: str, partition: int, offset: int, ts: int, value: bytes | None, headers: Any) -> None:
        table, decode = DECODERS[topic]
        plan = self._resume.get((topic, partition))
        have = plan.tables_having(offset) if plan else frozenset()
        decoded = decode(value, headers or [], ts)
        if table == EVENTS and table not in have and decoded.count:
            self.counters.repeated(drop_repeats(decoded, self._recent))
            prepare_message(self.store, table, decoded)
        self._batch.add(table, topic, partition, offset, ts, decoded, have)
        self.counters.messages += 1
        self.counters.skipped += bool(have)
        if decoded.rejects and "deadletters" not in have:
            self.counters.deadletters += len(decoded.rejects)
            DEAD.inc(len(decoded.rejects))

    def _flush(self, consumer: KafkaConsumer) -> None:
        """Hand the pending batch to the writer, once the batch before it is settled."""
        if not self._settle(consumer, wait=True):  # it failed: it is pending again, this batch behind it
            return
        batch, self._batch = self._batch, PendingBatch()
        epoch = repr(sorted(self._epochs.items()))
        # after a failure an insert may have landed without an answer: the writer asks ClickHouse first
        discard = self._discard_stored if self._reconcile else None
        self._writer.submit(batch, lambda b: write_batch(self.store, b, epoch=epoch, discard_stored=discard))

    def _settle(self, consumer: KafkaConsumer, *, wait: bool) -> bool:
        """Take in the writer's result: commit what landed, or take a failed batch back and back off.
        False when the batch in flight failed."""
        written = self._writer.result(wait=wait)
        if written is None:
            return True
        for table, rows, seconds in written.inserted:
            self.counters.inserted(table, rows, seconds)
        self.counters.skipped += written.discarded
        if written.error is not None:
            self._failed(consumer, written)
            return False
        batch = written.batch
        if self.commit_offsets and batch.offsets:
            offsets = {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in batch.offsets.items()}
            try:
                consumer.commit(offsets)
            except KafkaError as exc:  # rows are stored; a replay of them is skipped via ClickHouse
                self.counters.failed("commit", str(exc))
        self._reconcile, self._failures = False, 0
        self.counters.batches += 1
        if self.counters.paused:
            consumer.resume(*(consumer.paused() - self._unpositioned))
            self.counters.set_paused(False)
        return True

    def _failed(self, consumer: KafkaConsumer, written: Written) -> None:
        exc = written.error
        kind = ("unavailable" if isinstance(exc, StoreUnavailable)
                else "rejected" if isinstance(exc, CityBrainError | OSError) else "error")
        if kind == "error":
            log.error("sink insert into %s hit a bug; the batch is kept and retried", written.table, exc_info=exc)
        else:
            log.warning("sink insert into %s failed (%s), retrying: %s", written.table, kind, exc)
        self.counters.failed(kind, str(exc))
        written.batch.extend(self._batch)  # what was read meanwhile goes behind it, in Kafka's order
        self._batch = written.batch
        self._backoff(consumer)

    def _discard_stored(self, batch: PendingBatch, table: str) -> int:
        """Drop messages ClickHouse already holds in `table` (runs on the writer's thread)."""
        stored = {
            (topic, p, o)
            for (topic, p), (lo, hi) in batch.spans(table).items()
            for o in stored_offsets(self.store, table, topic, p, self._epochs[topic], lo, hi + 1)
        }
        return batch.discard(table, stored) if stored else 0

    def _backoff(self, consumer: KafkaConsumer) -> None:
        """Stop fetching (Kafka holds the data) and schedule the next attempt."""
        self._reconcile = True
        delay = min(self.settings.retry_backoff_max_s, self.settings.retry_backoff_s * 2**self._failures)
        self._failures += 1
        self._retry_at = time.monotonic() + delay
        if consumer.assignment():
            consumer.pause(*consumer.assignment())
        self.counters.set_paused(True)

    # -- rebalancing -----------------------------------------------------------------------------
    def _position_partitions(self, consumer: KafkaConsumer) -> None:
        """Seek new partitions to where ClickHouse says they end, then let them fetch.

        Runs in the poll loop, not in the rebalance callback: kafka-python's callbacks block heartbeats,
        and ClickHouse may be down for minutes. Until then the partitions stay paused.
        """
        try:
            checked: set[str] = set()  # per rebalance: a restarted memory broker is a new topic incarnation
            for tp in sorted(self._unpositioned):
                if tp.topic not in checked:
                    self._epochs[tp.topic] = epoch_since(self.store, tp.topic, topic_id(consumer, tp.topic))
                    checked.add(tp.topic)
                committed = consumer.committed(tp)
                table = DECODERS[tp.topic][0]
                plan = resume(self.store, table, tp.topic, tp.partition, self._epochs[tp.topic], committed)
                if table == EVENTS and plan.start is not None:  # nothing stored in this epoch: nothing to refill
                    self._recent.remember(*recent_ids(self.store, tp.partition, self._epochs[tp.topic],
                                                      self.settings.dedup_window_s, self.settings.dedup_max_ids))
                self._resume[(tp.topic, tp.partition)] = plan
                if plan.start is None:
                    consumer.seek_to_beginning(tp)
                else:
                    consumer.seek(tp, plan.start)
                self._unpositioned.discard(tp)
                if not self._failures:
                    consumer.resume(tp)
        except (CityBrainError, KafkaError) as exc:
            self.counters.failed("unavailable", f"positioning partitions: {exc}")
            self._stop.wait(self.settings.retry_backoff_s)
            return
        self.assigned.set()

    def _assigned(self, consumer: KafkaConsumer, assigned: list[TopicPartition]) -> None:
        consumer.pause(*assigned)
        self._unpositioned |= set(assigned)

    def _revoked(self, revoked: list[TopicPartition]) -> None:
        """Forget uncommitted rows of lost partitions: the next owner re-reads them (exactly, see progress).
        The batch in flight lands (or comes back) first, so the next owner's look at ClickHouse is final."""
        if self._consumer is not None:
            self._settle(self._consumer, wait=True)
        gone = {(tp.topic, tp.partition) for tp in revoked}
        self._recent.forget(self._batch.ids(EVENTS, gone))
        self._batch.drop_partitions(gone)
        self._unpositioned -= set(revoked)
        for key in gone:
            self._resume.pop(key, None)


def main() -> int:
    """`python -m streams.storage.sink`: the sink as its own process (server mode); stops on SIGINT/SIGTERM."""
    import signal

    from streams.storage.base import open_store
    from streams.storage.migrate import migrate

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    bootstrap = get_kafka_settings().bootstrap
    if not bootstrap:
        log.error("set CITYBRAIN_KAFKA_BOOTSTRAP to the Kafka the platform uses")
        return 2
    store = open_store()
    migrate(store)
    sink = Sink(store, bootstrap)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sink.stop())
    log.info("sink: %s -> ClickHouse (%s, database %s)", bootstrap, store.backend, store.database)
    sink.run()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
