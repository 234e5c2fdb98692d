"""The map endpoints over HTTP against real chdb: clustering is an exact partition, the payload is bounded,
status follows open alerts, and every layer stays inside the caller's scope."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from brain_api.mapping.models import CellCollection, DeviceCollection
from brain_api.security.roles import Role
from ingest.geo import cell_of
from tests.unit.brain_api.conftest import alert_row, bearer

BOX = (120.10, 30.20, 120.30, 30.35)
N = 3000
CATS = ("traffic", "air", "water")


@pytest.fixture(scope="module")
def city(store):
    """N devices spread over BOX, one reading each two minutes ago (value = 10 * category index)."""
    rng = np.random.default_rng(11)
    lat = rng.uniform(BOX[1], BOX[3], N).tolist()
    lon = rng.uniform(BOX[0], BOX[2], N).tolist()
    ids = [f"map-{i:05d}" for i in range(N)]
    cats = [CATS[i % 3] for i in range(N)]
    cells = [cell_of(a, o) for a, o in zip(lat, lon, strict=True)]
    now = datetime.now(UTC)
    store.insert("devices", {
        "device_id": ids, "type": ["sensor"] * N, "category": cats, "name": ids, "department": [""] * N,
        "lat": lat, "lon": lon, "cell": cells, "interval_s": [60.0] * N, "attributes": ["{}"] * N,
        "updated_at": [now] * N, "deleted": [0] * N, "kafka_partition": [0] * N, "kafka_offset": [0] * N,
        "inserted_at": [now] * N,
    })
    store.insert("events", {
        "id": [f"ev-{i}" for i in ids], "source": ["test"] * N, "type": ["reading"] * N,
        "time": [now - timedelta(minutes=2)] * N, "device_id": ids, "lat": lat, "lon": lon, "cell": cells,
        "category": cats, "measurements": [{"level": 10.0 * CATS.index(c)} for c in cats],
        "attributes": ["{}"] * N, "flags": [[]] * N, "schema_version": [1] * N, "received_at": [now] * N,
        "kafka_partition": [0] * N, "kafka_offset": [0] * N, "inserted_at": [now] * N,
    })
    return {"ids": ids, "lat": lat, "lon": lon, "cats": cats, "cells": cells}


def bbox(box=BOX) -> str:
    return ",".join(map(str, box))


def get(client, token, path, **params):
    r = client.get(f"/api/v1/map/{path}", headers=bearer(token), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_clusters_are_an_exact_partition_of_the_devices_in_view(client, issue, city):
    body = get(client, issue(Role.operator), "devices", bbox=bbox(), zoom=13)
    DeviceCollection.model_validate(body)
    meta = body["meta"]
    assert meta["clustered"] and meta["total"] == N and not meta["truncated"]
    step = meta["grid_step_deg"]
    points = zip(city["lat"], city["lon"], strict=True)
    expected = Counter((math.floor(o / step), math.floor(a / step)) for a, o in points)
    got: Counter[tuple[int, int]] = Counter()
    for f in body["features"]:
        lon, lat = f["geometry"]["coordinates"]
        if f["properties"]["kind"] == "cluster":
            _, gx, gy = f["id"].split(":")
            got[(int(gx), int(gy))] += f["properties"]["count"]
            w, s, e, n = f["properties"]["bbox"]
            assert w <= lon <= e and s <= lat <= n  # the centroid lies within its devices' extent
        else:
            got[(math.floor(lon / step), math.floor(lat / step))] += 1
    assert got == expected


def test_payload_stays_bounded_at_any_zoom(client, issue, city):
    token = issue(Role.operator)
    for zoom in (0, 10, 15):
        body = get(client, token, "devices", bbox="100,20,130,40", zoom=zoom)
        assert len(body["features"]) <= 2000 and sum(f["properties"]["count"] for f in body["features"]) == N
    detail = get(client, token, "devices", bbox=bbox(), zoom=18)
    assert not detail["meta"]["clustered"]
    assert len(detail["features"]) == 2000 and detail["meta"]["truncated"] and detail["meta"]["total"] == N


def test_device_status_follows_open_alerts(client, issue, city, store, add_alerts):
    i = 7
    device = city["ids"][i]
    small = (city["lon"][i] - 1e-4, city["lat"][i] - 1e-4, city["lon"][i] + 1e-4, city["lat"][i] + 1e-4)
    ev = [{"anomaly_id": "an-m", "device_id": device, "metric": "level", "observed": 1.0, "expected": 0.0,
           "score": 0.99, "detector": "robust_z", "time": datetime.now(UTC).isoformat(), "event_id": "e-m"}]
    (alert,) = add_alerts(alert_row(severity="critical", cell=city["cells"][i], evidence=ev))
    token = issue(Role.operator)
    feature = next(f for f in get(client, token, "devices", bbox=bbox(small), zoom=18)["features"]
                   if f["id"] == device)
    assert feature["properties"]["status"] == "alert"
    clusters = get(client, token, "devices", bbox=bbox(), zoom=10)["features"]
    assert clusters[0]["properties"]["status"] == "alert"  # worst first
    store.insert("alert_transitions", {"alert_id": [alert["id"]], "from_state": ["open"], "to_state": ["resolved"],
                                       "actor": ["test"], "note": [""], "at": [datetime.now(UTC)], "version": [1]})
    feature = next(f for f in get(client, token, "devices", bbox=bbox(small), zoom=18)["features"]
                   if f["id"] == device)
    assert feature["properties"]["status"] == "normal"


def test_grid_worker_and_department_see_only_their_devices(client, issue, city):
    mine = city["cells"][0]
    worker = get(client, issue(Role.grid_worker, cells=(mine,)), "devices", bbox=bbox(), zoom=18)
    expected = {d for d, c in zip(city["ids"], city["cells"], strict=True) if c == mine}
    assert {f["id"] for f in worker["features"]} == expected and worker["meta"]["total"] == len(expected)
    env = get(client, issue(Role.department, department="environment"), "devices", bbox=bbox(), zoom=18)
    assert env["meta"]["total"] == sum(c in ("air", "water") for c in city["cats"])
    assert {city["cats"][city["ids"].index(f["id"])] for f in env["features"]} <= {"air", "water"}


def test_cells_carry_heat_readings_and_alert_status(client, issue, city, add_alerts):
    token = issue(Role.operator)
    body = get(client, token, "cells", bbox=bbox(), zoom=14, metric="level")
    CellCollection.model_validate(body)
    by_cell = {f["id"]: f["properties"] for f in body["features"]}
    counts = Counter(city["cells"])
    assert sum(p["readings"] for p in by_cell.values()) == N
    for cell, n in counts.most_common(3):
        levels = [10.0 * CATS.index(c) for c, k in zip(city["cats"], city["cells"], strict=True) if k == cell]
        assert by_cell[cell]["readings"] == n and by_cell[cell]["devices"] == n
        assert by_cell[cell]["heat"] == pytest.approx(sum(levels) / n)
    hot = city["cells"][42]
    add_alerts(alert_row(severity="medium", cell=hot), alert_row(severity="low", cell=hot))
    props = {f["id"]: f["properties"] for f in get(client, token, "cells", bbox=bbox(), zoom=14)["features"]}
    assert props[hot]["status"] in ("warning", "alert") and props[hot]["open_incidents"] >= 2
    assert props[hot]["metric"] is None and props[hot]["heat"] == props[hot]["readings"]


def test_zooming_out_merges_cells_into_parents(client, issue, city):
    token = issue(Role.operator)
    coarse = get(client, token, "cells", bbox=bbox(), zoom=9, metric="level")
    assert coarse["meta"]["resolution"] < 8
    assert sum(f["properties"]["readings"] for f in coarse["features"]) == N
    assert len(coarse["features"]) < len(set(city["cells"]))


def test_cells_respect_scope(client, issue, city):
    mine = city["cells"][1]
    body = get(client, issue(Role.grid_worker, cells=(mine,)), "cells", bbox=bbox(), zoom=14)
    assert [f["id"] for f in body["features"]] == [mine]
    env = get(client, issue(Role.department, department="environment"), "cells", bbox=bbox(), zoom=14)
    assert sum(f["properties"]["readings"] for f in env["features"]) == sum(c != "traffic" for c in city["cats"])


@pytest.mark.parametrize("params", [{"bbox": "1,2,3", "zoom": 3}, {"bbox": "120,30,119,31", "zoom": 3},
                                    {"bbox": bbox(), "zoom": 23}, {"zoom": 3}])
def test_bad_viewports_are_422(client, issue, params):
    r = client.get("/api/v1/map/devices", headers=bearer(issue(Role.operator)), params=params)
    assert r.status_code == 422


def test_map_needs_a_token(client):
    assert client.get("/api/v1/map/cells", params={"bbox": bbox(), "zoom": 12}).status_code == 401
