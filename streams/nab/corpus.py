"""Reading a NAB-format folder (`<category>/<file>.csv` with `timestamp,value`, plus `windows.json`).

Windows are matched to rows by time (first row at or after the start, last row at or before the end), so
label files whose timestamps carry microseconds (`2014-04-10 07:15:00.000000`) line up with the data.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson


@dataclass(frozen=True)
class DataFile:
    """One NAB series: `name` is `<category>/<file>.csv`, timestamps as datetime64[s]."""

    name: str
    timestamps: np.ndarray
    values: np.ndarray
    raw_timestamps: list[str]


def read_file(root: Path, name: str) -> DataFile:
    with (root / name).open(newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    raw = [r[0] for r in rows]
    ts = np.array([t.replace(" ", "T") for t in raw], dtype="datetime64[s]")
    return DataFile(name, ts, np.array([float(r[1]) for r in rows]), raw)


def iter_corpus(root: Path) -> Iterator[DataFile]:
    """Every CSV one level down (`<category>/<file>.csv`), in a stable order."""
    for path in sorted(root.glob("*/*.csv")):
        yield read_file(root, path.relative_to(root).as_posix())


def read_windows(path: Path) -> dict[str, list[tuple[str, str]]]:
    return {k: [(a, b) for a, b in v] for k, v in orjson.loads(path.read_bytes()).items()}


def window_rows(timestamps: np.ndarray, windows: Sequence[tuple[str, str]]) -> list[tuple[int, int]]:
    """Map label windows to inclusive row ranges.

    >>> ts = np.array(["2014-01-01T00:00", "2014-01-01T00:05", "2014-01-01T00:10"], dtype="datetime64[s]")
    >>> window_rows(ts, [("2014-01-01 00:05:00.000000", "2014-01-01 00:10:00.000000")])
    [(1, 2)]
    """
    out = []
    for start, end in windows:
        a = int(np.searchsorted(timestamps, np.datetime64(start.replace(" ", "T")), "left"))
        b = int(np.searchsorted(timestamps, np.datetime64(end.replace(" ", "T")), "right")) - 1
        if a <= b:
            out.append((a, b))
    return sorted(out)


def write_result(out_dir: Path, data: DataFile, scores: np.ndarray) -> Path:
    """`<out>/<category>/<file>.csv` with `timestamp,value,anomaly_score`, as NAB's results files."""
    path = out_dir / data.name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value", "anomaly_score"])
        for t, v, s in zip(data.raw_timestamps, data.values.tolist(), scores.tolist(), strict=True):
            w.writerow([t, repr(v), f"{s:.6f}"])
    return path


def labelled(windows: Mapping[str, list[tuple[str, str]]], data: DataFile) -> list[tuple[int, int]]:
    return window_rows(data.timestamps, windows.get(data.name, []))
