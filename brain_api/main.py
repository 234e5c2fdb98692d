"""The FastAPI application: `create_app()` wires routers, auth and the one storage-outage handler;
`app` is what uvicorn serves (`python -m brain_api`).

Start reading here, then `lifespan` (what runs beside the requests) and `deps` (who may call what).
Every route but `/healthz`, `/readyz` and the static page requires a bearer token.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from brain_api.ingest_routes import include_ingest_routers
from brain_api.lifespan import lifespan
from brain_api.routers import alerts, health, kpis, live, stats, tokens
from brain_api.settings import get_api_settings
from ingest.errors import BrokerUnavailable
from streams.storage.base import Store, StoreUnavailable


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    """ClickHouse or Kafka is down: 503 with Retry-After, never a 500 with a stack trace."""
    what = "storage" if isinstance(exc, StoreUnavailable) else "broker"
    return JSONResponse({"detail": f"{what} unavailable: {exc}"}, status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": "5"})


def _mount_dashboard(app: FastAPI) -> None:
    """The command-center page (dashboards/web/dist) at `/`, mounted last so every API route wins."""
    from pathlib import Path

    from fastapi.staticfiles import StaticFiles

    dist = Path(__file__).resolve().parents[1] / "dashboards" / "web" / "dist"
    if (dist / "index.html").is_file():
        app.mount("/", StaticFiles(directory=dist, html=True), name="dashboard")


def create_app(*, store: Store | None = None, background: bool = True) -> FastAPI:
    """Build the app. Tests pass an open `store` (it is then not closed by the app) and may turn off the
    background services (Kafka publisher/consumers, sink, escalation) with `background=False`.
    """
    settings = get_api_settings()
    app = FastAPI(
        title="City Brain command-center API",
        version="0.1.0",
        summary="Alerts, live map, subscriptions, replays and KPIs of the city brain.",
        lifespan=lifespan,
    )
    app.state.injected_store = store
    app.state.background = background
    app.add_exception_handler(StoreUnavailable, _unavailable)
    app.add_exception_handler(BrokerUnavailable, _unavailable)
    if settings.cors_origins:
        origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["*"],
                           allow_headers=["Authorization", "Content-Type", "Last-Event-ID"])

    # --- routers: one include per resource; other rooms add their lines inside this block ---
    app.include_router(health.router)
    app.include_router(tokens.router)
    app.include_router(alerts.router)
    app.include_router(live.router)
    app.include_router(kpis.router)
    app.include_router(stats.router)
    include_ingest_routers(app)
    from brain_api.routers import map as map_routes  # map, subscriptions, replays room
    from brain_api.routers import replays, subscriptions

    app.include_router(map_routes.router)
    app.include_router(subscriptions.router)
    app.include_router(replays.router)
    from brain_api.routers import series  # dashboards room: the evidence sparkline

    app.include_router(series.router)
    # --- end of routers ---
    _mount_dashboard(app)
    return app


app = create_app()
