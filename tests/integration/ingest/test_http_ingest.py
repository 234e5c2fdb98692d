"""The HTTP adapters end to end on the real broker: what the client hears, what Kafka holds, and that
every received item is accounted for."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from ingest.metrics import ingest_stats
from ingest.registry import Device
from ingest.topics import DEADLETTER_TOPIC, DEVICES_TOPIC, EVENTS_TOPIC
from tests.factories import event_dict

pytestmark = pytest.mark.integration


def _events_with(read, marker: str, expect: int) -> list[dict]:
    got = read(EVENTS_TOPIC, lambda m: marker.encode() in m.value, expect=expect)
    return [e for m in got for e in orjson.loads(m.value) if marker in e["id"]]


async def test_partial_failure_answers_per_item_and_dead_letters_the_bad_one(client, read, unique_name):
    good = [event_dict(id=f"{unique_name}-{i}") for i in range(3)]
    bad = event_dict(id=f"{unique_name}-bad", lat=123.0)
    body = orjson.dumps([*good, bad])
    before = ingest_stats().get("http", {"received": 0, "accepted": 0, "rejected": 0, "duplicates": 0})

    r = await client.post("/api/v1/events", content=body)

    assert r.status_code == 202
    out = r.json()
    assert (out["accepted"], out["rejected"], out["duplicates"]) == (3, 1, 0)
    rejected = [x for x in out["results"] if x["status"] == "rejected"]
    assert rejected[0]["index"] == 3 and rejected[0]["field"] == "lat" and "123" in rejected[0]["reason"]
    assert len(_events_with(read, unique_name, 1)) == 3
    [dl] = read(DEADLETTER_TOPIC, lambda m: f"{unique_name}-bad".encode() in m.value, expect=1)
    assert orjson.loads(dl.value) == bad  # the item's own bytes, nothing else
    assert b"lat" in dl.headers["cb-reason"] and dl.headers["cb-adapter"] == b"http"
    after = ingest_stats()["http"]
    delta = {k: after[k] - before[k] for k in after}
    assert delta == {"received": 4, "accepted": 3, "rejected": 1, "duplicates": 0}


async def test_single_invalid_event_is_422_naming_the_field(client, unique_name):
    naive = event_dict(id=unique_name, time="2026-11-21T10:00:00")
    r = await client.post("/api/v1/events", content=orjson.dumps(naive))
    assert r.status_code == 422
    assert r.json()["detail"]["field"] == "time"
    assert "timezone" in r.json()["detail"]["message"]


async def test_body_that_is_no_json_at_all_is_422(client):
    r = await client.post("/api/v1/events", content=b"this is not json")
    assert r.status_code == 422
    assert "invalid JSON" in r.json()["detail"]["message"]


async def test_gzip_ndjson_and_duplicates(client, read, unique_name):
    items = [event_dict(id=f"{unique_name}-{i}") for i in range(5)]
    ndjson = b"\n".join(orjson.dumps(e) for e in items) + b"\n"
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/x-ndjson"}

    first = await client.post("/api/v1/events", content=gzip.compress(ndjson), headers=headers)
    again = await client.post("/api/v1/events", content=gzip.compress(ndjson), headers=headers)

    assert first.json()["accepted"] == 5
    assert again.status_code == 202 and again.json()["duplicates"] == 5 and again.json()["accepted"] == 0
    assert len(_events_with(read, unique_name, 1)) == 5  # the re-sent batch was not published again


async def test_oversize_batch_is_413(client):
    client.context.settings = client.context.settings.model_copy(update={"max_batch_events": 10})
    r = await client.post("/api/v1/events", content=orjson.dumps([event_dict() for _ in range(11)]))
    assert r.status_code == 413


async def test_unknown_device_is_accepted_but_flagged_and_known_device_lends_its_location(client, registry, read,
                                                                                          unique_name):
    registry.upsert(Device(device_id=f"{unique_name}-known", type="detector", category="traffic",
                           lat=30.25, lon=120.16))
    known = event_dict(id=f"{unique_name}-a", device_id=f"{unique_name}-known", lat=None, lon=None)
    unknown = event_dict(id=f"{unique_name}-b", device_id=f"{unique_name}-stranger")

    r = await client.post("/api/v1/events", content=orjson.dumps([known, unknown]))

    assert r.json()["accepted"] == 2
    [flagged] = r.json()["results"]  # accepted items are listed only when they carry flags
    assert (flagged["index"], flagged["status"], flagged["flags"]) == (1, "accepted", ["unknown_device"])
    by_id = {e["id"]: e for e in _events_with(read, unique_name, 1)}
    assert by_id[f"{unique_name}-a"]["lat"] == 30.25 and by_id[f"{unique_name}-a"]["flags"] == []
    assert by_id[f"{unique_name}-b"]["flags"] == ["unknown_device"]


async def test_viid_vehicles_are_pseudonymised_and_correlate_across_cameras(client, read, unique_name, pz):
    now = datetime.now(UTC).astimezone().strftime("%Y%m%d%H%M%S")
    cams = [f"{unique_name}-cam{i}" for i in (1, 2)]
    body = {"MotorVehicleListObject": {"MotorVehicleObject": [
        {"MotorVehicleID": f"{unique_name}-mv1", "DeviceID": cams[0], "PlateNo": "浙A 8K3M2", "Speed": 41,
         "PassTime": now, "LaneNo": 1},
        {"MotorVehicleID": f"{unique_name}-mv2", "DeviceID": cams[1], "PlateNo": "浙a8k3m2", "Speed": 38,
         "PassTime": now, "LaneNo": 2},
        {"MotorVehicleID": f"{unique_name}-mv3", "DeviceID": cams[1], "PlateNo": "浙A11111", "PassTime": "yesterday"},
    ]}}

    r = await client.post("/VIID/MotorVehicles", content=orjson.dumps(body))

    statuses = r.json()["ResponseStatusListObject"]["ResponseStatusObject"]
    assert [s["StatusCode"] for s in statuses] == [0, 0, 8]
    assert "PassTime" in statuses[2]["StatusString"]
    got = read(EVENTS_TOPIC, lambda m: unique_name.encode() in m.value, expect=1)
    raw = b"".join(m.value for m in got)
    events = [e for m in got for e in orjson.loads(m.value) if unique_name in e["id"]]
    assert {e["attributes"]["plate_no"] for e in events} == {pz.pseudonym("浙A8K3M2", "plate")}
    assert b"8K3M2" not in raw and b"8k3m2" not in raw
    [dl] = read(DEADLETTER_TOPIC, lambda m: f"{unique_name}-mv3".encode() in m.value, expect=1)
    assert "浙A11111".encode() not in dl.value and b"ps1:k2:" in dl.value


async def test_reports_and_heartbeats_reach_kafka_without_the_phone_number(client, read, unique_name):
    when = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    report = {"id": f"{unique_name}-r", "category": "road_damage", "text": "pothole on 延安路",
              "location": {"lat": 30.26, "lon": 120.16}, "reporter_phone": "+86 138 0013 8000", "time": when}
    hb = {"device_id": f"{unique_name}-dev", "time": when, "battery": 0.8, "status": "ok"}

    r1 = await client.post("/api/v1/reports", content=orjson.dumps(report))
    r2 = await client.post("/api/v1/heartbeats", content=orjson.dumps([hb]))
    bad = await client.post("/api/v1/reports", content=orjson.dumps({"text": "no category"}))

    assert r1.status_code == 202 and r2.status_code == 202
    assert bad.status_code == 422 and bad.json()["detail"]["field"] == "category"
    got = read(EVENTS_TOPIC, lambda m: unique_name.encode() in m.value, expect=2)
    raw = b"".join(m.value for m in got)
    assert b"13800138000" not in raw and b"138 0013 8000" not in raw
    kinds = {e["type"] for m in got for e in orjson.loads(m.value) if unique_name in (e.get("device_id") or e["id"])}
    assert kinds == {"report", "heartbeat"}


async def test_device_registry_crud_publishes_changes(client, read, unique_name):
    device_id = f"{unique_name}-aq"
    put = await client.put(f"/api/v1/devices/{device_id}", json={
        "type": "air_quality", "category": "air", "lat": 30.2717712, "lon": 120.1597945, "crs": "gcj02",
        "department": "environment", "interval_s": 30})
    assert put.status_code == 201
    assert round(put.json()["lat"], 4) == 30.2741 and put.json()["cell"] == "88309a553dfffff"
    assert (await client.get(f"/api/v1/devices/{device_id}")).json()["department"] == "environment"
    csv = f"device_id,type,category,lat,lon,department\n{unique_name}-t1,detector,traffic,30.27,120.15,traffic\n"
    imported = await client.post("/api/v1/devices/import", content=csv, headers={"Content-Type": "text/csv"})
    assert imported.json() == {"imported": 1, "new": 1}
    bad_csv = "device_id,type,category,lat,lon\nx,detector,traffic,91,120\n"
    refused = await client.post("/api/v1/devices/import", content=bad_csv, headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422 and "line 2" in refused.json()["detail"]
    assert (await client.delete(f"/api/v1/devices/{device_id}")).status_code == 204
    assert (await client.get(f"/api/v1/devices/{device_id}")).status_code == 404

    records = read(DEVICES_TOPIC, lambda m: unique_name.encode() in (m.key or b""), expect=3)
    values = [orjson.loads(m.value) for m in records]
    assert [(v["device_id"], v["deleted"]) for v in values] == [
        (device_id, False), (f"{unique_name}-t1", False), (device_id, True)]
