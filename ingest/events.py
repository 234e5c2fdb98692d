"""`CityEvent`: the one envelope every feed is turned into, CloudEvents-style.

Built by ingest, carried on Kafka as JSON bytes (a single object, or a JSON array in CloudEvents batch
mode), validated once at the boundary, then stored and served unchanged. `(source, id)` is the dedup key.
Personal identifiers never travel in clear: attribute keys listed in `PII_KEYS` must hold pseudonyms
(see `ingest.pseudonym`), and the envelope refuses anything else.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from ingest.geo import cell_of

SCHEMA_VERSION = 1
PSEUDONYM_PREFIX = "ps1:"
#: Attribute keys that carry personal identifiers; their values must be pseudonyms.
PII_KEYS = frozenset({"plate_no", "person_id", "face_id", "phone", "id_number", "reporter_phone"})
MAX_FUTURE_SKEW = timedelta(minutes=5)

Name = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:/@+\-]+$")]
AttrValue = str | int | float | bool | None


class EventType(StrEnum):
    reading = "reading"  # sensor measurements
    heartbeat = "heartbeat"  # device is alive (and maybe its battery, signal)
    vehicle = "vehicle"  # GA/T 1400 MotorVehicle record
    person = "person"  # GA/T 1400 Person record
    crowd = "crowd"  # crowd count from a camera
    report = "report"  # citizen report (12345 hotline style)


class Category(StrEnum):
    traffic = "traffic"
    air = "air"
    water = "water"
    manhole = "manhole"
    fire = "fire"
    wearable = "wearable"
    vehicle = "vehicle"
    person = "person"
    crowd = "crowd"
    citizen = "citizen"
    device = "device"


class CityEvent(BaseModel):
    """One thing the city sensed. Frozen: stages derive new records instead of editing events.

    >>> e = CityEvent(id="e-1", source="sim/traffic", type="reading", time="2026-11-21T10:00:00+08:00",
    ...               device_id="tdet-0042", lat=30.2741, lon=120.1551, category="traffic",
    ...               measurements={"speed_kmh": 42.0})
    >>> e.cell
    '88309a553dfffff'
    >>> e.key
    'sim/traffic|e-1'
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    schema_version: int = SCHEMA_VERSION
    id: Name
    source: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    type: EventType
    time: AwareDatetime
    device_id: Name | None = None
    lat: float | None = Field(default=None, ge=-90.0, le=90.0)
    lon: float | None = Field(default=None, ge=-180.0, le=180.0)
    cell: str | None = Field(default=None, max_length=32)
    category: Category
    measurements: dict[Name, float] = Field(default_factory=dict, max_length=64)
    attributes: dict[Name, AttrValue] = Field(default_factory=dict, max_length=64)
    flags: tuple[Name, ...] = ()
    received_at: AwareDatetime | None = None

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v != SCHEMA_VERSION:
            raise ValueError(f"schema_version {v} is not served by this topic (expects {SCHEMA_VERSION})")
        return v

    @field_validator("measurements")
    @classmethod
    def _finite(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not math.isfinite(x):
                raise ValueError(f"measurement {k!r} must be a finite number")
        return v

    @field_validator("attributes")
    @classmethod
    def _no_clear_identifiers(cls, v: dict[str, AttrValue]) -> dict[str, AttrValue]:
        for k in PII_KEYS.intersection(v):
            value = v[k]
            if value is not None and not (isinstance(value, str) and value.startswith(PSEUDONYM_PREFIX)):
                raise ValueError(f"attribute {k!r} is a personal identifier and must be pseudonymised")
        for k, value in v.items():
            if isinstance(value, str) and len(value) > 2000:
                raise ValueError(f"attribute {k!r} longer than 2000 characters")
        return v

    @field_validator("time")
    @classmethod
    def _not_far_future(cls, v: datetime) -> datetime:
        if v - datetime.now(UTC) > MAX_FUTURE_SKEW:
            raise ValueError("time is more than 5 minutes in the future")
        return v

    @model_validator(mode="after")
    def _derive(self) -> CityEvent:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together")
        if self.device_id is None and self.type is not EventType.report:
            raise ValueError("device_id is required for every event type but 'report'")
        if self.cell is None and self.lat is not None and self.lon is not None:
            object.__setattr__(self, "cell", cell_of(self.lat, self.lon))
        return self

    @property
    def key(self) -> str:
        """The dedup key, CloudEvents-style: source + id."""
        return f"{self.source}|{self.id}"

    @property
    def partition_key(self) -> str:
        """Events of one device stay in one partition (order, detector state): key by device."""
        return self.device_id or self.cell or self.source
