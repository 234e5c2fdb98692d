"""The evidence series over HTTP against real chdb: the window's readings in time order with the anomalies
scored on them, bounded by `limit`, and nothing outside the caller's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brain_api.security.roles import Role
from tests.unit.brain_api.conftest import CELL, OTHER_CELL, bearer

DEVICE = "series-dev-1"


@pytest.fixture(scope="module")
def readings(store):
    """60 speed readings a minute apart ending now, one collapse to 5 km/h, and its anomaly."""
    now = datetime.now(UTC).replace(microsecond=0)
    times = [now - timedelta(minutes=59 - i) for i in range(60)]
    values = [42.0 + (i % 5) for i in range(60)]
    values[50] = 5.0
    n = len(times)
    store.insert("events", {
        "id": [f"se-{i}" for i in range(n)], "source": ["test"] * n, "type": ["reading"] * n, "time": times,
        "device_id": [DEVICE] * n, "lat": [30.2741] * n, "lon": [120.1551] * n, "cell": [CELL] * n,
        "category": ["traffic"] * n, "measurements": [{"speed_kmh": v, "occupancy": 0.3} for v in values],
        "attributes": ["{}"] * n, "flags": [[]] * n, "schema_version": [1] * n, "received_at": times,
        "kafka_partition": [0] * n, "kafka_offset": list(range(n)), "inserted_at": [now] * n,
    })
    store.insert("anomalies", {
        "id": ["an-series"], "event_id": ["se-50"], "source": ["test"], "device_id": [DEVICE],
        "metric": ["speed_kmh"], "category": ["traffic"], "cell": [CELL], "lat": [30.2741], "lon": [120.1551],
        "time": [times[50]], "observed": [5.0], "expected": [44.0], "score": [0.99], "threshold": [0.9],
        "detector": ["robust_z"], "detected_at": [now], "kafka_partition": [0], "kafka_offset": [0],
        "inserted_at": [now],
    })
    return times, values


def series(client, token, **params):
    return client.get(f"/api/v1/devices/{DEVICE}/series", headers=bearer(token),
                      params={"metric": "speed_kmh", **params})


def test_series_has_the_window_in_time_order_and_the_anomaly(client, issue, readings):
    times, values = readings
    r = series(client, issue(Role.operator), since=(times[0] - timedelta(seconds=1)).isoformat())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 60
    assert [p["value"] for p in body["points"]] == values
    stamps = [p["time"] for p in body["points"]]
    assert stamps == sorted(stamps)
    [anomaly] = body["anomalies"]
    assert (anomaly["observed"], anomaly["expected"], anomaly["detector"]) == (5.0, 44.0, "robust_z")


def test_limit_keeps_the_newest_points(client, issue, readings):
    _, values = readings
    body = series(client, issue(Role.operator), limit=10).json()
    assert [p["value"] for p in body["points"]] == values[-10:]


def test_scope_hides_devices_of_other_cells_and_categories(client, issue, readings):
    assert series(client, issue(Role.grid_worker, cells=(OTHER_CELL,))).status_code == 404
    assert series(client, issue(Role.department, department="environment")).status_code == 404
    assert series(client, issue(Role.grid_worker, cells=(CELL,))).status_code == 200
    assert series(client, issue(Role.department, department="traffic")).status_code == 200


def test_unknown_metric_and_bad_window_are_client_errors(client, issue, readings):
    token = issue(Role.operator)
    assert series(client, token, metric="nope").status_code == 404
    now = datetime.now(UTC)
    bad = series(client, token, since=now.isoformat(), until=(now - timedelta(hours=1)).isoformat())
    assert bad.status_code == 422
    assert client.get(f"/api/v1/devices/{DEVICE}/series", params={"metric": "speed_kmh"}).status_code == 401
