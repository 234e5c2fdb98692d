"""`POST /api/v1/reports`: citizen reports, 12345-hotline style.

Body: one report or an array/NDJSON of them — `{"id"?, "category": "traffic_accident", "text": "...",
"lat", "lon" (or "location": {"lat", "lon"}), "crs"?: "gcj02", "reporter_phone"?, "time"?}`. The phone
number is pseudonymised before the report is published; the text is kept as written.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request

from ingest.errors import InvalidEvent
from ingest.feeds import report_to_event
from ingest.http.body import read_items
from ingest.http.deps import Ingest
from ingest.http.respond import IngestResponse, answer, run
from ingest.pipeline import Candidate

reports_router = APIRouter(prefix="/api/v1", tags=["ingest"])


@reports_router.post("/reports", status_code=202, response_model=IngestResponse)
async def post_reports(request: Request, ctx: Ingest) -> IngestResponse:
    """Accept citizen reports; 422 naming the field when a single report is unusable."""
    decoded = await read_items(request, ctx.settings, "reports")
    candidates = []
    for item in decoded.items:
        raw = partial(decoded.raw, item.index)
        if item.error is not None:
            candidates.append(Candidate(raw, error=item.error))
            continue
        try:
            candidates.append(Candidate(raw, value=report_to_event(item.value, ctx.pseudonymizer)))
        except InvalidEvent as exc:
            candidates.append(Candidate(raw, error=exc.reason, field=exc.field))
    return answer(await run(ctx, "reports", candidates), all_items=True)
