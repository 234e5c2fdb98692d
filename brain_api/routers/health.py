"""Liveness, readiness and Prometheus metrics.

`/healthz` and `/readyz` are open (orchestrators probe them without secrets). `/metrics` needs an
engineer/admin token, unless `CITYBRAIN_API_METRICS_OPEN_ON_LOOPBACK=true` lets a Prometheus on the
same host scrape it without one (requests from other addresses still need the token).
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from brain_api.deps import RoleGate, SettingsDep, bearer_scheme, get_authenticator, get_current_user
from brain_api.security.auth import Authenticator
from brain_api.security.roles import Principal, Role

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    store: str
    broker: str


class LoopbackOrRoles(RoleGate):
    """Like `RoleGate`, but lets loopback clients through when the setting allows it."""

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        settings: SettingsDep,
        auth: Annotated[Authenticator, Depends(get_authenticator)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Principal | None:
        host = request.client.host if request.client else ""
        if settings.metrics_open_on_loopback and _is_loopback(host):
            return None
        return self.admit(await get_current_user(auth, credentials))


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process answers; nothing else is checked (a restart would not fix a dependency outage)."""
    return Health(status="ok")


async def _broker_reachable(bootstrap: str | None, timeout: float = 1.0) -> str:
    if not bootstrap:
        return "not configured"
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
        except (OSError, ValueError, TimeoutError):
            continue
        writer.close()
        return "ok"
    return "unreachable"


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(request: Request, response: Response) -> Readiness:
    """Ready when ClickHouse answers and (if configured) a Kafka broker accepts connections."""
    store = getattr(request.app.state, "store", None)
    store_state = "not open"
    if store is not None:
        try:
            await run_in_threadpool(store.query, "SELECT 1 AS ok")
            store_state = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported by name
            store_state = f"error: {type(exc).__name__}"
    broker_state = await _broker_reachable(getattr(request.app.state, "kafka_bootstrap", None))
    ready = store_state == "ok" and broker_state in ("ok", "not configured")
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(status="ready" if ready else "not ready", store=store_state, broker=broker_state)


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(LoopbackOrRoles((Role.engineer, Role.admin)))],
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics() -> Response:
    """Prometheus text format: ingest counters, sink counters and API request metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


