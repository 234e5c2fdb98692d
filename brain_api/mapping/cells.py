"""The cell layer: H3 hexagons with status, open incidents and heat, for one viewport.

ClickHouse does the heavy part (re-aggregating the per-minute rollup over the window, finding open
alerts) per resolution-8 cell; Python then keeps the cells in the bbox and merges them into the parent
resolution the zoom calls for. The H3 arithmetic stays in Python on purpose: a feed may send any string
as `cell`, and ClickHouse's `stringToH3` throws on junk where `h3.is_valid_cell` just says no.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import h3

from brain_api.mapping.status import MapStatus, open_alerts_sql
from brain_api.mapping.viewport import BBox, cell_resolution
from brain_api.security.roles import Principal
from ingest.geo import cell_polygon
from streams.storage.base import Store

Rows = list[dict[str, Any]]


@dataclass
class _Cell:
    readings: int = 0
    total: float = 0.0
    devices: int = 0
    open_alerts: int = 0
    open_incidents: int = 0
    status: MapStatus = MapStatus.normal


@lru_cache(maxsize=1 << 17)
def _center_and_parent(cell: str, resolution: int) -> tuple[float, float, str] | None:
    if not h3.is_valid_cell(cell) or h3.get_resolution(cell) < resolution:
        return None
    lat, lon = h3.cell_to_latlng(cell)
    parent = h3.cell_to_parent(cell, resolution) if resolution < h3.get_resolution(cell) else cell
    return lat, lon, parent


def _activity(store: Store, principal: Principal, metric: str | None, since: datetime) -> Rows:
    """Readings and their sum per cell from the minute rollup; distinct devices from `events` over the same
    window (the minute rollup keeps no device state: migration 0023)."""
    scope, params = principal.scope_sql(department_col=None, category_col="category")
    where, has_metric = "minute >= {since:DateTime} AND cell != ''", ""
    if metric:
        where += " AND metric = {metric:String}"
        has_metric = " AND mapContains(measurements, {metric:String})"
        params = {**params, "metric": metric}
    params = {**params, "since": since}
    rows = store.query(
        "SELECT cell, sum(n) AS readings, sum(total) AS total"
        f" FROM rollup_cell_minute WHERE {where} AND ({scope}) GROUP BY cell",
        params,
    )
    devices = {r["cell"]: r["devices"] for r in store.query(
        "SELECT cell, uniq(device_id) AS devices FROM events WHERE time >= {since:DateTime64(3, 'UTC')}"
        f" AND cell != ''{has_metric} AND ({scope}) GROUP BY cell",
        params,
    )}
    return [r | {"devices": devices.get(r["cell"], 0)} for r in rows]


def _alerts(store: Store, principal: Principal) -> Rows:
    scope, params = principal.scope_sql(department_col="department", cell_col="cell")
    return store.query(
        "SELECT cell, count() AS open_alerts, uniqExact(incident_id) AS open_incidents, max(rank) AS rank"
        f" FROM ({open_alerts_sql(scope)}) GROUP BY cell",
        params,
    )


def cell_layer(
    store: Store, principal: Principal, bbox: BBox, zoom: int, *, metric: str | None, minutes: int,
    cap: int, now: datetime,
) -> dict[str, Any]:
    """The FeatureCollection for `bbox` at `zoom`: at most `cap` cells, worst status and hottest first.

    Plain dicts in the shape of `models.CellCollection` (validating them again would cost more than the
    query; the tests check the shape).
    """
    resolution = cell_resolution(zoom)
    cells: dict[str, _Cell] = {}
    # a cell belongs to the view when its centre does; grow the box by one hexagon edge (~111 km per
    # degree) so hexagons straddling the border are drawn too
    view = bbox.grown(h3.average_hexagon_edge_length(resolution, unit="km") / 111.0)

    def bucket(cell: str) -> _Cell | None:
        found = _center_and_parent(cell, resolution)
        if found is None or not view.contains(found[0], found[1]):
            return None
        return cells.setdefault(found[2], _Cell())

    for row in _activity(store, principal, metric, now - timedelta(minutes=minutes)):
        if (c := bucket(row["cell"])) is not None:
            c.readings += int(row["readings"])
            c.total += float(row["total"])
            c.devices += int(row["devices"])
    for row in _alerts(store, principal):
        if (c := bucket(row["cell"])) is not None:
            c.open_alerts += int(row["open_alerts"])
            c.open_incidents += int(row["open_incidents"])
            c.status = max(c.status, MapStatus(int(row["rank"])))

    def heat(c: _Cell) -> float | None:
        if not metric:
            return float(c.readings)
        return c.total / c.readings if c.readings else None

    ranked = sorted(cells.items(), key=lambda kv: (-kv[1].status, -(heat(kv[1]) or 0.0), kv[0]))
    features = [
        {
            "type": "Feature", "id": cell, "geometry": {"type": "Polygon", "coordinates": [_ring(cell)]},
            "properties": {
                "cell": cell, "resolution": resolution, "status": c.status.label,
                "open_alerts": c.open_alerts, "open_incidents": c.open_incidents, "metric": metric or None,
                "heat": heat(c), "readings": c.readings, "devices": c.devices,
            },
        }
        for cell, c in ranked[:cap]
    ]
    meta = {"zoom": zoom, "resolution": resolution, "minutes": minutes, "total": len(cells),
            "truncated": len(cells) > cap}
    return {"type": "FeatureCollection", "features": features, "meta": meta}


@lru_cache(maxsize=1 << 15)
def _ring(cell: str) -> list[list[float]]:
    return cell_polygon(cell)
