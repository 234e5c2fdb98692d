"""Response-time KPIs per department and period, computed in ClickHouse from alerts + transitions.

"Time to acknowledge" is the first human response (ack, dispatch, resolve or false-positive; the
escalation timer is not a human), "time to resolve" the first `resolved`. "Handled within 5 minutes"
is the share of all alerts of the period whose first response came within 300 s — the arrival-rate
figure city brains are judged by. The false-positive rate is over all alerts of the period.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from brain_api.security.roles import Principal
from streams.storage.base import Store

HANDLED_WITHIN_S = 300


class Period(StrEnum):
    hour = "hour"
    day = "day"
    week = "week"
    month = "month"


_BUCKET = {Period.hour: "toStartOfHour", Period.day: "toStartOfDay",
           Period.week: "toMonday", Period.month: "toStartOfMonth"}

KPI_SQL = """
SELECT a.department AS department, toDateTime({bucket}(a.created_at), 'UTC') AS period_start,
       count() AS alerts,
       quantileExact(0.5)(t.ack_s) AS ack_p50_s, quantileExact(0.9)(t.ack_s) AS ack_p90_s,
       quantileExact(0.5)(t.resolve_s) AS resolve_p50_s, quantileExact(0.9)(t.resolve_s) AS resolve_p90_s,
       countIf(t.ack_s <= {{within:UInt32}}) / count() AS handled_within_5min,
       countIf(t.false_positive = 1) / count() AS false_positive_rate
FROM (SELECT id, argMax(department, version) AS department, argMax(cell, version) AS cell,
             min(created_at) AS created_at
      FROM alerts GROUP BY id) AS a
LEFT JOIN (
    SELECT alert_id,
           dateDiff('millisecond', any(c.created_at),
                    minIf(toNullable(at), to_state != 'escalated' AND actor != 'system:escalation')) / 1000 AS ack_s,
           dateDiff('millisecond', any(c.created_at), minIf(toNullable(at), to_state = 'resolved')) / 1000 AS resolve_s,
           toUInt8(countIf(to_state = 'false_positive') > 0) AS false_positive
    FROM alert_transitions AS tr
    INNER JOIN (SELECT id, min(created_at) AS created_at FROM alerts GROUP BY id) AS c ON c.id = tr.alert_id
    GROUP BY alert_id
) AS t ON t.alert_id = a.id
WHERE a.created_at >= {{since:DateTime64(3, 'UTC')}} AND a.created_at < {{until:DateTime64(3, 'UTC')}}
  AND {scope} {department}
GROUP BY department, period_start
ORDER BY period_start, department
"""


def compute_kpis(
    store: Store, principal: Principal, *, since: datetime, until: datetime, period: Period,
    department: str | None = None,
) -> list[dict[str, Any]]:
    """One row per (department, period) with alerts in it; durations in seconds, rates in [0, 1]."""
    scope, params = principal.scope_sql(department_col="a.department", cell_col="a.cell")
    params.update(since=since, until=until, within=HANDLED_WITHIN_S)
    dept_cond = ""
    if department:
        dept_cond = "AND a.department = {department:String}"
        params["department"] = department
    sql = KPI_SQL.format(bucket=_BUCKET[period], scope=scope, department=dept_cond)
    return store.query(sql, params)
