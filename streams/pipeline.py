"""The worker's per-partition stages as plain objects, so faust agents stay thin and tests need no broker.

`DetectStage`: decoded events -> anomalies (one `SeriesDetectors` per events partition, snapshotted).
`FuseStage`: anomalies -> incidents and alerts (one `Fusion` per anomalies partition, snapshotted).
"""

from __future__ import annotations

import logging
import pickle
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import h3
import orjson

from streams.decode import decode_events
from streams.detection import SeriesDetectors
from streams.fusion import Fusion, FusionConfig, FusionResult
from streams.records import Anomaly
from streams.state import SnapshotStore

log = logging.getLogger("citybrain.worker")
#: What unpickling a snapshot written by another version of the code can raise (a renamed or removed
#: field, a moved class, a truncated file).
INCOMPATIBLE = (pickle.UnpicklingError, TypeError, AttributeError, ImportError, ValueError, KeyError, EOFError)


def restore_or_new(snapshots: SnapshotStore | None, name: str, restore: Callable[[bytes], T],
                   new: Callable[[], T]) -> T:
    """The partition's state from its snapshot, or fresh state when there is none or it cannot be read.

    Why not crash: a snapshot written by an older release (an upgrade, or a rollback) would otherwise
    stop the worker at every restart, and the supervisor would restart it into the same crash forever.
    Detection warms up again from the stream instead; the unreadable blob is kept as `<name>.incompatible`.
    """
    blob = snapshots.load(name) if snapshots else None
    if blob is None:
        log.info("%s: cold start", name)
        return new()
    try:
        state = restore(blob)
    except INCOMPATIBLE as exc:
        log.warning("%s: snapshot unreadable by this version (%s: %s); cold start, kept as %s.incompatible",
                    name, type(exc).__name__, exc, name)
        if snapshots is not None:
            snapshots.save(f"{name}.incompatible", blob)
        return new()
    log.info("%s: restored from snapshot", name)
    return state
DISTRICT_RESOLUTION = 5
REPORT_SCORE = 0.9
T = TypeVar("T")


def district_key(anomaly: Anomaly) -> bytes:
    """Anomalies of neighbouring cells share a partition: key by the cell's resolution-5 parent.

    >>> from tests.factories import make_anomaly
    >>> district_key(make_anomaly(cell="88309a553dfffff"))
    b'85309a57fffffff'
    """
    if anomaly.cell and not anomaly.cell.startswith("device:"):
        return h3.cell_to_parent(anomaly.cell, DISTRICT_RESOLUTION).encode()
    return anomaly.device_id.encode()


def report_signal(event: dict[str, Any], now: datetime) -> Anomaly:
    """A citizen report is a weak signal for fusion, not a measurement to score."""
    time = datetime.fromisoformat(event["time"])
    subject = str(event.get("attributes", {}).get("category") or event["category"])
    return Anomaly(
        id=f"an-{event['id']}", event_id=event["id"], source=event["source"],
        device_id=event.get("device_id") or f"report:{event['source']}", metric="report",
        category=subject, cell=event.get("cell"), lat=event.get("lat"), lon=event.get("lon"), time=time,
        observed=1.0, expected=0.0, score=REPORT_SCORE, threshold=0.0, detector="citizen_report",
        detected_at=now,
    )


@dataclass
class DetectOutput:
    anomalies: list[Anomaly] = field(default_factory=list)
    dead: list[tuple[bytes, str]] = field(default_factory=list)
    events: int = 0

    def by_district(self) -> dict[bytes, bytes]:
        """One packed message per district key (JSON array of anomalies)."""
        groups: dict[bytes, list[dict[str, Any]]] = defaultdict(list)
        for a in self.anomalies:
            groups[district_key(a)].append(a.model_dump(mode="json"))
        return {k: orjson.dumps(v) for k, v in groups.items()}


class DetectStage:
    def __init__(self, snapshots: SnapshotStore | None = None, threshold: float | None = None) -> None:
        self.snapshots = snapshots
        self.threshold = threshold
        self.detectors: dict[int, SeriesDetectors] = {}

    def _new(self) -> SeriesDetectors:
        return SeriesDetectors() if self.threshold is None else SeriesDetectors(threshold=self.threshold)

    def for_partition(self, partition: int) -> SeriesDetectors:
        found = self.detectors.get(partition)
        if found is None:
            found = restore_or_new(self.snapshots, f"detect-{partition}", SeriesDetectors.restore, self._new)
            self.detectors[partition] = found
        return found

    def process(self, partition: int, values: Iterable[bytes | None], now: datetime | None = None) -> DetectOutput:
        now = now or datetime.now(UTC)
        out = DetectOutput()
        events: list[dict[str, Any]] = []
        for value in values:
            good, bad = decode_events(value)
            events.extend(good)
            out.dead.extend(bad)
        out.events = len(events)
        readings = [e for e in events if e["type"] != "report"]
        out.anomalies.extend(report_signal(e, now) for e in events if e["type"] == "report")
        if readings:
            out.anomalies.extend(self.for_partition(partition).process(readings, now.timestamp()))
        return out

    def check_offline(self, now: datetime) -> list[Anomaly]:
        return [a for d in self.detectors.values() for a in d.check_offline(now)]

    def feedback(self, partition: int, record: dict[str, Any]) -> None:
        self.for_partition(partition).feedback(record["device_id"], record["metric"], record["detector"],
                                               record.get("kind", "false_positive"))

    def save(self, partitions: Iterable[int] | None = None) -> None:
        if self.snapshots is None:
            return
        for p in list(partitions if partitions is not None else self.detectors):
            if p in self.detectors:
                self.snapshots.save(f"detect-{p}", self.detectors[p].snapshot())

    def drop(self, partitions: Iterable[int]) -> None:
        self.save(partitions)
        for p in partitions:
            self.detectors.pop(p, None)


def _restore_fusion(blob: bytes) -> Fusion:
    state = pickle.loads(blob)  # noqa: S301 - our own files, written by this worker
    if not isinstance(state, Fusion):
        raise TypeError(f"snapshot holds {type(state).__name__}, not Fusion")
    return state


class FuseStage:
    def __init__(self, snapshots: SnapshotStore | None = None, config: FusionConfig | None = None) -> None:
        self.snapshots = snapshots
        self.config = config
        self.fusions: dict[int, Fusion] = {}

    def for_partition(self, partition: int) -> Fusion:
        found = self.fusions.get(partition)
        if found is None:
            found = restore_or_new(self.snapshots, f"fuse-{partition}", _restore_fusion,
                                   lambda: Fusion(self.config))
            self.fusions[partition] = found
        return found

    def process(self, partition: int, values: Iterable[bytes], now: datetime | None = None) -> FusionResult:
        anomalies = [Anomaly.model_validate(d) for v in values for d in orjson.loads(v)]
        return self.for_partition(partition).add(anomalies, now or datetime.now(UTC))

    def save(self, partitions: Iterable[int] | None = None) -> None:
        if self.snapshots is None:
            return
        for p in list(partitions if partitions is not None else self.fusions):
            if p in self.fusions:
                self.snapshots.save(f"fuse-{p}", pickle.dumps(self.fusions[p]))

    def drop(self, partitions: Iterable[int]) -> None:
        self.save(partitions)
        for p in partitions:
            self.fusions.pop(p, None)
