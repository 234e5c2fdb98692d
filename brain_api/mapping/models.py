"""GeoJSON response models of the map endpoints (RFC 7946, with a `meta` foreign member).

Coordinates are `[lon, lat]`. `meta` tells the client how the answer was shaped (resolution, clustering,
whether the feature cap cut it), so a map can say "zoom in for more" instead of silently showing less.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

StatusName = Literal["normal", "warning", "alert"]


class PointGeometry(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class PolygonGeometry(BaseModel):
    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[tuple[float, float]]]


class CellProperties(BaseModel):
    cell: str = Field(description="H3 index; resolution 8 when zoomed in, a parent cell when zoomed out")
    resolution: int
    status: StatusName
    open_alerts: int
    open_incidents: int
    metric: str | None = Field(description="the metric `heat` is the mean of; null: heat counts readings")
    heat: float | None = Field(description="mean of `metric` over the window, or readings when no metric")
    readings: int = Field(description="readings (of `metric`, if given) in the window")
    devices: int = Field(description="distinct devices that reported in the window")


class CellFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PolygonGeometry
    properties: CellProperties


class CellsMeta(BaseModel):
    zoom: int
    resolution: int
    minutes: int
    total: int = Field(description="cells with data or open alerts in the bbox, before the cap")
    truncated: bool


class CellCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[CellFeature]
    meta: CellsMeta


class DeviceProperties(BaseModel):
    kind: Literal["device", "cluster"]
    count: int = Field(description="devices behind this feature (1 for a device)")
    status: StatusName = Field(description="the worst status among them")
    device_id: str | None = None
    name: str | None = None
    category: str | None = None
    cell: str | None = None
    bbox: tuple[float, float, float, float] | None = Field(
        default=None, description="extent of a cluster's devices, to zoom to on click"
    )


class DeviceFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: DeviceProperties


class DevicesMeta(BaseModel):
    zoom: int
    clustered: bool
    grid_step_deg: float | None = Field(description="size of a cluster square; null when not clustered")
    total: int = Field(description="devices in the bbox and the caller's scope")
    truncated: bool


class DeviceCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[DeviceFeature]
    meta: DevicesMeta
