"""The device registry over HTTP: list, read, put, delete, and bulk import from CSV or GeoJSON.

Every change is published to `citybrain.devices.v1` first and applied to the in-process registry only
once Kafka acknowledged it, so the registry never holds a change the durable copy will not get.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ingest.errors import BrokerUnavailable, InvalidEvent
from ingest.events import Category
from ingest.http.body import read_body
from ingest.http.deps import Ingest, IngestContext
from ingest.registry import Device, device_record
from ingest.registry_io import parse_devices

devices_router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


class DeviceIn(BaseModel):
    """A device as written by an operator; the id comes from the path, the cell is derived."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=128)
    category: Category
    lat: float = Field(ge=-90.0, le=90.0)
    lon: float = Field(ge=-180.0, le=180.0)
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    department: str = "city-management"
    interval_s: float = Field(default=60.0, gt=0.0)
    name: str | None = None


class DevicesPublic(BaseModel):
    data: list[Device]
    count: int


class ImportResult(BaseModel):
    imported: int
    new: int


async def _publish(ctx: IngestContext, records: list[dict]) -> None:
    try:
        for record in records:
            await ctx.publisher.send_device(record)
    except BrokerUnavailable as exc:
        raise HTTPException(503, detail=f"event bus unavailable, registry unchanged: {exc}") from None


@devices_router.get("", response_model=DevicesPublic)
async def list_devices(
    ctx: Ingest, category: Category | None = None, department: str | None = None
) -> DevicesPublic:
    devices = [
        d
        for d in ctx.registry.all()
        if (category is None or d.category == category) and (department is None or d.department == department)
    ]
    return DevicesPublic(data=devices, count=len(devices))


@devices_router.get("/{device_id}", response_model=Device)
async def get_device(device_id: str, ctx: Ingest) -> Device:
    device = ctx.registry.get(device_id)
    if device is None:
        raise HTTPException(404, detail=f"device {device_id!r} is not registered")
    return device


@devices_router.put("/{device_id}", response_model=Device)
async def put_device(device_id: str, body: DeviceIn, ctx: Ingest, response: Response) -> Device:
    """Create or replace a device (201 when new). GCJ-02 coordinates (`crs: gcj02`) are converted."""
    try:
        device = Device.model_validate({**body.model_dump(), "device_id": device_id})
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    await _publish(ctx, [device_record(device)])
    response.status_code = 201 if ctx.registry.upsert(device) else 200
    return device


@devices_router.delete("/{device_id}", status_code=204)
async def delete_device(device_id: str, ctx: Ingest) -> Response:
    if device_id not in ctx.registry:
        raise HTTPException(404, detail=f"device {device_id!r} is not registered")
    await _publish(ctx, [device_record(device_id, deleted=True)])
    ctx.registry.delete(device_id)
    return Response(status_code=204)


@devices_router.post("/import", response_model=ImportResult)
async def import_devices(request: Request, ctx: Ingest) -> ImportResult:
    """Body: CSV (`device_id,type,category,lat,lon[,crs,department,interval_s,name]`) or a GeoJSON
    FeatureCollection of Points. All-or-nothing: one bad row rejects the file with its line number."""
    payload = await read_body(request, ctx.settings, "http")
    try:
        devices = parse_devices(payload, request.headers.get("content-type", ""))
    except (InvalidEvent, ValueError) as exc:
        raise HTTPException(422, detail=getattr(exc, "reason", None) or str(exc)) from None
    await _publish(ctx, [device_record(d) for d in devices])
    return ImportResult(imported=len(devices), new=ctx.registry.upsert_many(devices))
