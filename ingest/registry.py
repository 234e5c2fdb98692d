"""The device registry: which sensors and cameras exist, where (WGS84 + H3 cell), who owns them.

Adapters use it to place events whose feeds carry no coordinates (GA/T 1400 cameras), to flag events
from unknown devices, and the API edits it. Every change becomes a record on `citybrain.devices.v1`
(`device_record`) that the storage sink keeps in ClickHouse, so the registry here is a fast in-process
view and ClickHouse is the durable one. Coordinates given in GCJ-02 (`crs="gcj02"`) are converted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ingest.events import Category, Name
from ingest.geo import cell_of, gcj02_to_wgs84


class Device(BaseModel):
    """A registered device; `cell` is derived from the WGS84 location.

    >>> d = Device(device_id="cam-1", type="camera", category="crowd", lat=30.2717712, lon=120.1597945,
    ...            crs="gcj02", department="public-security", interval_s=15)
    >>> round(d.lat, 4), round(d.lon, 4), d.cell, d.crs
    (30.2741, 120.1551, '88309a553dfffff', 'wgs84')
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    device_id: Name
    type: Name
    category: Category
    lat: float = Field(ge=-90.0, le=90.0)
    lon: float = Field(ge=-180.0, le=180.0)
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    cell: str | None = None
    department: str = Field(default="city-management", min_length=1, max_length=64)
    interval_s: float = Field(default=60.0, gt=0.0, le=86400.0 * 7)
    name: str | None = Field(default=None, max_length=256)

    @model_validator(mode="after")
    def _to_wgs84(self) -> Device:
        if self.crs == "gcj02":
            lat, lon = gcj02_to_wgs84(self.lat, self.lon)
            object.__setattr__(self, "lat", lat)
            object.__setattr__(self, "lon", lon)
            object.__setattr__(self, "crs", "wgs84")
        object.__setattr__(self, "cell", cell_of(self.lat, self.lon))
        return self


def device_record(
    device: Device | str, *, deleted: bool = False, at: datetime | None = None
) -> dict[str, Any]:
    """The `citybrain.devices.v1` record (flat, keyed by device_id; latest `updated_at` wins).

    >>> device_record("tdet-1", deleted=True, at=datetime(2026, 1, 1, tzinfo=UTC))["deleted"]
    True
    """
    at = at or datetime.now(UTC)
    base: dict[str, Any] = {"device_id": device if isinstance(device, str) else device.device_id}
    if isinstance(device, Device):
        base |= device.model_dump(mode="json", exclude={"crs"})
    return base | {"deleted": deleted, "updated_at": at.isoformat()}


class DeviceRegistry:
    """Thread-safe in-memory registry (the MQTT bridge calls it from paho's thread)."""

    def __init__(self, devices: Iterable[Device] = ()) -> None:
        self._lock = threading.Lock()
        self._devices: dict[str, Device] = {d.device_id: d for d in devices}

    def __contains__(self, device_id: object) -> bool:
        return device_id in self._devices

    def __len__(self) -> int:
        return len(self._devices)

    def __iter__(self) -> Iterator[Device]:
        return iter(self.all())

    def get(self, device_id: str) -> Device | None:
        return self._devices.get(device_id)

    def all(self) -> list[Device]:
        with self._lock:
            return sorted(self._devices.values(), key=lambda d: d.device_id)

    def upsert(self, device: Device) -> bool:
        """Add or replace; True when the device is new."""
        with self._lock:
            new = device.device_id not in self._devices
            self._devices[device.device_id] = device
            return new

    def upsert_many(self, devices: Iterable[Device]) -> int:
        with self._lock:
            before = len(self._devices)
            self._devices.update((d.device_id, d) for d in devices)
            return len(self._devices) - before

    def delete(self, device_id: str) -> bool:
        with self._lock:
            return self._devices.pop(device_id, None) is not None
