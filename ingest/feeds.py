"""Small feeds -> CityEvent-shaped dicts: device heartbeats, citizen reports, MQTT readings. Pure, no I/O.

Each translator keeps the sender's vocabulary at the edge: numeric fields become measurements, text
becomes attributes, identifiers (a reporter's phone) become pseudonyms. Ids that the sender did not
give are derived from device and time, so a re-sent reading (MQTT QoS 1 redelivery) is a duplicate.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ingest.errors import InvalidEvent
from ingest.pseudonym import Pseudonymizer
from ingest.registry import DeviceRegistry

_RESERVED = {"id", "device_id", "time", "lat", "lon", "value"}


def _stamp(time: object) -> str:
    """A compact UTC time for derived ids; unparseable times keep their alphanumerics (rejected later).

    >>> _stamp("2026-11-21T10:00:00+08:00"), _stamp("soon!")
    ('20261121T020000.000000Z', 'soon')
    """
    try:
        when = datetime.fromisoformat(str(time))
        return (when.astimezone(UTC) if when.tzinfo else when).strftime("%Y%m%dT%H%M%S.%fZ")
    except ValueError:
        return "".join(c for c in str(time) if c.isalnum())[:40]


def _split(fields: dict[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
    measurements, attributes = {}, {}
    for key, value in fields.items():
        if key in _RESERVED:
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            measurements[key] = float(value)
        elif isinstance(value, str | bool) or value is None:
            attributes[key] = value
    return measurements, attributes


def heartbeat_to_event(obj: Any, registry: DeviceRegistry) -> dict[str, Any]:
    """`{"device_id", "time", ...numbers (battery, signal_dbm), ...text (status)}` -> heartbeat event.

    >>> hb = {"device_id": "tdet-1", "time": "2026-11-21T10:00:00+08:00", "battery": 0.9}
    >>> e = heartbeat_to_event(hb, DeviceRegistry())
    >>> e["id"], e["category"], e["measurements"]
    ('hb-tdet-1-20261121T020000.000000Z', 'device', {'battery': 0.9})
    """
    if not isinstance(obj, dict):
        raise InvalidEvent("heartbeat: must be a JSON object")
    device_id, time = obj.get("device_id"), obj.get("time")
    if not device_id or not time:
        missing = "device_id" if not device_id else "time"
        raise InvalidEvent(f"{missing}: field required", field=missing)
    device = registry.get(str(device_id))
    measurements, attributes = _split(obj)
    return {
        "id": obj.get("id") or f"hb-{device_id}-{_stamp(time)}",
        "source": "heartbeat",
        "type": "heartbeat",
        "category": device.category.value if device else "device",
        "device_id": device_id,
        "time": time,
        "measurements": measurements,
        "attributes": attributes,
    }


def report_to_event(obj: Any, pz: Pseudonymizer, now: datetime | None = None) -> dict[str, Any]:
    """A 12345-hotline style report: `category`, `text`, location (`lat`/`lon` or `location`), optional phone.

    >>> pz = Pseudonymizer({"k1": b"secret-one"}, active_key_id="k1")
    >>> e = report_to_event({"id": "r-1", "category": "traffic_accident", "text": "两车相撞",
    ...                      "location": {"lat": 30.27, "lon": 120.15}, "reporter_phone": "13800138000"}, pz)
    >>> e["lat"], e["attributes"]["report_category"], e["attributes"]["reporter_phone"][:7]
    (30.27, 'traffic_accident', 'ps1:k1:')
    """
    if not isinstance(obj, dict):
        raise InvalidEvent("report: must be a JSON object")
    for name in ("category", "text"):
        if not isinstance(obj.get(name), str) or not obj[name].strip():
            raise InvalidEvent(f"{name}: field required (non-empty text)", field=name)
    where = obj.get("location") if isinstance(obj.get("location"), dict) else obj
    lat, lon = where.get("lat"), where.get("lon")
    if (
        (where.get("crs") or obj.get("crs")) == "gcj02"
        and isinstance(lat, int | float)
        and isinstance(lon, int | float)
    ):
        from ingest.geo import gcj02_to_wgs84

        lat, lon = gcj02_to_wgs84(lat, lon)
    phone = obj.get("reporter_phone")
    attributes = {
        "report_category": obj["category"].strip(),
        "text": obj["text"],
        "channel": obj.get("channel", "12345"),
        "reporter_phone": pz.pseudonym(str(phone), "phone") if phone else None,
    }
    return {
        "id": obj.get("id") or f"r-{uuid.uuid4().hex}",
        "source": "citizen/12345",
        "type": "report",
        "category": "citizen",
        "time": obj.get("time") or (now or datetime.now(UTC)).isoformat(),
        "lat": lat,
        "lon": lon,
        "attributes": {k: v for k, v in attributes.items() if v is not None},
    }


def mqtt_to_event(topic: str, payload: Any, received: datetime) -> dict[str, Any]:
    """A reading on `city/<category>/<device_id>/<metric...>`.

    Payload: a number (the metric's value), `{"value": x, "time"?}`, or an object of several numeric
    fields (each a measurement). The last topic level `heartbeat` makes it a heartbeat.

    >>> t = datetime(2026, 11, 21, 2, tzinfo=UTC)
    >>> e = mqtt_to_event("city/water/wl-7/level/m", {"value": 2.5, "time": "2026-11-21T10:00:00+08:00"}, t)
    >>> e["device_id"], e["measurements"], e["id"]
    ('wl-7', {'level_m': 2.5}, 'wl-7-level_m-20261121T020000.000000Z')
    """
    levels = topic.split("/")
    if len(levels) < 4 or levels[0] != "city" or not all(levels[1:4]):
        raise InvalidEvent(
            f"topic: expected city/<category>/<device_id>/<metric> (got {topic[:80]!r})", field="topic"
        )
    category, device_id, metric = levels[1], levels[2], "_".join(levels[3:])
    fields = payload if isinstance(payload, dict) else {"value": payload}
    if isinstance(fields.get("value"), bool) or (
        "value" in fields and not isinstance(fields["value"], int | float)
    ):
        raise InvalidEvent(f"value: must be a number (got {str(fields.get('value'))[:40]!r})", field="value")
    measurements, attributes = _split(fields)
    if "value" in fields:
        measurements[metric] = float(fields["value"])
    time = fields.get("time") or received.isoformat()
    kind = "heartbeat" if metric == "heartbeat" else "reading"
    event = {
        "id": fields.get("id") or f"{device_id}-{metric}-{_stamp(time)}",
        "source": f"mqtt/{category}",
        "type": kind,
        "category": category,
        "device_id": device_id,
        "time": time,
        "measurements": measurements,
        "attributes": attributes,
    }
    if fields.get("lat") is not None or fields.get("lon") is not None:
        event |= {"lat": fields.get("lat"), "lon": fields.get("lon")}
    return event
