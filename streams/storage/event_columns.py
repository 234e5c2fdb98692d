"""Fast path for the hot topic: a packed CloudEvents batch straight into columns, checked column by column.

Per-event Python (a dict per row, a check per field) costs ~15 µs an event on this machine, which caps the
sink far below the stream. Nearly every message is clean, so the batch is first tried as columns: one
list comprehension per field, type checks with builtins, timestamps parsed by pandas in C. Any doubt
returns None and the caller takes the per-event path, which finds the culprit and dead-letters only it.
The rules are the same as `streams.decode.check_event` plus what the table needs (numbers, ISO times).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pandas as pd

from ingest.geo import cell_of

_REQUIRED = ("id", "source", "type", "time", "category")
_NUMBER = (float, int)


def _strings(items: list[dict[str, Any]], key: str) -> list[Any] | None:
    col = [e.get(key) for e in items]
    return col if all(type(x) is str and x for x in col) else None


def _numbers_or_none(col: list[Any]) -> bool:
    return all(x is None or type(x) in _NUMBER for x in col)


def _epoch_ms(col: list[str]) -> np.ndarray | None:
    try:
        parsed = pd.to_datetime(col, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return None
    return np.asarray(parsed.as_unit("ms").asi8, dtype=np.int64)  # pandas 3 infers the unit: pin it


def fast_event_columns(items: list[Any]) -> dict[str, Any] | None:
    """Columns for the `events` table, or None when any event needs a closer look.

    >>> cols = fast_event_columns([{"id": "e1", "source": "s", "type": "reading", "category": "air",
    ...     "time": "2026-11-21T10:00:00+08:00", "device_id": "d1", "measurements": {"pm25": 35}}])
    >>> cols["time"].tolist(), cols["measurements"], cols["attributes"]
    ([1795226400000], [{'pm25': 35}], ['{}'])
    >>> fast_event_columns([{"id": "e1", "source": "s", "type": "reading", "category": "air",
    ...     "time": "2026-11-21T10:00:00+08:00", "device_id": "d1", "measurements": {"pm25": "high"}}]) is None
    True
    """
    if not items or not all(type(e) is dict for e in items):
        return None
    cols: dict[str, Any] = {}
    for key in _REQUIRED:
        if (col := _strings(items, key)) is None:
            return None
        cols[key] = col
    devices = [e.get("device_id") for e in items]
    if not all(type(d) is str or (d is None and t == "report") for d, t in zip(devices, cols["type"], strict=True)):
        return None
    measurements = [e.get("measurements") or {} for e in items]
    if not all(type(m) is dict for m in measurements):
        return None
    if not all(type(v) in _NUMBER for m in measurements for v in m.values()):
        return None  # bool is not a number here, and neither is text
    lats, lons = [e.get("lat") for e in items], [e.get("lon") for e in items]
    cells = [e.get("cell") for e in items]
    flags = [e.get("flags") or [] for e in items]
    versions = [e.get("schema_version", 1) for e in items]
    received = [e.get("received_at") for e in items]
    if not (_numbers_or_none(lats) and _numbers_or_none(lons) and all(type(v) is int for v in versions)
            and all(c is None or type(c) is str for c in cells)
            and all(type(f) is list and all(type(x) is str for x in f) for f in flags)):
        return None
    if (times := _epoch_ms(cols["time"])) is None:
        return None
    if all(type(r) is str for r in received):  # ingest stamps every event it accepts
        if (received := _epoch_ms(received)) is None:
            return None
    elif not all(r is None for r in received):
        return None
    attributes = [e.get("attributes") for e in items]
    cols.update(
        time=times, device_id=[d or "" for d in devices], lat=lats, lon=lons,
        cell=[c or (cell_of(la, lo) if la is not None and lo is not None else "")
              for c, la, lo in zip(cells, lats, lons, strict=True)],
        measurements=measurements,  # ints are fine: Arrow casts to Float64 in C
        attributes=[orjson.dumps(a).decode() if a else "{}" for a in attributes],
        flags=flags, schema_version=versions, received_at=received,
    )
    return cols
