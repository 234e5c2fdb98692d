from __future__ import annotations

from datetime import timedelta

import h3
import pytest

from streams.fusion import Fusion, FusionConfig
from streams.records import Severity
from tests.factories import T0, make_anomaly

CELL = "88309a553dfffff"
NEAR = sorted(h3.grid_ring(CELL, 1))[0]
FAR = sorted(h3.grid_ring(CELL, 4))[0]


# dedup, escalation and rate-limit tests use a low bar so one kind of signal alerts
LOW_BAR = FusionConfig(alert_min_confidence=0.6)


def test_storm_of_1000_anomalies_in_one_cell_makes_one_incident_and_one_alert():
    fusion = Fusion(LOW_BAR)
    storm = [make_anomaly(cell=CELL, device_id=f"tdet-{i % 40}", time=T0 + timedelta(milliseconds=i))
             for i in range(1000)]
    result = fusion.add(storm, now=T0 + timedelta(seconds=2))
    assert len({i.id for i in result.incidents}) == 1
    assert len(result.alerts) == 1
    assert len(fusion.open) == 1
    # arriving again in a later batch still does not re-alert: same severity, hysteresis
    again = fusion.add([make_anomaly(cell=CELL, time=T0 + timedelta(seconds=3))], now=T0 + timedelta(seconds=3))
    assert again.alerts == []
    assert again.incidents[0].id == result.incidents[0].id


def test_accident_signals_from_neighbouring_cells_fuse_and_escalate():
    fusion = Fusion(LOW_BAR)
    first = fusion.add([make_anomaly(cell=CELL, metric="speed_kmh", observed=5, expected=45)], now=T0)
    assert first.alerts and first.alerts[0].sub_category == "trafficJam"
    second = fusion.add([
        make_anomaly(cell=NEAR, device_id="tdet-7", metric="occupancy", observed=0.9, expected=0.3),
        make_anomaly(cell=NEAR, device_id="cam-1", category="crowd", metric="count", observed=300, expected=20),
    ], now=T0 + timedelta(seconds=20))
    incident = second.incidents[0]
    assert incident.id == first.incidents[0].id
    assert incident.sub_category == "carAccident"
    assert incident.severity.rank >= Severity.high.rank
    assert {e.device_id for e in incident.evidence} == {"tdet-0042", "tdet-7", "cam-1"}
    # escalation re-alerts with the same alert id and a higher version
    assert second.alerts[0].id == first.alerts[0].id
    assert second.alerts[0].version == 2
    assert second.alerts[0].department == "traffic"


def test_far_cells_open_separate_incidents():
    fusion = Fusion()
    out = fusion.add([make_anomaly(cell=CELL), make_anomaly(cell=FAR)], now=T0)
    assert len({i.id for i in out.incidents}) == 2


def test_quiet_incident_closes_after_window_and_a_new_one_opens():
    fusion = Fusion(FusionConfig(window_s=60))
    a = fusion.add([make_anomaly(cell=CELL, time=T0)], now=T0)
    b = fusion.add([make_anomaly(cell=CELL, time=T0 + timedelta(minutes=5))], now=T0 + timedelta(minutes=5))
    assert a.incidents[0].id != b.incidents[0].id


def test_weak_single_signal_does_not_alert():
    out = Fusion().add([make_anomaly(cell=CELL, detector="citizen_report", metric="report", score=0.9,
                                     observed=1, expected=0)], now=T0)
    assert out.incidents and not out.alerts


def test_department_rate_limit_suppresses_storm_of_distinct_incidents():
    fusion = Fusion(FusionConfig(alert_min_confidence=0.6, dept_alerts_per_minute=3))
    cells = sorted(h3.grid_disk(CELL, 8))[::7][:10]  # far enough apart not to fuse
    out = fusion.add([make_anomaly(cell=c, device_id=f"d{i}") for i, c in enumerate(cells)], now=T0)
    assert len(out.alerts) == 3
    assert out.suppressed == len(out.incidents) - 3


@pytest.mark.parametrize("detector", ["flatline", "silence"])
def test_sensor_fault_is_its_own_maintenance_incident(detector):
    out = Fusion().add([make_anomaly(cell=CELL, detector=detector), make_anomaly(cell=CELL)], now=T0)
    subs = sorted(i.sub_category for i in out.incidents)
    assert subs == ["sensorFailure", "trafficJam"]
    fault = next(a for a in out.alerts if a.sub_category == "sensorFailure")
    assert fault.department == "city-management"


def test_one_noisy_traffic_detector_does_not_alert_but_an_accident_signature_does():
    fusion = Fusion()
    alone = fusion.add([make_anomaly(cell=CELL, metric="speed_kmh", observed=5, expected=45)], now=T0)
    assert alone.incidents and not alone.alerts
    both = fusion.add([make_anomaly(cell=CELL, device_id="tdet-9", metric="occupancy", observed=0.9, expected=0.3)],
                      now=T0 + timedelta(seconds=5))
    assert [a.sub_category for a in both.alerts] == ["trafficJam"]


def test_crowd_next_to_plain_congestion_keeps_its_own_incident():
    fusion = Fusion()
    fusion.add([make_anomaly(cell=CELL, metric="flow", observed=5, expected=20)], now=T0)
    out = fusion.add([make_anomaly(cell=NEAR, device_id="cam-2", category="crowd", metric="count", observed=300,
                                   expected=20)], now=T0 + timedelta(seconds=5))
    assert [(a.category, a.sub_category) for a in out.alerts] == [("security", "crowdSurge")]


def test_new_episode_after_a_weak_tail_re_alerts_without_escalation():
    # a pollution episode, its recovery (weak "cleaner air" values keep the incident open), then a new spike
    fusion = Fusion()
    spike = dict(cell=CELL, category="air", metric="pm25", observed=150.0, expected=40.0, score=1.0)
    first = fusion.add([make_anomaly(device_id="aq-1", time=T0, **spike)], now=T0)
    assert len(first.alerts) == 1
    sent = []
    for k in range(1, 5):  # every 60 s: the tail, below the baseline
        t = T0 + timedelta(seconds=60 * k)
        sent += fusion.add([make_anomaly(device_id="aq-1", time=t, cell=CELL, category="air", metric="pm25",
                                         observed=20.0, expected=40.0)], now=t).alerts
    assert len(sent) <= 1  # at most the second kind of signal's escalation, never one per tail value
    t = T0 + timedelta(seconds=300)
    again = fusion.add([make_anomaly(device_id="aq-2", time=t, **spike)], now=t)
    assert len(again.alerts) == 1 and again.alerts[0].version == 2 + len(sent)
    # within an episode, more strong evidence still does not re-alert
    t2 = t + timedelta(seconds=30)
    assert fusion.add([make_anomaly(device_id="aq-3", time=t2, **spike)], now=t2).alerts == []
