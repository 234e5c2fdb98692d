"""Where the sink resumes a partition: ClickHouse is the source of truth for what is stored.

Every stored row carries `kafka_partition`/`kafka_offset`, and one sink batch is one part per table
(the tables are partitioned by insert time), so the rows of a message are in a table entirely or not at
all. On assignment the sink starts at the Kafka-committed offset (never ahead of ClickHouse, since it
commits after the insert) or at `max(kafka_offset) + 1` when nothing is committed, and skips, per table,
the messages ClickHouse already holds from there on: a crash between insert and commit replays nothing
twice. Offsets are only compared within the current incarnation of a topic (`sink_epochs`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from streams.storage.base import Store

DEADLETTERS = "deadletters"


@dataclass
class Resume:
    """`start=None` means: from the beginning of the partition. `skip[table]` holds stored offsets."""

    start: int | None
    skip: dict[str, set[int]] = field(default_factory=dict)
    until: int = 0  # offsets below this may be in `skip`

    def tables_having(self, offset: int) -> frozenset[str]:
        """Tables that already store message `offset`.

        >>> Resume(5, {"events": {5, 6}, "deadletters": {6}}, 7).tables_having(6) == {"events", "deadletters"}
        True
        """
        if offset >= self.until:
            return frozenset()
        return frozenset(t for t, offsets in self.skip.items() if offset in offsets)


def epoch_since(store: Store, topic: str, topic_id: str) -> datetime:
    """When the current incarnation of `topic` was first seen; records a new one if the id changed."""
    rows = store.query(
        "SELECT argMax(topic_id, since) AS current_id, max(since) AS started, count() AS n FROM sink_epochs"
        " WHERE topic = {t:String}",
        {"t": topic},
    )
    if rows and rows[0]["n"] and rows[0]["current_id"] == topic_id:
        return _as_utc(rows[0]["started"])
    # A new epoch starts on the next whole second and the sink waits for it, so no row of the old epoch
    # shares its second: progress queries then compare whole seconds, which every server version can.
    since = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(max(0.0, (since - datetime.now(UTC)).total_seconds()))
    store.insert("sink_epochs", {"topic": [topic], "topic_id": [topic_id], "since": [since]})
    return since


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _where(table: str, topic: str) -> tuple[str, dict[str, object]]:
    if table == DEADLETTERS:
        return " AND kafka_topic = {topic:String}", {"topic": topic}
    return "", {}


def stored_next(store: Store, tables: list[str], topic: str, partition: int, since: datetime) -> int | None:
    """1 + the highest offset of this partition stored in any of `tables` in this epoch, or None."""
    best: int | None = None
    for table in tables:
        extra, params = _where(table, topic)
        rows = store.query(
            f"SELECT max(kafka_offset) AS m, count() AS n FROM {table} WHERE kafka_partition = {{p:Int32}}"
            f" AND inserted_at >= {{since:DateTime('UTC')}}{extra}",
            {"p": partition, "since": since, **params},
        )
        if rows and rows[0]["n"]:
            best = max(best or 0, int(rows[0]["m"]) + 1)
    return best


def stored_offsets(
    store: Store, table: str, topic: str, partition: int, since: datetime, lo: int, hi: int
) -> set[int]:
    """Offsets in [lo, hi) of this partition that `table` already holds (this epoch)."""
    extra, params = _where(table, topic)
    rows = store.query(
        f"SELECT DISTINCT kafka_offset AS o FROM {table} WHERE kafka_partition = {{p:Int32}}"
        f" AND kafka_offset >= {{lo:Int64}} AND kafka_offset < {{hi:Int64}}"
        f" AND inserted_at >= {{since:DateTime('UTC')}}{extra}",
        {"p": partition, "lo": lo, "hi": hi, "since": since, **params},
    )
    return {int(r["o"]) for r in rows}


def resume(
    store: Store, table: str, topic: str, partition: int, since: datetime, committed: int | None
) -> Resume:
    """Where to start reading `topic`/`partition` and which messages to skip per table."""
    tables = [table] if table == DEADLETTERS else [table, DEADLETTERS]
    stored = stored_next(store, tables, topic, partition, since)
    if stored is None:
        return Resume(start=None)  # nothing stored in this epoch: from the beginning
    start = stored if committed is None else min(committed, stored)
    if start >= stored:
        return Resume(start=start)
    skip = {t: stored_offsets(store, t, topic, partition, since, start, stored) for t in tables}
    return Resume(start=start, skip=skip, until=stored)


def recent_ids(
    store: Store, partition: int, since: datetime, window_s: float, limit: int
) -> tuple[list[str], list[str]]:
    """`(ids, sources)` of the events this partition stored in its last `window_s` seconds of inserts (this
    epoch): what the sink's duplicate memory held before a restart or rebalance. Measured from the
    partition's last insert, not from now, so a sink that was down for a while still knows the ids a
    client's retry may repeat."""
    rows = store.query(
        "SELECT max(inserted_at) AS last, count() AS n FROM events WHERE kafka_partition = {p:Int32}"
        " AND inserted_at >= {since:DateTime('UTC')}",
        {"p": partition, "since": since},
    )
    if not rows or not rows[0]["n"]:
        return [], []
    lo = max(since, _as_utc(rows[0]["last"]).replace(microsecond=0) - timedelta(seconds=window_s))
    rows = store.query(
        "SELECT id, source FROM events WHERE kafka_partition = {p:Int32} AND inserted_at >= {lo:DateTime('UTC')}"
        f" ORDER BY inserted_at DESC LIMIT {int(limit)}",
        {"p": partition, "lo": lo},
    )
    return [r["id"] for r in rows], [r["source"] for r in rows]
