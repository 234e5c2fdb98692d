"""Run the pipeline for a router and shape the answer: 202 with counts, 422 when nothing was taken, 503.

Public response models live here so OpenAPI documents one shape for every ingest endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from fastapi import HTTPException
from pydantic import BaseModel

from ingest import metrics
from ingest.errors import BrokerUnavailable
from ingest.http.deps import IngestContext
from ingest.pipeline import Candidate, Outcome


class ItemResultPublic(BaseModel):
    index: int
    status: Literal["accepted", "rejected", "duplicate"]
    id: str | None = None
    reason: str | None = None
    field: str | None = None
    flags: list[str] = []


class IngestResponse(BaseModel):
    """Counts for the whole request; `results` lists the items that were not simply accepted
    (rejected, duplicate, or accepted with flags such as `unknown_device`) — all items with `?results=all`."""

    accepted: int
    rejected: int
    duplicates: int
    results: list[ItemResultPublic]


async def run(ctx: IngestContext, adapter: str, candidates: Sequence[Candidate]) -> Outcome:
    try:
        return await ctx.pipeline.ingest(adapter, candidates)
    except BrokerUnavailable as exc:
        metrics.record_refused(adapter, "broker_unavailable")
        raise HTTPException(
            503, detail=f"event bus unavailable, nothing was accepted; retry: {exc}"
        ) from None


def answer(outcome: Outcome, *, all_items: bool = False) -> IngestResponse:
    """202 body, or a 422 naming the first bad field when not a single item was accepted or known."""
    body = outcome.public(all_items=all_items)
    if outcome.rejected and not outcome.accepted and not outcome.duplicates:
        first = next(r for r in outcome.results if r.status == "rejected")
        raise HTTPException(
            422, detail={"message": f"nothing accepted: {first.reason}", "field": first.field, **body}
        )
    return IngestResponse.model_validate(body)
