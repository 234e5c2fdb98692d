"""`GET /api/v1/stats`: how much came in (per ingest adapter, this process) and what ClickHouse holds.

Ingest counters are this process's since start (`ingest.metrics`); stored counts are the whole database,
so the two differ by what is still in flight or was dead-lettered.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from brain_api.deps import StoreDep, rate_limit, require_roles
from brain_api.security.roles import Principal, Role
from ingest.metrics import ingest_stats

router = APIRouter(prefix="/api/v1", tags=["stats"])
Viewer = Annotated[Principal, require_roles(Role.operator, Role.engineer, Role.admin)]

COUNTS_SQL = """
SELECT (SELECT count() FROM events) AS events_stored,
       (SELECT count() FROM deadletters) AS dead_lettered,
       (SELECT count() FROM anomalies) AS anomalies,
       (SELECT uniqExact(id) FROM incidents) AS incidents,
       (SELECT uniqExact(id) FROM alerts) AS alerts
"""


class AdapterStats(BaseModel):
    received: int
    accepted: int
    rejected: int
    duplicates: int


class StatsPublic(BaseModel):
    ingest: dict[str, AdapterStats]
    events_accepted: int
    events_rejected: int
    events_duplicates: int
    events_stored: int
    dead_lettered: int
    anomalies: int
    incidents: int
    alerts: int
    sink: dict[str, Any] | None = None


@router.get("/stats", response_model=StatsPublic, dependencies=[rate_limit("stats")])
def read_stats(user: Viewer, store: StoreDep, request: Request) -> StatsPublic:
    per_adapter = ingest_stats()
    counts = store.query(COUNTS_SQL)[0]
    sink = getattr(request.app.state, "sink", None)
    return StatsPublic(
        ingest={k: AdapterStats(**v) for k, v in per_adapter.items()},
        events_accepted=sum(v["accepted"] for v in per_adapter.values()),
        events_rejected=sum(v["rejected"] for v in per_adapter.values()),
        events_duplicates=sum(v["duplicates"] for v in per_adapter.values()),
        sink=sink.stats() if sink is not None and hasattr(sink, "stats") else None,
        **{k: int(v) for k, v in counts.items()},
    )
