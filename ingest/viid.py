"""GA/T 1400 (视图库, "VIID") camera records -> CityEvent-shaped dicts; pure, no I/O.

Cameras send `MotorVehicleListObject.MotorVehicleObject[]` and `PersonListObject.PersonObject[]`; times
are `yyyyMMddHHmmss` in China Standard Time (UTC+8, no daylight saving since 1991, hence a fixed offset).
Plates and person/face/ID numbers are pseudonymised here, before the dict exists anywhere else. The
standard has no crowd-count object; ours follows its naming (see `crowd_to_event`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from ingest.errors import InvalidEvent
from ingest.pseudonym import Pseudonymizer

CST = timezone(timedelta(hours=8), "CST")
SOURCE = "viid"
LISTS = {
    "vehicles": ("MotorVehicleListObject", "MotorVehicleObject"),
    "persons": ("PersonListObject", "PersonObject"),
    "crowd": ("CrowdCountListObject", "CrowdCountObject"),
}


def viid_time(value: object, field: str) -> str:
    """`yyyyMMddHHmmss` (local China time) -> ISO 8601 with offset.

    >>> viid_time("20261121100000", "PassTime")
    '2026-11-21T10:00:00+08:00'
    """
    try:
        return _parse_time(str(value))
    except ValueError:
        raise InvalidEvent(f"{field}: expected yyyyMMddHHmmss (got {str(value)[:40]!r})", field=field) from None


@lru_cache(maxsize=4096)
def _parse_time(text: str) -> str:
    # strptime costs ~30 µs; a camera sends many records per second with the same PassTime.
    if len(text) != 14 or not text.isdigit():
        raise ValueError(text)
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=CST).isoformat()


def objects_of(body: Any, kind: str) -> list[Any]:
    """The object list inside a VIID envelope; raises `InvalidEvent` naming the missing wrapper."""
    outer, inner = LISTS[kind]
    if not isinstance(body, dict) or not isinstance(body.get(outer), dict):
        raise InvalidEvent(f"{outer}: required object missing", field=outer)
    items = body[outer].get(inner)
    if not isinstance(items, list):
        raise InvalidEvent(f"{outer}.{inner}: required array missing", field=f"{outer}.{inner}")
    return items


def _req(obj: dict[str, Any], field: str) -> Any:
    value = obj.get(field)
    if value is None or value == "":
        raise InvalidEvent(f"{field}: field required", field=field)
    return value


def _number(obj: dict[str, Any], field: str) -> dict[str, float]:
    value = obj.get(field)
    if value is None or value == "":
        return {}
    try:
        return {field: float(value)}
    except (TypeError, ValueError):
        raise InvalidEvent(f"{field}: must be a number (got {str(value)[:40]!r})", field=field) from None


def vehicle_to_event(obj: Any, pz: Pseudonymizer) -> dict[str, Any]:
    """One MotorVehicleObject as an event; `Speed` becomes measurement `speed_kmh`.

    >>> pz = Pseudonymizer({"k1": b"secret-one"}, active_key_id="k1")
    >>> e = vehicle_to_event({"MotorVehicleID": "mv-1", "DeviceID": "cam-1", "PlateNo": "浙A12345",
    ...                       "Speed": "42", "PassTime": "20261121100000", "LaneNo": 2}, pz)
    >>> e["measurements"], e["attributes"]["plate_no"][:7], e["attributes"]["lane_no"], e["time"]
    ({'speed_kmh': 42.0}, 'ps1:k1:', 2, '2026-11-21T10:00:00+08:00')
    """
    if not isinstance(obj, dict):
        raise InvalidEvent("MotorVehicleObject: must be an object")
    speed = _number(obj, "Speed")
    attributes = {
        "plate_no": pz.pseudonym(str(obj["PlateNo"]), "plate") if obj.get("PlateNo") else None,
        "plate_color": obj.get("PlateColor"),
        "vehicle_class": obj.get("VehicleClass"),
        "vehicle_color": obj.get("VehicleColor"),
        "direction": obj.get("Direction"),
        "lane_no": obj.get("LaneNo"),
        "tollgate_id": obj.get("TollgateID"),
    }
    return {
        "id": str(_req(obj, "MotorVehicleID")),
        "source": SOURCE,
        "type": "vehicle",
        "category": "vehicle",
        "device_id": str(_req(obj, "DeviceID")),
        "time": viid_time(_req(obj, "PassTime"), "PassTime"),
        "measurements": {"speed_kmh": speed["Speed"]} if speed else {},
        "attributes": {k: v for k, v in attributes.items() if v is not None},
    }


def person_to_event(obj: Any, pz: Pseudonymizer) -> dict[str, Any]:
    """One PersonObject; the appearance time is `PersonAppearTime` (or `ShotTime`)."""
    if not isinstance(obj, dict):
        raise InvalidEvent("PersonObject: must be an object")
    when_field = "PersonAppearTime" if obj.get("PersonAppearTime") else "ShotTime"
    person = pz.pseudonym(str(_req(obj, "PersonID")), "person")
    attributes = {
        "person_id": person,
        "face_id": pz.pseudonym(str(obj["FaceID"]), "face") if obj.get("FaceID") else None,
        "id_number": pz.pseudonym(str(obj["IDNumber"]), "id_number") if obj.get("IDNumber") else None,
        "gender_code": obj.get("GenderCode"),
        "tollgate_id": obj.get("TollgateID"),
    }
    return {
        # PersonID identifies the record but may embed identity: its pseudonym is a stable dedup id.
        "id": person,
        "source": SOURCE,
        "type": "person",
        "category": "person",
        "device_id": str(_req(obj, "DeviceID")),
        "time": viid_time(_req(obj, when_field), when_field),
        "attributes": {k: v for k, v in attributes.items() if v is not None},
    }


def crowd_to_event(obj: Any) -> dict[str, Any]:
    """One CrowdCountObject: `CrowdCountID`, `DeviceID`, `Count`, optional `Density` (people/m²), `ShotTime`.

    >>> obj = {"CrowdCountID": "c-1", "DeviceID": "cam-1", "Count": 37, "ShotTime": "20261121100000"}
    >>> crowd_to_event(obj)["measurements"]
    {'count': 37.0}
    """
    if not isinstance(obj, dict):
        raise InvalidEvent("CrowdCountObject: must be an object")
    count = _number(obj, "Count")
    if not count:
        raise InvalidEvent("Count: field required", field="Count")
    density = _number(obj, "Density")
    return {
        "id": str(_req(obj, "CrowdCountID")),
        "source": SOURCE,
        "type": "crowd",
        "category": "crowd",
        "device_id": str(_req(obj, "DeviceID")),
        "time": viid_time(_req(obj, "ShotTime"), "ShotTime"),
        "measurements": {"count": count["Count"]} | ({"density": density["Density"]} if density else {}),
    }
