"""The city simulator: deterministic per seed, valid for every adapter, anomalies where the truth says."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import numpy as np
import pytest

from ingest.events import CityEvent
from ingest.pseudonym import Pseudonymizer
from ingest.registry import Device
from ingest.simulator import CitySimulator

T0 = 1795226400.0  # 2026-11-21T10:00:00+08:00
PZ = Pseudonymizer({"k1": b"unit-test-secret"}, "k1")


def test_same_seed_same_city_whatever_the_chunking():
    whole = list(CitySimulator(seed=3, rate=100).records(T0, T0 + 30))
    sim = CitySimulator(seed=3, rate=100)
    chunked = [r for s in range(30) for r in sim.records(T0 + s, T0 + s + 1)]
    assert whole == chunked
    assert whole != list(CitySimulator(seed=4, rate=100).records(T0, T0 + 30))


def test_rate_is_roughly_what_was_asked():
    n = sum(1 for _ in CitySimulator(seed=1, rate=300).records(T0, T0 + 60))
    assert 0.6 * 300 * 60 < n < 1.4 * 300 * 60


def test_devices_are_valid_registry_records_and_events_are_valid_city_events():
    sim = CitySimulator(seed=2, city="medium", rate=500)
    devices = [Device.model_validate(d) for d in sim.devices()]
    assert len({d.device_id for d in devices}) == len(devices) > 400
    events = list(sim.events(T0, T0 + 20, PZ))
    validated = [CityEvent.model_validate(e) for e in events[::7]]
    assert {e.type.value for e in validated} >= {"reading", "vehicle", "crowd", "heartbeat"}
    assert all(not str(e.attributes.get("plate_no", "ps1:")).startswith("浙") for e in validated)


@pytest.fixture(scope="module")
def fifteen_minutes() -> tuple[CitySimulator, dict[str, list[tuple[float, dict]]]]:
    sim = CitySimulator(seed=11, rate=100, first_after=10, every=60)
    by_device: dict[str, list[tuple[float, dict]]] = defaultdict(list)
    for channel, rec in sim.records(T0, T0 + 900):
        if channel == "events":
            by_device[rec["device_id"]].append((datetime.fromisoformat(rec["time"]).timestamp(), rec))
        elif channel == "crowd":
            by_device[rec["DeviceID"]].append((0.0, rec))
    return sim, by_device


@pytest.mark.parametrize("kind", ["accident", "pollution_spike", "crowd_surge", "sensor_failure"])
def test_injected_anomalies_show_in_the_data(fifteen_minutes, kind):
    sim, by_device = fifteen_minutes
    truth = next(t for t in sim.truth() if t["kind"] == kind)
    start, end = (datetime.fromisoformat(truth[k]).timestamp() for k in ("start", "end"))
    device = next(d for d in truth["devices"] if not d.startswith("cam-") or kind == "crowd_surge")
    if kind == "crowd_surge":
        counts = [r["Count"] for _, r in by_device[device]]
        assert max(counts) > 3 * np.median(counts)
        return
    inside = [r["measurements"] for t, r in by_device[device] if start <= t < end]
    before = [r["measurements"] for t, r in by_device[device] if t < start]
    if kind == "accident":
        assert np.mean([m["speed_kmh"] for m in inside]) < 0.4 * np.mean([m["speed_kmh"] for m in before])
        assert np.mean([m["occupancy"] for m in inside]) > 2 * np.mean([m["occupancy"] for m in before])
    elif kind == "pollution_spike":
        assert np.mean([m["pm25"] for m in inside]) > 3 * np.mean([m["pm25"] for m in before])
    elif truth["mode"] == "offline":
        assert inside == [] and before
    else:
        assert len({tuple(m.values()) for m in inside}) == 1 and len(inside) > 5


def test_accident_comes_with_a_citizen_report():
    sim = CitySimulator(seed=11, rate=50, first_after=10, every=60)
    reports = [r for c, r in sim.records(T0, T0 + 200) if c == "reports" and r["category"] == "traffic_accident"]
    accident = next(t for t in sim.truth() if t["kind"] == "accident")
    assert [r["id"] for r in reports] == [f"rep-{accident['id']}"]
