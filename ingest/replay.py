"""Replay recorded events into Kafka, keeping their original spacing divided by a speed factor.

The source is any iterable of raw JSON lines (`ndjson_lines` reads `.ndjson` / `.ndjson.gz` files; a
ClickHouse range reader can be swapped in), and every line goes through the same pipeline as live data:
validated, deduplicated, packed, bad lines dead-lettered with adapter `replay`. `speed=None` means as
fast as possible; `retime=True` shifts all times so the first event happens now (demos, detectors that
expect fresh data).
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ingest.pipeline import Candidate, IngestPipeline

ADAPTER = "replay"


def parse_speed(text: str) -> float | None:
    """`10x` / `10` -> 10.0; `max` -> None (no waiting).

    >>> parse_speed("10x"), parse_speed("0.5"), parse_speed("max")
    (10.0, 0.5, None)
    """
    if text.strip().lower() == "max":
        return None
    speed = float(text.strip().lower().removesuffix("x"))
    if speed <= 0:
        raise ValueError("speed must be positive (or 'max')")
    return speed


def ndjson_lines(path: str | Path) -> Iterator[bytes]:
    """Non-blank lines of an NDJSON file, gunzipped when the name ends in `.gz`."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for line in fh:
            if line.strip():
                yield line.rstrip(b"\r\n")


def _time_of(value: object) -> datetime | None:
    if isinstance(value, dict) and isinstance(value.get("time"), str):
        try:
            when = datetime.fromisoformat(value["time"])
        except ValueError:
            return None
        return when if when.tzinfo else None
    return None


@dataclass
class ReplayTotals:
    lines: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0


async def replay(
    lines: Iterable[bytes],
    pipeline: IngestPipeline,
    *,
    speed: float | None = None,
    retime: bool = False,
    batch: int = 1000,
    on_progress: Callable[[int], None] | None = None,
) -> ReplayTotals:
    """Publish every line; returns the totals (which match `ingest_stats()["replay"]` deltas)."""
    totals = ReplayTotals()
    pending: list[Candidate] = []
    first: datetime | None = None
    wall0 = time.monotonic()
    shift = None

    async def flush() -> None:
        if pending:
            out = await pipeline.ingest(ADAPTER, pending)
            totals.accepted += out.accepted
            totals.rejected += out.rejected
            totals.duplicates += out.duplicates
            if on_progress:
                on_progress(len(pending))
            pending.clear()

    for raw in lines:
        totals.lines += 1
        error = "line is not a JSON object"
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            value, error = None, f"invalid JSON: {str(exc).split(':')[0]}"
        when = _time_of(value)
        if speed is not None and when is not None:
            first = first or when
            wait = wall0 + (when - first).total_seconds() / speed - time.monotonic()
            if wait > 0.02:  # publish what is due, then wait for this event's moment
                await flush()
                await asyncio.sleep(wait)
        if isinstance(value, dict):
            if retime and when is not None:
                shift = shift if shift is not None else datetime.now(UTC) - when
                value["time"] = (when + shift).isoformat()
            pending.append(Candidate(raw, value=value))
        else:
            pending.append(Candidate(raw, error=error))
        if len(pending) >= batch:
            await flush()
    await flush()
    return totals
