"""An in-memory stand-in for brain_api's map/alert/live contract (issue 6), serving the built page.

Why it exists: the page's own behaviour (login from the URL fragment, what a role is offered, language,
keyboard actions, 100,000 devices while panning) is tested in a real browser without needing the whole
platform, and the frame-time benchmark can hand the page the worst case — every device unclustered —
which the real API never sends. The platform itself is exercised by `test_platform_e2e.py`.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import orjson
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import StreamingResponse
from fastapi.staticfiles import StaticFiles

DIST = Path(__file__).resolve().parents[2] / "dashboards" / "web" / "dist"
CENTRE = (30.2741, 120.1551)
TOKENS = {"admin-secret": {"role": "admin"}, "engineer-secret": {"role": "engineer"}}
TRANSITIONS = {"ack": "acknowledged", "dispatch": "dispatched", "resolve": "resolved",
               "false-positive": "false_positive", "escalate": "escalated"}


def _feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def make_alert(n: int, cell: str, severity: str = "high") -> dict[str, Any]:
    lat, lon = h3.cell_to_latlng(cell)
    now = datetime.now(UTC)
    return {
        "id": f"al-{n}", "incident_id": f"in-{n}", "department": "traffic", "category": "traffic",
        "sub_category": "congestion", "severity": severity, "state": "open", "title": f"Speed drop #{n}",
        "description": "Speeds fell far below the baseline at a detector.", "cell": cell, "lat": lat, "lon": lon,
        "created_at": now.isoformat(), "history": [],
        "evidence": [{"device_id": f"tdet-{n}", "metric": "speed_kmh", "observed": 4.0, "expected": 42.0,
                      "score": 0.99, "detector": "robust_z", "time": now.isoformat(), "event_id": f"ev-{n}"}],
    }


def create_app(devices: int = 2_000, seed: int = 7) -> FastAPI:
    app = FastAPI()
    rng = random.Random(seed)
    cells = sorted(h3.grid_disk(h3.latlng_to_cell(*CENTRE, 8), 20))
    def point() -> dict[str, Any]:
        return {"type": "Point",
                "coordinates": [CENTRE[1] + rng.uniform(-0.2, 0.2), CENTRE[0] + rng.uniform(-0.17, 0.17)]}

    device_fc = [_feature(point(), device_id=f"d{i}", category="traffic",
                          status="alert" if i % 997 == 0 else "normal") for i in range(devices)]
    alerts: dict[str, dict[str, Any]] = {}
    events: list[tuple[int, str, dict[str, Any]]] = []
    counter = itertools.count(1)

    def principal(authorization: str | None) -> dict[str, Any]:
        token = (authorization or "").removeprefix("Bearer ")
        if token not in TOKENS:
            raise HTTPException(401, "missing or invalid bearer token")
        return TOKENS[token]

    def publish(kind: str, data: dict[str, Any]) -> None:
        events.append((len(events) + 1, kind, data))

    def cell_status(cell: str) -> str:
        active = any(a["cell"] == cell and a["state"] in ("open", "escalated") for a in alerts.values())
        return "alert" if active else "normal"

    @app.get("/api/v1/me")
    def me(authorization: str | None = Header(None)) -> dict[str, Any]:
        return principal(authorization)

    @app.get("/api/v1/map/cells")
    def map_cells(authorization: str | None = Header(None)) -> dict[str, Any]:
        principal(authorization)
        def polygon(c: str) -> dict[str, Any]:
            ring = [[lo, la] for la, lo in h3.cell_to_boundary(c)]
            return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}

        feats = [_feature(polygon(c), cell=c, status=cell_status(c), open_incidents=0, heat=0.0) for c in cells]
        return {"type": "FeatureCollection", "features": feats}

    @app.get("/api/v1/map/devices")
    def map_devices(authorization: str | None = Header(None)) -> dict[str, Any]:
        principal(authorization)
        return {"type": "FeatureCollection", "features": device_fc}

    @app.get("/api/v1/alerts")
    def list_alerts(authorization: str | None = Header(None), state: str = "") -> dict[str, Any]:
        principal(authorization)
        data = [a for a in reversed(alerts.values()) if not state or a["state"] == state]
        return {"data": data, "count": len(data), "next_cursor": None}

    @app.get("/api/v1/alerts/{alert_id}")
    def get_alert(alert_id: str, authorization: str | None = Header(None)) -> dict[str, Any]:
        principal(authorization)
        if alert_id not in alerts:
            raise HTTPException(404, "no such alert")
        return alerts[alert_id]

    @app.post("/api/v1/alerts/{alert_id}/{action}")
    async def transition(alert_id: str, action: str, request: Request,
                         authorization: str | None = Header(None)) -> dict[str, Any]:
        if principal(authorization)["role"] == "engineer":
            raise HTTPException(403, "engineers do not work alerts")
        alert = alerts[alert_id]
        note = (await request.json()).get("note", "")
        alert["history"].append({"at": datetime.now(UTC).isoformat(), "from_state": alert["state"],
                                 "to_state": TRANSITIONS[action], "actor": "stub", "note": note})
        alert["state"] = TRANSITIONS[action]
        publish("alert", alert)
        return alert

    @app.get("/api/v1/kpis")
    def kpis(authorization: str | None = Header(None)) -> dict[str, Any]:
        principal(authorization)
        row = {"department": "traffic", "period_start": datetime.now(UTC).isoformat(), "alerts": len(alerts),
               "ack_p50_s": 95.0, "ack_p90_s": 240.0, "resolve_p50_s": 1800.0, "resolve_p90_s": 5400.0,
               "handled_within_5min": 0.82, "false_positive_rate": 0.04}
        return {"period": "week", "data": [row], "count": 1}

    @app.get("/api/v1/devices/{device_id}/series")
    def series(device_id: str, authorization: str | None = Header(None)) -> dict[str, Any]:
        principal(authorization)
        now = datetime.now(UTC)
        points = [{"time": (now - timedelta(minutes=60 - i)).isoformat(), "value": 42 + rng.gauss(0, 2)}
                  for i in range(60)]
        points.append({"time": now.isoformat(), "value": 4.0})
        return {"device_id": device_id, "points": points, "anomalies": []}

    @app.get("/api/v1/live")
    async def live(authorization: str | None = Header(None),
                   last_event_id: str | None = Header(None)) -> StreamingResponse:
        principal(authorization)

        async def stream():  # noqa: ANN202 - async generator for StreamingResponse
            sent = int(last_event_id or 0)
            while True:
                for eid, kind, data in events[sent:]:
                    yield f"id: {eid}\nevent: {kind}\ndata: {orjson.dumps(data).decode()}\n\n"
                    sent = eid
                yield ": keepalive\n\n"
                await asyncio.sleep(0.2)

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.post("/stub/alerts")
    def inject() -> dict[str, Any]:
        """Test hook: raise an alert in a cell near the centre, as the pipeline would."""
        n = next(counter)
        alert = make_alert(n, cells[len(cells) // 2 + n])
        alerts[alert["id"]] = alert
        publish("alert", alert)
        publish("cell", {"cell": alert["cell"], "status": "alert", "open_incidents": 1, "heat": 0.8})
        return alert

    app.mount("/", StaticFiles(directory=DIST, html=True), name="dashboard")
    return app
