"""GA/T 1400 (视图库) endpoints: `POST /VIID/MotorVehicles`, `/VIID/Persons`, `/VIID/CrowdCounts`.

Answers use the standard's `ResponseStatusListObject` with one `ResponseStatusObject` per record
(StatusCode 0 OK, 7 invalid JSON format, 8 invalid JSON content). Camera positions come from the device
registry, since VIID records name a DeviceID but carry no coordinates.

Crowd counts are not in GA/T 1400; we follow its naming: `POST /VIID/CrowdCounts` with
`{"CrowdCountListObject": {"CrowdCountObject": [{"CrowdCountID", "DeviceID", "Count", "Density"?,
"ShotTime"}]}}` (Count in people, Density in people/m², ShotTime `yyyyMMddHHmmss`).
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ingest import viid
from ingest.decode import gunzip
from ingest.errors import BatchTooLarge, InvalidEvent
from ingest.http.body import is_gzip, read_body, too_large
from ingest.http.deps import Ingest, IngestContext
from ingest.http.respond import run
from ingest.pipeline import Candidate

viid_router = APIRouter(prefix="/VIID", tags=["ingest", "GA/T 1400"])
OK, INVALID_FORMAT, INVALID_CONTENT = 0, 7, 8


def _status(url: str, code: int, text: str, record_id: str | None = None) -> dict[str, Any]:
    return {
        "RequestURL": url,
        "StatusCode": code,
        "StatusString": text,
        "Id": record_id or "",
        "LocalTime": datetime.now(viid.CST).strftime("%Y%m%d%H%M%S"),
    }


def _reply(statuses: list[dict[str, Any]], http_status: int = 200) -> JSONResponse:
    return JSONResponse(
        {"ResponseStatusListObject": {"ResponseStatusObject": statuses}}, status_code=http_status
    )


async def _handle(request: Request, ctx: IngestContext, kind: str, adapter: str) -> JSONResponse:
    url = request.url.path
    body = await read_body(request, ctx.settings, adapter)
    try:
        parsed = orjson.loads(gunzip(body, ctx.settings.max_body_bytes) if is_gzip(request) else body)
        objects = viid.objects_of(parsed, kind)
    except BatchTooLarge as exc:
        raise too_large(adapter, str(exc)) from None
    except (ValueError, zlib.error, InvalidEvent) as exc:
        reason = exc.reason if isinstance(exc, InvalidEvent) else f"invalid JSON: {str(exc).split(':')[0]}"
        code = INVALID_CONTENT if isinstance(exc, InvalidEvent) else INVALID_FORMAT
        await run(ctx, adapter, [Candidate(body, error=reason, field=getattr(exc, "field", None))])
        return _reply([_status(url, code, reason)], 400)
    if len(objects) > ctx.settings.max_batch_events:
        raise too_large(adapter, f"{len(objects)} records; at most {ctx.settings.max_batch_events}")
    candidates = []
    for obj in objects:
        raw = orjson.dumps(obj)  # the record as sent, re-serialised out of its envelope
        try:
            if kind == "vehicles":
                value = viid.vehicle_to_event(obj, ctx.pseudonymizer)
            elif kind == "persons":
                value = viid.person_to_event(obj, ctx.pseudonymizer)
            else:
                value = viid.crowd_to_event(obj)
            candidates.append(Candidate(raw, value=value))
        except InvalidEvent as exc:
            candidates.append(Candidate(raw, error=exc.reason, field=exc.field))
    outcome = await run(ctx, adapter, candidates)
    statuses = [
        _status(
            url,
            INVALID_CONTENT if r.status == "rejected" else OK,
            r.reason or ("OK (duplicate)" if r.status == "duplicate" else "OK"),
            r.id,
        )
        for r in outcome.results
    ]
    return _reply(statuses, 200 if outcome.accepted or outcome.duplicates or not objects else 400)


@viid_router.post("/MotorVehicles")
async def post_motor_vehicles(request: Request, ctx: Ingest) -> JSONResponse:
    """`{"MotorVehicleListObject": {"MotorVehicleObject": [{"MotorVehicleID", "DeviceID", "PlateNo",
    "PassTime": "yyyyMMddHHmmss", "Speed", ...}]}}`; PlateNo is pseudonymised before publishing."""
    return await _handle(request, ctx, "vehicles", "viid-vehicles")


@viid_router.post("/Persons")
async def post_persons(request: Request, ctx: Ingest) -> JSONResponse:
    """`{"PersonListObject": {"PersonObject": [{"PersonID", "DeviceID", "PersonAppearTime", ...}]}}`."""
    return await _handle(request, ctx, "persons", "viid-persons")


@viid_router.post("/CrowdCounts")
async def post_crowd_counts(request: Request, ctx: Ingest) -> JSONResponse:
    """Crowd counts per camera (our extension, VIID naming); see the module docstring."""
    return await _handle(request, ctx, "crowd", "viid-crowd")
