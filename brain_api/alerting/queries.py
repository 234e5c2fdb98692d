"""Reading alerts from ClickHouse: the current version of each alert joined with its derived state.

An alert's record is immutable (streams re-send it with version + 1 when severity rises) and its state is
the newest row of `alert_transitions` (none yet -> `open`). Every filter is a bound parameter; column names
and SQL text come only from this module, so user input can never become SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from brain_api.alerting.cursor import decode_cursor, encode_cursor
from brain_api.security.roles import Principal
from streams.storage.base import Store

_CURRENT = """
SELECT a.id AS id, a.incident_id AS incident_id, a.department AS department, a.category AS category,
       a.sub_category AS sub_category, a.severity AS severity, a.confidence AS confidence, a.title AS title,
       a.description AS description, a.cell AS cell, a.lat AS lat, a.lon AS lon, a.evidence AS evidence,
       a.created_at AS created_at, a.version AS version,
       if(t.state = '', 'open', t.state) AS state, t.state_version AS state_version,
       greatest(a.created_at, t.state_at) AS updated_at
FROM (SELECT * FROM alerts WHERE {alerts_where} ORDER BY id, version DESC LIMIT 1 BY id) AS a
LEFT JOIN (SELECT alert_id, argMax(to_state, version) AS state, toUInt32(max(version)) AS state_version,
                  max(at) AS state_at
           FROM alert_transitions WHERE {transitions_where} GROUP BY alert_id) AS t ON t.alert_id = a.id
"""
CURRENT_ALERTS = _CURRENT.format(alerts_where="1", transitions_where="1")
#: One alert: the id is applied inside both subqueries, so a detail view reads a few rows, not every alert.
ONE_ALERT = _CURRENT.format(alerts_where="id = {id:String}", transitions_where="alert_id = {id:String}")


@dataclass(frozen=True)
class AlertFilter:
    departments: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    cell: str | None = None
    device_id: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[list[str], dict[str, Any]]:
        """SQL conditions over CURRENT_ALERTS' columns and their bound values.

        >>> AlertFilter(states=("open",), cell="88309a553dfffff").where()[0]
        ['has({states:Array(String)}, state)', 'cell = {cell:String}']
        """
        conds: list[str] = []
        params: dict[str, Any] = {}
        for name, values in (("departments", self.departments), ("categories", self.categories),
                             ("severities", self.severities), ("states", self.states)):
            if values:
                column = {"departments": "department", "categories": "category", "severities": "severity",
                          "states": "state"}[name]
                conds.append(f"has({{{name}:Array(String)}}, {column})")
                params[name] = list(values)
        if self.cell:
            conds.append("cell = {cell:String}")
            params["cell"] = self.cell
        if self.device_id:
            conds.append("arrayExists(x -> JSONExtractString(x, 'device_id') = {device_id:String},"
                         " JSONExtractArrayRaw(evidence))")
            params["device_id"] = self.device_id
        if self.bbox:
            conds.append("lon BETWEEN {min_lon:Float64} AND {max_lon:Float64}"
                         " AND lat BETWEEN {min_lat:Float64} AND {max_lat:Float64}")
            params.update(zip(("min_lon", "min_lat", "max_lon", "max_lat"), self.bbox, strict=True))
        if self.since:
            conds.append("created_at >= {since:DateTime64(3, 'UTC')}")
            params["since"] = self.since
        if self.until:
            conds.append("created_at < {until:DateTime64(3, 'UTC')}")
            params["until"] = self.until
        return conds, params


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    evidence = orjson.loads(row.pop("evidence") or "[]")
    return {**row, "evidence": evidence, "created_at": _utc(row["created_at"]),
            "updated_at": _utc(row["updated_at"])}


def list_alerts(
    store: Store, principal: Principal, flt: AlertFilter, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of alerts visible to `principal`, newest first, and the cursor of the next page."""
    conds, params = flt.where()
    scope, scope_params = principal.scope_sql()
    conds.append(scope)
    params.update(scope_params)
    if cursor:
        at, last_id = decode_cursor(cursor)
        conds.append("(created_at, id) < ({cursor_at:DateTime64(3, 'UTC')}, {cursor_id:String})")
        params.update(cursor_at=at, cursor_id=last_id)
    params["limit"] = limit + 1
    sql = (f"SELECT * FROM ({CURRENT_ALERTS}) WHERE {' AND '.join(conds)}"
           " ORDER BY created_at DESC, id DESC LIMIT {limit:UInt32}")
    rows = [_decode(r) for r in store.query(sql, params)]
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last["created_at"], last["id"])


def get_alert(store: Store, alert_id: str) -> dict[str, Any] | None:
    """The alert as it is now, whoever may see it (callers check the scope), or None."""
    rows = store.query(ONE_ALERT, {"id": alert_id})
    return _decode(rows[0]) if rows else None


def history(store: Store, alert_id: str) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT from_state, to_state, actor, note, at, version FROM alert_transitions"
        " WHERE alert_id = {id:String} ORDER BY version, at",
        {"id": alert_id},
    )
    return [{**r, "at": _utc(r["at"])} for r in rows]


def related_event_ids(store: Store, incident_id: str) -> list[str]:
    rows = store.query(
        "SELECT related_event_ids FROM incidents WHERE id = {id:String} ORDER BY version DESC LIMIT 1",
        {"id": incident_id},
    )
    return list(rows[0]["related_event_ids"]) if rows else []



def current_state(store: Store, alert_id: str) -> tuple[str, int]:
    """(state, number of transitions) of one alert; ('open', 0) before anyone acted on it."""
    rows = store.query(
        # the alias must not be `version`: ClickHouse would resolve argMax's `version` to it (nested aggregate)
        "SELECT argMax(to_state, version) AS state, toUInt32(max(version)) AS transitions"
        " FROM alert_transitions WHERE alert_id = {id:String}",
        {"id": alert_id},
    )
    if not rows or not rows[0]["transitions"]:
        return "open", 0
    return rows[0]["state"], int(rows[0]["transitions"])
