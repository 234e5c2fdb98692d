"""`GET /api/v1/devices/{device_id}/series`: one device metric over a window, with the anomalies scored on it.

The alert detail panel draws this as the evidence sparkline: the raw series, the detector's baseline
(`expected` of each anomaly) and the points judged anomalous, so an operator sees at a glance whether an
alert is a real departure or noise. Reads are bounded (`limit` newest points) and scoped like every other
read: a grid worker sees only devices in its cells, a department only its categories. Series of
categories that describe people (wearables) are personal data and their reads are audited as such.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import AwareDatetime, BaseModel

from brain_api.deps import AuditDep, CurrentUser, StoreDep, rate_limit

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])
PERSONAL_CATEGORIES = frozenset({"wearable", "person", "vehicle"})
Name = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:/@+\-]+$")]
Metric = Annotated[str, Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:/@+\-]+$")]


class SeriesPoint(BaseModel):
    time: datetime
    value: float


class SeriesAnomaly(BaseModel):
    time: datetime
    observed: float
    expected: float
    score: float
    detector: str


class SeriesPublic(BaseModel):
    device_id: str
    metric: str
    since: datetime
    until: datetime
    points: list[SeriesPoint]
    anomalies: list[SeriesAnomaly]
    count: int


_POINTS = """
SELECT time, measurements[{metric:String}] AS value, category
FROM events
WHERE device_id = {device_id:String} AND mapContains(measurements, {metric:String})
  AND time >= {since:DateTime64(3, 'UTC')} AND time <= {until:DateTime64(3, 'UTC')} AND (%s)
ORDER BY time DESC
LIMIT 1 BY time
LIMIT {limit:UInt32}
"""

_ANOMALIES = """
SELECT time, observed, expected, score, detector
FROM anomalies
WHERE device_id = {device_id:String} AND metric = {metric:String}
  AND time >= {since:DateTime64(3, 'UTC')} AND time <= {until:DateTime64(3, 'UTC')} AND (%s)
ORDER BY time
LIMIT 1 BY time, detector
LIMIT 500
"""


@router.get("/{device_id}/series", response_model=SeriesPublic, dependencies=[rate_limit("series")],
            responses={404: {"description": "no readings of this metric in the window, or not in scope"}})
def device_series(
    device_id: Name,
    user: CurrentUser,
    store: StoreDep,
    audit: AuditDep,
    metric: Metric,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=10, le=5000)] = 1000,
) -> SeriesPublic:
    until = until or datetime.now(UTC)
    since = since or until - timedelta(hours=2)
    if since >= until:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "since must be before until")
    scope, scope_params = user.scope_sql(department_col=None, category_col="category")
    params = {"device_id": device_id, "metric": metric, "since": since, "until": until, **scope_params}
    rows = store.query(_POINTS % scope, {**params, "limit": limit})
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {metric!r} readings of {device_id!r} in the window")
    anomalies = store.query(_ANOMALIES % scope, params)
    audit.record(user, "device.series", "device", device_id,
                 personal_data=rows[0]["category"] in PERSONAL_CATEGORIES, detail={"metric": metric})
    points = [SeriesPoint(time=r["time"], value=r["value"]) for r in reversed(rows)]
    return SeriesPublic(device_id=device_id, metric=metric, since=since, until=until, points=points,
                        anomalies=[SeriesAnomaly.model_validate(a) for a in anomalies], count=len(points))
