"""GA/T 1400, MQTT, heartbeat and report translators: shapes in, CityEvent-shaped dicts out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.errors import InvalidEvent
from ingest.events import CityEvent
from ingest.feeds import mqtt_to_event, report_to_event
from ingest.pseudonym import Pseudonymizer
from ingest.viid import crowd_to_event, objects_of, person_to_event, vehicle_to_event

PZ = Pseudonymizer({"k1": b"unit-test-secret"}, "k1")
VEHICLE = {"MotorVehicleID": "650100000011900000010220261121100000000010200001", "DeviceID": "cam-0001",
           "TollgateID": "tg-1", "PlateNo": "浙A8K3M2", "PlateColor": "2", "VehicleClass": "K33",
           "VehicleColor": "A", "Speed": 47.5, "Direction": "1", "PassTime": "20261121100000", "LaneNo": 2}


def test_vehicle_record_becomes_a_valid_pseudonymised_event():
    event = CityEvent.model_validate(vehicle_to_event(VEHICLE, PZ))
    assert event.time == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # PassTime is China time
    assert event.measurements == {"speed_kmh": 47.5}
    assert event.attributes["plate_no"] == PZ.pseudonym("浙A8K3M2", "plate")
    assert "浙A8K3M2" not in event.model_dump_json()
    assert event.attributes["lane_no"] == 2 and event.attributes["vehicle_class"] == "K33"


@pytest.mark.parametrize(
    ("change", "field"),
    [({"PassTime": "2026-11-21 10:00"}, "PassTime"), ({"DeviceID": ""}, "DeviceID"),
     ({"Speed": "fast"}, "Speed"), ({"MotorVehicleID": None}, "MotorVehicleID")],
)
def test_bad_vehicle_fields_are_named(change, field):
    with pytest.raises(InvalidEvent) as err:
        vehicle_to_event(VEHICLE | change, PZ)
    assert err.value.field == field


def test_envelope_errors_name_the_wrapper():
    with pytest.raises(InvalidEvent, match="MotorVehicleListObject"):
        objects_of({"MotorVehicleObject": []}, "vehicles")
    assert objects_of({"PersonListObject": {"PersonObject": [1]}}, "persons") == [1]


def test_person_ids_never_travel_in_clear():
    person = {"PersonID": "P-3301", "DeviceID": "cam-2", "PersonAppearTime": "20261121100000", "IDNumber": "33010"}
    event = CityEvent.model_validate(person_to_event(person, PZ))
    assert event.id == event.attributes["person_id"] == PZ.pseudonym("P-3301", "person")
    assert "P-3301" not in event.model_dump_json() and "33010" not in event.model_dump_json()


def test_crowd_count():
    e = crowd_to_event({"CrowdCountID": "c1", "DeviceID": "cam-3", "Count": "120", "Density": 0.8,
                        "ShotTime": "20261121100000"})
    assert e["measurements"] == {"count": 120.0, "density": 0.8} and e["type"] == "crowd"


def test_mqtt_shapes():
    now = datetime(2026, 11, 21, 2, tzinfo=UTC)
    bare = mqtt_to_event("city/air/aq-1/pm25", 35, now)
    assert bare["measurements"] == {"pm25": 35.0} and bare["time"] == now.isoformat()
    multi = mqtt_to_event("city/air/aq-1/reading", {"pm25": 35, "no2": 20.5, "unit": "ug/m3"}, now)
    assert multi["measurements"] == {"pm25": 35.0, "no2": 20.5} and multi["attributes"] == {"unit": "ug/m3"}
    assert mqtt_to_event("city/device/aq-1/heartbeat", {"battery": 0.5}, now)["type"] == "heartbeat"
    with pytest.raises(InvalidEvent, match="topic"):
        mqtt_to_event("city/air", 1, now)
    with pytest.raises(InvalidEvent, match="value"):
        mqtt_to_event("city/air/aq-1/pm25", {"value": "high"}, now)


def test_report_in_gcj02_is_moved_to_wgs84():
    e = report_to_event({"category": "fire", "text": "smoke", "lat": 30.2717712, "lon": 120.1597945,
                         "crs": "gcj02"}, PZ)
    assert (round(e["lat"], 4), round(e["lon"], 4)) == (30.2741, 120.1551)
    assert e["id"].startswith("r-") and "reporter_phone" not in e["attributes"]
