"""The per-partition detection engine the faust agent calls: CityEvent dicts in, `Anomaly` records out.

All series (device_id, metric) of one partition live in a few `ResidualBank`s (one per detector list in
the category config), so a batch of thousands of events is scored with a handful of numpy calls: the
Python work per event is one pass of dict operations (the timestamp parsed once per distinct stamp); values,
keys and times are then gathered with C-level iterators and `np.repeat`. Order within a series is kept by
splitting a batch into rounds (the k-th reading of each series goes in round k). Categories configured
with `multivariate` also score each multi-metric event as one residual vector (`detectors.joint`).
Memory is bounded: at most `max_series` series per bank (about 0.8 kB each with the default 48
time-of-day slots), as many device vectors per multivariate group (0.3 kB each) and as many devices for
the offline detector; the least recently seen are evicted first. Operator feedback raises a series'
threshold (bounded by `MAX_THRESHOLD`) and, like all state, is part of `snapshot()`.

Offline checks run on the partition's own clock, not the wall clock: a worker catching up on a backlog
(after a restart, or CPU-starved) has not yet read what its devices said in the last minutes, and would
otherwise report all of them silent. The clock is the wall clock minus the partition's lag, measured at
each batch as `now` minus the newest event time in it, so a partition that goes quiet altogether still
ages and its devices are reported.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain, repeat

import numpy as np

from streams.detectors.bank import ResidualBank
from streams.detectors.config import FALLBACK, bank_params, load_config
from streams.detectors.joint import JointScorer, occurrence_rank
from streams.detectors.offline import OfflineBank
from streams.detectors.series import SeriesIndex
from streams.records import Anomaly
from streams.settings import get_detection_settings

MAX_THRESHOLD = 0.995
SKIP_TYPES = frozenset({"report", "heartbeat"})


def _epoch_and_local(stamp: str) -> tuple[float, float]:
    """Epoch seconds and local wall-clock seconds (what time-of-day slots mean) of an ISO-8601 stamp.

    >>> _epoch_and_local("2026-01-05T08:00:00+08:00")
    (1767571200.0, 1767600000.0)
    """
    dt = datetime.fromisoformat(stamp)
    epoch = dt.timestamp()
    offset = dt.utcoffset()
    return epoch, epoch + (offset.total_seconds() if offset else 0.0)


def feedback_threshold(base: float, marks: int) -> float:
    """Each false-positive mark halves the distance to `MAX_THRESHOLD`: sensitivity drops, never to zero.

    >>> [round(feedback_threshold(0.9, k), 4) for k in (0, 1, 2, 10)]
    [0.9, 0.9475, 0.9712, 0.9949]
    """
    return base + (max(MAX_THRESHOLD, base) - base) * (1.0 - 0.5**marks)


class _Group:
    """One bank and its series index (all categories sharing one detector list)."""

    def __init__(self, names: tuple[str, ...], max_series: int) -> None:
        params = bank_params(names)
        assert params is not None  # noqa: S101 - callers only build groups for value detectors
        self.bank = ResidualBank(params)
        self.index = SeriesIndex(max_series)
        self.threshold = np.zeros(0)
        self.name = "seasonal" if params.seasonal else ("residual" if params.residual else "flatline")
        self.joint = JointScorer(max_series) if "multivariate" in names else None


class SeriesDetectors:
    """All detector state of one Kafka partition; see the module docstring."""

    #: How far behind the stream the last batch was (seconds); a class default for older snapshots.
    lag_s = 0.0

    def __init__(
        self, config: Mapping[str, tuple[str, ...]] | None = None, threshold: float | None = None,
        max_series: int | None = None,
    ) -> None:
        settings = get_detection_settings()
        self.config = dict(config) if config is not None else load_config(settings.detectors)
        self.threshold = settings.alert_threshold if threshold is None else threshold
        self.max_series = max_series or settings.max_series
        self.groups: dict[tuple[str, ...], _Group] = {}
        self.feedback_marks: dict[tuple[str, str, str], int] = {}
        self.offline = OfflineBank()
        self.devices = SeriesIndex(self.max_series)
        self.device_meta: dict[str, Mapping] = {}
        self.offline_reported = np.zeros(0, dtype=bool)

    def _group(self, category: str) -> _Group | None:
        names = self.config.get(category, FALLBACK)
        if bank_params(names) is None:
            return None
        group = self.groups.get(names)
        if group is None:
            group = self.groups[names] = _Group(names, self.max_series)
        return group

    def process(self, events: Sequence[Mapping], now: float | None = None) -> list[Anomaly]:
        """Score then learn every measurement of `events` (in order); return the anomalies found.

        `now` (epoch seconds, when the batch is processed) sets the partition's lag for offline checks;
        without it the stream is taken as current."""
        times: dict[str, tuple[float, float]] = {}
        per_group: dict[int, tuple[_Group, list]] = {}
        by_category: dict[str, list | None] = {}
        seen: dict[str, float] = {}
        meta = self.device_meta
        # one pass, a few dict operations per event; the per-value work is done below with array ops
        for i, e in enumerate(events):
            dev = e.get("device_id")
            kind = e["type"]
            if dev is None or kind == "report":
                continue
            stamp = e["time"]
            t = times.get(stamp) or times.setdefault(stamp, _epoch_and_local(stamp))
            seen[dev] = t[0]
            meta[dev] = e  # the device's latest event: where and what it is, for offline anomalies
            if kind in SKIP_TYPES:
                continue
            cat = e["category"]
            rows = by_category[cat] if cat in by_category else by_category.setdefault(cat, self._rows(cat, per_group))
            if rows is not None:
                rows.append((i, dev, t[1], e["measurements"]))
        self._seen(seen)
        if now is not None and times:
            self.lag_s = max(0.0, now - max(t[0] for t in times.values()))
        out: list[Anomaly] = []
        for group, rows in per_group.values():
            out.extend(self._score(group, rows, events))
        return out

    def _rows(self, category: str, per_group: dict[int, tuple[_Group, list]]) -> list | None:
        group = self._group(category)
        if group is None:
            return None
        return per_group.setdefault(id(group), (group, []))[1]

    def _seen(self, seen: Mapping[str, float]) -> None:
        if not seen:
            return
        ids = self._device_ids(list(seen))
        self.offline.seen(ids, np.fromiter(seen.values(), float, len(seen)))
        self.offline_reported[ids] = False

    def _device_ids(self, devices: list[str]) -> np.ndarray:
        ids, evicted = self.devices.lookup(devices)
        if len(evicted):
            self.offline.reset(evicted)
        self.offline.ensure(self.devices.capacity)
        if len(self.offline_reported) < self.devices.capacity:
            self.offline_reported = np.resize(self.offline_reported, self.devices.capacity)
        return ids

    def _score(self, group: _Group, rows: list, events: Sequence[Mapping]) -> list[Anomaly]:
        # chain/zip/repeat iterate in C: no Python frame per value
        keys = list(chain.from_iterable(zip(repeat(dev), m) for _, dev, _, m in rows))
        x = np.fromiter(chain.from_iterable(r[3].values() for r in rows), float, len(keys))
        counts = np.fromiter((len(m) for *_, m in rows), np.int64, len(rows))
        owners = np.repeat(np.fromiter((r[0] for r in rows), np.int64, len(rows)), counts)
        t = np.repeat(np.fromiter((r[2] for r in rows), float, len(rows)), counts)
        ids, evicted = group.index.lookup(keys)
        group.bank.ensure(group.index.capacity)
        if len(group.threshold) < group.index.capacity:
            group.threshold = np.resize(group.threshold, group.index.capacity)
        if len(evicted):
            group.bank.reset(evicted)
        fresh = group.index.fresh
        if len(fresh):
            group.threshold[fresh] = [self._threshold(group.index.keys[s], group.name) for s in fresh]
        rank = occurrence_rank(ids)
        residual = np.zeros(len(keys))
        hits: list[Anomaly] = []
        for r in range(int(rank.max()) + 1 if len(rank) else 0):
            sel = np.flatnonzero(rank == r)
            sid = ids[sel]
            thr = group.threshold[sid]
            score, expected = group.bank.step(sid, x[sel], t[sel], thr)
            residual[sel] = group.bank.residual
            for j in np.flatnonzero(score >= thr):
                k = sel[j]
                name = group.bank.winner(j, group.name)
                hits.append(self._anomaly(events[owners[k]], keys[k][1], x[k], expected[j], score[j], thr[j], name))
        if group.joint is not None:
            multi = counts >= 2
            vkeys = [(dev, tuple(m)) for _, dev, _, m in rows if len(m) >= 2]
            start = (np.cumsum(counts) - counts)[multi]
            for owner, label, d2, dims, score in group.joint.score(vkeys, start, owners[start], residual,
                                                                   self.threshold):
                e = events[owner]
                thr = self._threshold((e["device_id"], label), "multivariate")
                if score >= thr:
                    hits.append(self._anomaly(e, label, d2, dims, score, thr, "multivariate"))
        return hits

    def _threshold(self, key: tuple[str, str], name: str) -> float:
        return feedback_threshold(self.threshold, self.feedback_marks.get((key[0], key[1], name), 0))

    def _anomaly(self, e: Mapping, metric: str, observed: float, expected: float, score: float,
                 threshold: float, detector: str) -> Anomaly:
        return Anomaly(
            id=f"{e['source']}|{e['id']}|{metric}|{detector}", event_id=e["id"], source=e["source"],
            device_id=e["device_id"], metric=metric, category=e["category"], cell=e.get("cell"), lat=e.get("lat"),
            lon=e.get("lon"), time=e["time"], observed=float(observed), expected=float(expected),
            score=min(1.0, max(0.0, float(score))), threshold=float(threshold), detector=detector,
            detected_at=datetime.now(UTC),
        )

    def feedback(self, device_id: str, metric: str, detector: str, kind: str = "false_positive") -> None:
        """An operator's false-positive mark: raise this series' threshold for that detector (bounded)."""
        if kind != "false_positive":
            return
        mark = (device_id, metric, detector)
        self.feedback_marks[mark] = min(self.feedback_marks.get(mark, 0) + 1, 20)
        for group in self.groups.values():
            sid = group.index.get((device_id, metric))
            if sid is not None and detector in (group.name, *ResidualBank.PART_NAMES):
                group.threshold[sid] = max(group.threshold[sid], self._threshold((device_id, metric), detector))

    def check_offline(self, now: datetime) -> list[Anomaly]:
        """Devices silent for several expected intervals; each is reported once until it speaks again."""
        n = len(self.devices.keys)
        if not n:
            return []
        ids = np.arange(n)
        clock = now.timestamp() - self.lag_s
        score = self.offline.score(ids, clock)
        out = []
        for sid in np.flatnonzero((score >= self.threshold) & ~self.offline_reported[:n]):
            dev = self.devices.keys[sid]
            e = self.device_meta.get(dev) if dev is not None else None
            if e is None or ("offline" not in self.config.get(e["category"], FALLBACK) and e["type"] != "heartbeat"):
                continue
            source, category, cell, lat, lon, event_id = (
                e["source"], e["category"], e.get("cell"), e.get("lat"), e.get("lon"), e["id"])
            silence = clock - self.offline.last[sid]
            self.offline_reported[sid] = True
            out.append(Anomaly(
                id=f"offline|{dev}|{int(self.offline.last[sid])}", event_id=event_id, source=source, device_id=dev,
                metric="heartbeat", category=category, cell=cell, lat=lat, lon=lon, time=now,
                observed=float(silence), expected=float(self.offline.interval[sid]), score=float(score[sid]),
                threshold=self.threshold, detector="offline", detected_at=datetime.now(UTC)))
        return out

    def snapshot(self) -> bytes:
        """All state (banks, indexes, feedback, thresholds) as bytes for the partition's snapshot."""
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def restore(cls, blob: bytes) -> SeriesDetectors:
        # Snapshots are written by this worker into its own state directory, never taken from the bus.
        state = pickle.loads(blob)  # noqa: S301
        if not isinstance(state, cls):
            raise TypeError(f"snapshot holds {type(state).__name__}, not {cls.__name__}")
        return state
