"""Device registry: file formats, coordinate systems, and the change records."""

from __future__ import annotations

import pytest

from ingest.errors import InvalidEvent
from ingest.registry import Device, DeviceRegistry, device_record
from ingest.registry_io import parse_csv, parse_devices

CSV = """device_id,type,category,lat,lon,crs,department,interval_s
tdet-1,detector,traffic,30.2741,120.1551,wgs84,traffic,10
aq-1,air_quality,air,30.2717712,120.1597945,gcj02,environment,30
"""


def test_csv_with_gcj02_rows():
    tdet, aq = parse_csv(CSV)
    assert (tdet.cell, tdet.interval_s) == ("88309a553dfffff", 10.0)
    assert (round(aq.lat, 4), round(aq.lon, 4), aq.cell) == (30.2741, 120.1551, "88309a553dfffff")


def test_bad_rows_are_reported_by_line():
    with pytest.raises(InvalidEvent) as err:
        parse_csv(CSV + "wl-1,water,lake,30,120\nwl-2,water,water,95,120\n")
    assert "line 4: category" in err.value.reason and "line 5: lat" in err.value.reason


def test_geojson_is_detected_from_content():
    body = (b'{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point",'
            b'"coordinates":[120.1551,30.2741]},"properties":{"device_id":"cam-1","type":"camera","category":"crowd"}}]}')
    [cam] = parse_devices(body)
    assert cam.lat == 30.2741 and cam.category == "crowd"


def test_registry_upsert_delete_and_record():
    registry = DeviceRegistry()
    device = Device(device_id="aq-9", type="aq", category="air", lat=30.27, lon=120.15)
    assert registry.upsert(device) is True and registry.upsert(device) is False
    assert "aq-9" in registry and registry.get("aq-9") == device
    record = device_record(device)
    assert record["device_id"] == "aq-9" and record["deleted"] is False and "crs" not in record
    assert registry.delete("aq-9") and not registry.delete("aq-9")
