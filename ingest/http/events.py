"""`POST /api/v1/events` (CityEvent batches) and `POST /api/v1/heartbeats`.

Both take a JSON array, a single object or NDJSON, optionally gzip-compressed, up to
`max_batch_events` items. Partial failures answer 202 with per-item results; rejected items are
dead-lettered with their original bytes (identifiers scrubbed); a request with nothing usable is a 422.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Query, Request

from ingest.decode import DecodedBody
from ingest.errors import InvalidEvent
from ingest.feeds import heartbeat_to_event
from ingest.http.body import read_items
from ingest.http.deps import Ingest
from ingest.http.respond import IngestResponse, answer, run
from ingest.pipeline import Candidate
from ingest.registry import DeviceRegistry

events_router = APIRouter(prefix="/api/v1", tags=["ingest"])
_ALL = Query(default="failures", pattern="^(failures|all)$", description="'all' lists every item's result")


def _candidates(decoded: DecodedBody, registry: DeviceRegistry | None = None) -> list[Candidate]:
    out = []
    for item in decoded.items:
        raw = partial(decoded.raw, item.index)  # original bytes are sliced out only when rejected
        if item.error is not None:
            out.append(Candidate(raw, error=item.error))
        elif registry is None:
            out.append(Candidate(raw, value=item.value))
        else:
            try:
                out.append(Candidate(raw, value=heartbeat_to_event(item.value, registry)))
            except InvalidEvent as exc:
                out.append(Candidate(raw, error=exc.reason, field=exc.field))
    return out


@events_router.post("/events", status_code=202, response_model=IngestResponse)
async def post_events(request: Request, ctx: Ingest, results: str = _ALL) -> IngestResponse:
    """Ingest CityEvents. Example item: `{"id": "e-1", "source": "sim/traffic", "type": "reading",
    "time": "2026-11-21T10:00:00+08:00", "device_id": "tdet-0042", "category": "traffic",
    "measurements": {"speed_kmh": 42.0}}`."""
    decoded = await read_items(request, ctx.settings, "http")
    outcome = await run(ctx, "http", _candidates(decoded))
    return answer(outcome, all_items=results == "all")


@events_router.post("/heartbeats", status_code=202, response_model=IngestResponse)
async def post_heartbeats(request: Request, ctx: Ingest, results: str = _ALL) -> IngestResponse:
    """Device heartbeats: `{"device_id": "tdet-0042", "time": "...", "battery": 0.93, "status": "ok"}`;
    numbers become measurements, text becomes attributes."""
    decoded = await read_items(request, ctx.settings, "heartbeats")
    outcome = await run(ctx, "heartbeats", _candidates(decoded, ctx.registry))
    return answer(outcome, all_items=results == "all")
