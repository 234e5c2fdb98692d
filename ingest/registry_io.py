"""Load devices from the files cities keep them in: CSV exports and GeoJSON point layers.

CSV columns: `device_id,type,category,lat,lon[,crs,department,interval_s,name]` (header required).
GeoJSON: a FeatureCollection of Points whose properties carry the same fields; coordinates are
`[lon, lat]` as GeoJSON says, and `properties.crs` may say `gcj02`. Every bad row is reported with its
line or feature number, so one typo does not hide behind a generic error.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from ingest.errors import InvalidEvent
from ingest.registry import Device

_OPTIONAL = ("crs", "department", "interval_s", "name")


def parse_csv(text: str) -> list[Device]:
    """Devices from CSV text.

    >>> text = "device_id,type,category,lat,lon\\ntdet-1,detector,traffic,30.2741,120.1551\\n"
    >>> [d.cell for d in parse_csv(text)]
    ['88309a553dfffff']
    """
    devices, errors = [], []
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        fields = {k.strip(): v.strip() for k, v in row.items() if k and v is not None and v.strip() != ""}
        try:
            devices.append(Device.model_validate(fields))
        except ValidationError as exc:
            errors.append(f"line {line}: {_first_error(exc)}")
    _raise_if(errors)
    return devices


def parse_geojson(data: bytes | str | dict[str, Any]) -> list[Device]:
    """Devices from a GeoJSON FeatureCollection of Points.

    >>> fc = {"type": "FeatureCollection", "features": [{"type": "Feature",
    ...   "geometry": {"type": "Point", "coordinates": [120.1551, 30.2741]},
    ...   "properties": {"device_id": "aq-1", "type": "aq", "category": "air", "department": "environment"}}]}
    >>> parse_geojson(fc)[0].department
    'environment'
    """
    doc = data if isinstance(data, dict) else orjson.loads(data)
    if doc.get("type") != "FeatureCollection":
        raise InvalidEvent("GeoJSON must be a FeatureCollection", field="type", value=doc.get("type"))
    devices, errors = [], []
    for n, feature in enumerate(doc.get("features") or []):
        geometry = feature.get("geometry") or {}
        if geometry.get("type") != "Point":
            errors.append(f"feature {n}: geometry must be a Point")
            continue
        lon, lat = (geometry.get("coordinates") or [None, None])[:2]
        try:
            devices.append(
                Device.model_validate({**(feature.get("properties") or {}), "lat": lat, "lon": lon})
            )
        except ValidationError as exc:
            errors.append(f"feature {n}: {_first_error(exc)}")
    _raise_if(errors)
    return devices


def parse_devices(payload: bytes, content_type: str = "") -> list[Device]:
    """CSV or GeoJSON, by content type or, failing that, by the first byte."""
    text = payload.decode("utf-8-sig")
    if "json" in content_type or text.lstrip().startswith("{"):
        return parse_geojson(text)
    return parse_csv(text)


def load_devices(path: str | Path) -> list[Device]:
    path = Path(path)
    return parse_devices(path.read_bytes(), "json" if path.suffix in {".json", ".geojson"} else "csv")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(map(str, err["loc"])) or "device"
    return f"{where}: {err['msg']}"


def _raise_if(errors: list[str]) -> None:
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise InvalidEvent("; ".join(errors[:5]) + more)
