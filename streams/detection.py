"""The per-partition detection engine the faust agent calls: CityEvent dicts in, `Anomaly` records out.

All series (device_id, metric) of one partition live in a few `ResidualBank`s (one per detector list in
the category config), so a batch of thousands of events is scored with a handful of numpy calls: the
Python work per event is parsing and a dict lookup. Order within a series is kept by splitting a batch
into rounds (the k-th reading of each series goes in round k). Memory is bounded: at most `max_series`
series per bank (about 0.8 kB each with the default 48 time-of-day slots) and as many devices for the
offline detector; the least recently seen are evicted first. Operator feedback raises a series'
threshold (bounded by `MAX_THRESHOLD`) and, like all state, is part of `snapshot()`.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import repeat

import numpy as np

from streams.detectors.bank import ResidualBank
from streams.detectors.config import FALLBACK, bank_params, load_config
from streams.detectors.offline import OfflineBank
from streams.detectors.series import SeriesIndex
from streams.records import Anomaly
from streams.settings import get_detection_settings

MAX_THRESHOLD = 0.995
SKIP_TYPES = frozenset({"report", "heartbeat"})


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


class SeriesDetectors:
    """All detector state of one Kafka partition; see the module docstring."""

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

    def process(self, events: Sequence[Mapping]) -> list[Anomaly]:
        """Score then learn every measurement of `events` (in order); return the anomalies found."""
        cache: dict[str, tuple[float, float]] = {}
        per_group: dict[int, tuple[_Group, list, list, list, list]] = {}
        seen: dict[str, float] = {}
        groups_by_cat: dict[str, _Group | None] = {}
        for i, e in enumerate(events):
            dev = e.get("device_id")
            if dev is None or e["type"] == "report":
                continue
            stamp = e["time"]
            times = cache.get(stamp)
            if times is None:
                dt = datetime.fromisoformat(stamp)
                epoch = dt.timestamp()
                offset = dt.utcoffset()
                times = cache[stamp] = (epoch, epoch + (offset.total_seconds() if offset else 0.0))
            seen[dev] = times[0]
            self.device_meta[dev] = e  # the device's latest event: where and what it is, for offline anomalies
            if e["type"] in SKIP_TYPES:
                continue
            cat = e["category"]
            group = groups_by_cat[cat] if cat in groups_by_cat else groups_by_cat.setdefault(cat, self._group(cat))
            if group is None:
                continue
            slot = per_group.get(id(group))
            if slot is None:
                slot = per_group[id(group)] = (group, [], [], [], [])
            _, keys, values, local, owners = slot
            m = e["measurements"]
            keys.extend(zip(repeat(dev), m))
            values.extend(m.values())
            local.extend(repeat(times[1], len(m)))
            owners.extend(repeat(i, len(m)))
        self._seen(seen)
        out: list[Anomaly] = []
        for group, keys, values, local, owners in per_group.values():
            out.extend(self._score(group, keys, np.array(values, float), np.array(local), owners, events))
        return out

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

    def _score(self, group: _Group, keys: list, x: np.ndarray, t: np.ndarray, owners: list[int],
               events: Sequence[Mapping]) -> list[Anomaly]:
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
        hits: list[Anomaly] = []
        for r in range(int(rank.max()) + 1 if len(rank) else 0):
            sel = np.flatnonzero(rank == r)
            sid = ids[sel]
            thr = group.threshold[sid]
            score, expected = group.bank.step(sid, x[sel], t[sel], thr)
            for j in np.flatnonzero(score >= thr):
                k = sel[j]
                name = "flatline" if group.bank.flat_won[j] else group.name
                hits.append(self._anomaly(events[owners[k]], keys[k][1], x[k], expected[j], score[j], thr[j], name))
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
            if sid is not None and detector in (group.name, "flatline"):
                group.threshold[sid] = max(group.threshold[sid], self._threshold((device_id, metric), detector))

    def check_offline(self, now: datetime) -> list[Anomaly]:
        """Devices silent for several expected intervals; each is reported once until it speaks again."""
        n = len(self.devices.keys)
        if not n:
            return []
        ids = np.arange(n)
        score = self.offline.score(ids, now.timestamp())
        out = []
        for sid in np.flatnonzero((score >= self.threshold) & ~self.offline_reported[:n]):
            dev = self.devices.keys[sid]
            e = self.device_meta.get(dev) if dev is not None else None
            if e is None or ("offline" not in self.config.get(e["category"], FALLBACK) and e["type"] != "heartbeat"):
                continue
            source, category, cell, lat, lon, event_id = (
                e["source"], e["category"], e.get("cell"), e.get("lat"), e.get("lon"), e["id"])
            silence = now.timestamp() - self.offline.last[sid]
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


def occurrence_rank(ids: np.ndarray) -> np.ndarray:
    """How many earlier entries carry the same id: round r scores the r-th value of every series.

    >>> occurrence_rank(np.array([4, 2, 4, 4, 2, 7])).tolist()
    [0, 0, 1, 2, 1, 0]
    """
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    start = np.r_[True, s[1:] != s[:-1]]
    first = np.flatnonzero(start)[np.cumsum(start) - 1]
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids)) - first
    return rank
