"""Role x endpoint: every route of the app is either open on purpose or gated, and the gate holds.

The matrix is read from the routes themselves (their `RoleGate`), so a router added by another room is
covered the moment it is included; the table below pins what this room's routes must allow. Routes that
only ask for `CurrentUser` (any signed-in role, scope checked inside) are held to "no token -> 401".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIWebSocketRoute

from brain_api.deps import RoleGate, get_current_user
from brain_api.ingest_routes import MethodRoleGate
from brain_api.security.roles import Role
from tests.unit.brain_api.conftest import CELL, bearer

OPEN = {"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
R = set(Role)
WORKERS = {Role.operator, Role.department, Role.grid_worker, Role.admin}
EXPECTED = {
    ("GET", "/api/v1/alerts"): R,
    ("GET", "/api/v1/alerts/{alert_id}"): R,
    ("POST", "/api/v1/alerts/{alert_id}/{action}"): WORKERS,
    ("POST", "/api/v1/tokens"): {Role.admin},
    ("GET", "/api/v1/tokens"): {Role.admin},
    ("DELETE", "/api/v1/tokens/{token_id}"): {Role.admin},
    ("GET", "/api/v1/me"): R,
    ("GET", "/api/v1/kpis"): {Role.operator, Role.department, Role.engineer, Role.admin},
    ("GET", "/api/v1/stats"): {Role.operator, Role.engineer, Role.admin},
    ("GET", "/metrics"): {Role.engineer, Role.admin},
    ("POST", "/api/v1/events"): {Role.engineer, Role.admin},
}


SIGNED_IN = RoleGate(Role)  # marks routes gated by `CurrentUser` alone


def _gate(dependant: Any) -> RoleGate | None:
    signed_in = None
    for dep in dependant.dependencies:
        if isinstance(dep.call, RoleGate):
            return dep.call
        if dep.call is get_current_user:
            signed_in = SIGNED_IN
        found = _gate(dep)
        if found is not None and found is not SIGNED_IN:
            return found
        signed_in = signed_in or found
    return signed_in


def routes(app: Any) -> Iterator[tuple[str, str, RoleGate | None]]:
    """(method, path, gate) of every HTTP route, also through FastAPI's lazily included routers."""
    stack = list(app.routes)
    while stack:
        route = stack.pop(0)
        if hasattr(route, "effective_route_contexts"):
            stack.extend(route.effective_route_contexts())
            continue
        if isinstance(route, APIWebSocketRoute) or not hasattr(route, "methods") or not route.methods:
            continue
        dependant = getattr(route, "dependant", None)
        for method in sorted(route.methods - {"HEAD"}):
            yield method, route.path, _gate(dependant) if dependant is not None else None


def allowed(method: str, gate: RoleGate) -> set[Role]:
    return set(gate.roles_for(method) if isinstance(gate, MethodRoleGate) else gate.roles)


def test_every_route_is_open_on_purpose_or_gated(app):
    found = list(routes(app))
    assert ("POST", "/api/v1/alerts/{alert_id}/{action}") in {(m, p) for m, p, _ in found}
    ungated = [(m, p) for m, p, g in found if g is None and p not in OPEN]
    assert ungated == []
    for (method, path), roles in EXPECTED.items():
        gate = next(g for m, p, g in found if (m, p) == (method, path))
        assert allowed(method, gate) == roles, (method, path)


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: "ack" if m.group(1) == "action" else "x-1", path)


@pytest.fixture(scope="module")
def role_tokens(issue):
    return {role: issue(role, department="traffic" if role is Role.department else None,
                        cells=(CELL,) if role is Role.grid_worker else ()) for role in Role}


@pytest.fixture(scope="module")
def raw_client(app, client):
    from fastapi.testclient import TestClient

    return TestClient(app, raise_server_exceptions=False)


def test_matrix_no_token_401_wrong_role_403_right_role_passes(app, raw_client, role_tokens):
    checked = 0
    for method, path, gate in routes(app):
        if gate is None or path.startswith("/api/v1/live"):
            continue  # live is covered by its own tests (streams never end)
        url = _url(path)
        kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        assert raw_client.request(method, url, **kwargs).status_code == 401, (method, path)
        if gate is SIGNED_IN:
            continue
        for role, secret in role_tokens.items():
            code = raw_client.request(method, url, headers=bearer(secret), **kwargs).status_code
            if role in allowed(method, gate):
                assert code not in (401, 403), (method, path, role, code)
            else:
                assert code == 403, (method, path, role, code)
            checked += 1
    assert checked >= 5 * 10
