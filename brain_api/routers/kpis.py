"""`GET /api/v1/kpis`: alerts, time to acknowledge/resolve (p50/p90), share handled within 5 minutes and
false-positive rate per department and period. A department token sees only its own department.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from brain_api.alerting.kpis import Period, compute_kpis
from brain_api.deps import StoreDep, rate_limit, require_roles
from brain_api.security.roles import Principal, Role

router = APIRouter(prefix="/api/v1", tags=["kpis"])
Viewer = Annotated[Principal, require_roles(Role.operator, Role.department, Role.engineer, Role.admin)]


class KpiRow(BaseModel):
    department: str
    period_start: datetime
    alerts: int
    ack_p50_s: float | None
    ack_p90_s: float | None
    resolve_p50_s: float | None
    resolve_p90_s: float | None
    handled_within_5min: float
    false_positive_rate: float


class KpisPublic(BaseModel):
    period: Period
    since: datetime
    until: datetime
    data: list[KpiRow]
    count: int


def _nan_to_none(value: float | None) -> float | None:
    return None if value is None or value != value else float(value)


@router.get("/kpis", response_model=KpisPublic, dependencies=[rate_limit("kpis")])
def read_kpis(
    user: Viewer,
    store: StoreDep,
    period: Period = Period.day,
    since: datetime | None = None,
    until: datetime | None = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
) -> KpisPublic:
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=7)
    if since.tzinfo is None or until.tzinfo is None:
        since, until = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (since, until))
    if since >= until:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "since must be before until")
    rows = compute_kpis(store, user, since=since, until=until, period=period, department=department)
    data = [KpiRow.model_validate({**r, **{k: _nan_to_none(r[k]) for k in
                                           ("ack_p50_s", "ack_p90_s", "resolve_p50_s", "resolve_p90_s")}})
            for r in rows]
    return KpisPublic(period=period, since=since, until=until, data=data, count=len(data))
