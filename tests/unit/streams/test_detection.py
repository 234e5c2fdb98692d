"""The per-partition engine: anomalies from event dicts, feedback, offline, snapshot/restore, bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from streams.detection import MAX_THRESHOLD, SeriesDetectors
from streams.records import Anomaly

START = datetime(2026, 1, 5, tzinfo=UTC)


def reading(k: int, value: float, device: str = "tdet-1", metric: str = "speed_kmh", **extra) -> dict:
    return {"id": f"e-{device}-{k}", "source": "test", "type": "reading", "device_id": device,
            "time": (START + timedelta(minutes=k)).isoformat(), "category": "traffic", "cell": "88309a553dfffff",
            "lat": 30.27, "lon": 120.15, "measurements": {metric: value}, **extra}


def warm(engine: SeriesDetectors, n: int = 400, devices: int = 3, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    for k in range(n):
        hits = engine.process([reading(k, 40 + rng.normal(), f"tdet-{d}") for d in range(devices)])
        assert not [a for a in hits if k > 250]


def test_spike_becomes_an_anomaly_with_evidence() -> None:
    engine = SeriesDetectors(threshold=0.9)
    warm(engine)
    hits = engine.process([reading(400, 120.0, "tdet-1"), reading(400, 40.2, "tdet-2")])
    assert len(hits) == 1
    a = hits[0]
    assert isinstance(a, Anomaly) and a.device_id == "tdet-1" and a.metric == "speed_kmh"
    assert a.observed == 120.0 and 35 < a.expected < 45 and a.score >= a.threshold == 0.9
    assert a.detector == "seasonal" and a.cell == "88309a553dfffff"


def test_reports_are_not_scored_and_series_order_holds_within_a_batch() -> None:
    engine = SeriesDetectors()
    report = {"id": "r-1", "source": "12345", "type": "report", "time": START.isoformat(), "category": "citizen",
              "measurements": {}}
    assert engine.process([report]) == []
    rng = np.random.default_rng(2)
    batch = [reading(k, 40 + rng.normal()) for k in range(400)] + [reading(400, 120.0)]
    hits = engine.process(batch)  # 401 values of one series in one call: scored in order
    assert [a.event_id for a in hits] == ["e-tdet-1-400"]


def test_feedback_raises_the_series_threshold_bounded_and_snapshotted() -> None:
    engine = SeriesDetectors(threshold=0.9)
    warm(engine)
    for _ in range(50):
        engine.feedback("tdet-1", "speed_kmh", "seasonal")
    group = next(iter(engine.groups.values()))
    sid = group.index.get(("tdet-1", "speed_kmh"))
    other = group.index.get(("tdet-2", "speed_kmh"))
    assert 0.99 < group.threshold[sid] <= MAX_THRESHOLD
    assert group.threshold[other] == 0.9
    restored = SeriesDetectors.restore(engine.snapshot())
    assert restored.groups[next(iter(restored.groups))].threshold[sid] == group.threshold[sid]


def test_snapshot_restore_gives_identical_subsequent_scores() -> None:
    engine = SeriesDetectors()
    warm(engine)
    twin = SeriesDetectors.restore(engine.snapshot())
    rng = np.random.default_rng(3)
    tail = [reading(k, 40 + rng.normal() + (60 if k % 50 == 0 else 0), f"tdet-{k % 3}") for k in range(400, 700)]
    a = [(x.event_id, x.score) for x in engine.process(tail)]
    b = [(x.event_id, x.score) for x in twin.process(tail)]
    assert a == b and a  # same anomalies, same scores, and there were some


def test_offline_device_reported_once_until_it_speaks_again() -> None:
    engine = SeriesDetectors()
    beat = {"id": "h", "source": "test", "type": "heartbeat", "device_id": "aq-7", "category": "air",
            "measurements": {}}
    for k in range(20):
        engine.process([{**beat, "id": f"h{k}", "time": (START + timedelta(minutes=k)).isoformat()}])
    assert engine.check_offline(START + timedelta(minutes=20)) == []
    late = START + timedelta(minutes=25)
    (a,) = engine.check_offline(late)
    assert a.detector == "offline" and a.device_id == "aq-7" and a.observed == 6 * 60
    assert engine.check_offline(late + timedelta(minutes=1)) == []


def test_offline_checks_follow_the_partition_clock_while_it_catches_up() -> None:
    engine = SeriesDetectors()
    beat = {"id": "h", "source": "test", "type": "heartbeat", "category": "air", "measurements": {}}
    behind = timedelta(minutes=30)  # a restarted worker reading heartbeats half an hour old
    for k in range(20):
        at = START + timedelta(minutes=k)
        engine.process([{**beat, "id": f"h{k}-{d}", "device_id": d, "time": at.isoformat()} for d in ("aq-1", "aq-2")],
                       now=(at + behind).timestamp())
    assert engine.check_offline(START + timedelta(minutes=19) + behind) == []  # by the wall clock: 30 min silent
    # caught up, then the partition goes quiet: its clock ages with the wall clock and both devices are reported
    engine.process([{**beat, "id": "h-last", "device_id": "aq-1", "time": (START + timedelta(minutes=20)).isoformat()}],
                   now=(START + timedelta(minutes=20)).timestamp())
    late = START + timedelta(minutes=30)
    assert sorted(a.device_id for a in engine.check_offline(late)) == ["aq-1", "aq-2"]
    assert SeriesDetectors.restore(engine.snapshot()).lag_s == engine.lag_s == 0.0


def test_memory_is_bounded_by_evicting_idle_series() -> None:
    engine = SeriesDetectors(max_series=100)
    for k in range(5):
        engine.process([reading(k, 40.0, f"dev-{k}-{d}") for d in range(80)])
    group = next(iter(engine.groups.values()))
    assert len(group.index) <= 100 and group.index.capacity <= 100


def _pair(k: int, speed: float, occupancy: float, device: str = "tdet-9") -> dict:
    return {**reading(k, 0.0, device), "measurements": {"speed_kmh": speed, "occupancy": occupancy}}


def test_joint_shift_of_a_multi_metric_device_is_a_multivariate_anomaly() -> None:
    engine = SeriesDetectors(threshold=0.9)
    rng = np.random.default_rng(5)
    for k in range(600):  # speed and occupancy move against each other (one traffic factor)
        f = rng.normal()
        assert not [a for a in engine.process([_pair(k, 40 - 3 * f, 0.3 + 0.03 * f + 0.005 * rng.normal())])
                    if k > 300]
    # speed 2.5 sigma low AND occupancy 2.5 sigma low: each plausible, together against the correlation
    hits = engine.process([_pair(600, 40 - 3 * 2.5, 0.3 - 0.03 * 2.5)])
    assert [(a.detector, a.metric) for a in hits] == [("multivariate", "speed_kmh+occupancy")]
    a = hits[0]
    assert a.expected == 2.0 and a.observed > 20 and a.score >= 0.9  # d2 against its chi-squared mean
    twin = SeriesDetectors.restore(engine.snapshot())  # the joint model is part of the partition snapshot
    group = next(iter(twin.groups.values()))
    assert group.joint is not None and len(group.joint.index) == 1


def test_multivariate_is_configuration() -> None:
    engine = SeriesDetectors(config={"traffic": ("seasonal",)})
    engine.process([_pair(0, 40.0, 0.3)])
    assert next(iter(engine.groups.values())).joint is None


def test_a_silence_alert_names_its_detector_and_takes_feedback() -> None:
    # a water gauge (one reading a minute) with a sharp surge every 100-200 minutes, then the surges stop
    engine = SeriesDetectors(threshold=0.9, config={"water": ("seasonal",)})
    rng = np.random.default_rng(6)
    surges = set(np.cumsum(rng.integers(100, 200, size=60)).tolist())
    hits = []
    for k in range(12_000):
        value = 1.0 + 0.01 * rng.normal() + (4.0 if k in surges and k < 6000 else 0.0)
        hits += engine.process([reading(k, value, "wl-1", "level_m", category="water")])
    quiet = [a for a in hits if a.time > START + timedelta(minutes=6000)]
    assert [a.detector for a in quiet] == ["silence"]
    engine.feedback("wl-1", "level_m", "silence")
    group = next(iter(engine.groups.values()))
    assert group.threshold[group.index.get(("wl-1", "level_m"))] > 0.9
