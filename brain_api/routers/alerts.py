"""Alerts: list with filters and cursor pages, one alert with evidence and history, and transitions.

Reads are scoped in SQL (a department its alerts, a grid worker its cells). Transitions go through
`Transitions` (per-alert lock + version check: of two simultaneous acks one gets 200, the other 409).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status

from brain_api.alerting.cursor import InvalidCursor
from brain_api.alerting.machine import Action, TransitionRefused
from brain_api.alerting.models import AlertDetail, AlertPublic, AlertsPublic, TransitionRequest
from brain_api.alerting.queries import AlertFilter, get_alert, history, list_alerts, related_event_ids
from brain_api.alerting.transitions import AlertNotFound, Transitions
from brain_api.deps import AuditDep, CacheDep, StoreDep, rate_limit, require_roles
from brain_api.response_cache import scope_key
from brain_api.security.roles import Principal, Role

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, require_roles()]
Worker = Annotated[Principal, require_roles(Role.operator, Role.department, Role.grid_worker, Role.admin)]
AlertId = Annotated[str, Path(min_length=1, max_length=128)]
#: Categories whose evidence may point at people (plates, faces): reading them is audited as personal data.
PERSONAL_CATEGORIES = frozenset({"security", "person", "vehicle"})


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    """`minLon,minLat,maxLon,maxLat` -> floats, or 422.

    >>> parse_bbox("120.0,30.0,120.5,30.5")
    (120.0, 30.0, 120.5, 30.5)
    """
    if not bbox:
        return None
    try:
        min_lon, min_lat, max_lon, max_lat = (float(x) for x in bbox.split(","))
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "bbox is minLon,minLat,maxLon,maxLat") from exc
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "bbox corners out of range or swapped")
    return min_lon, min_lat, max_lon, max_lat


@router.get("", response_model=AlertsPublic, dependencies=[rate_limit("alerts.list")])
async def read_alerts(
    user: Reader,
    store: StoreDep,
    cache: CacheDep,
    department: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 - FastAPI copies defaults
    category: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    severity: Annotated[list[str], Query(max_length=5)] = [],  # noqa: B006
    state: Annotated[list[str], Query(max_length=6)] = [],  # noqa: B006
    cell: Annotated[str | None, Query(max_length=32)] = None,
    device_id: Annotated[str | None, Query(max_length=128)] = None,
    bbox: Annotated[str | None, Query(max_length=200, description="minLon,minLat,maxLon,maxLat")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=600)] = None,
) -> Response:
    flt = AlertFilter(tuple(department), tuple(category), tuple(severity), tuple(state), cell, device_id,
                      parse_bbox(bbox), since, until)

    def page() -> bytes:
        try:
            rows, next_cursor = list_alerts(store, user, flt, limit=limit, cursor=cursor)
        except InvalidCursor as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        data = [AlertPublic.model_validate(r) for r in rows]
        return AlertsPublic(data=data, count=len(data), next_cursor=next_cursor).model_dump_json().encode()

    # the queue's first page is what every screen polls: shared per scope for a moment (see response_cache)
    body = await cache.serve(("alerts.list", scope_key(user), flt, limit, cursor), page)
    return Response(body, media_type="application/json")


@router.get("/{alert_id}", response_model=AlertDetail, responses={404: {"description": "no such alert"}})
def read_alert(alert_id: AlertId, user: Reader, store: StoreDep, audit: AuditDep) -> AlertDetail:
    alert = get_alert(store, alert_id)
    if alert is None or not user.can_see(department=alert["department"], cell=alert["cell"]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id!r}")
    audit.record(user, "alert.read", "alert", alert_id, personal_data=alert["category"] in PERSONAL_CATEGORIES)
    related = sorted({*related_event_ids(store, alert["incident_id"]), *(e["event_id"] for e in alert["evidence"])})
    return AlertDetail.model_validate({**alert, "history": history(store, alert_id), "related_event_ids": related})


class TransitionBody(TransitionRequest):
    expected_version: int | None = None


@router.post("/{alert_id}/{action}", response_model=AlertPublic,
             responses={404: {"description": "no such alert"}, 409: {"description": "state moved on"}})
def transition(
    alert_id: AlertId, action: Action, body: TransitionBody, request: Request, user: Worker, audit: AuditDep
) -> AlertPublic:
    transitions: Transitions = request.app.state.transitions
    try:
        alert = transitions.apply(user, alert_id, action, body.note, auditor=audit,
                                  expected_version=body.expected_version)
    except AlertNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id!r}") from exc
    except TransitionRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return AlertPublic.model_validate(alert)
