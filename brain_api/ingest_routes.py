"""The ingest adapters' HTTP routers, included with the auth they do not carry themselves.

Ingest routers mix reads and writes (devices: GET vs PUT/DELETE/import), so their gate decides by HTTP
method. Feeds (events, GA/T 1400 cameras, heartbeats) are engineers'/admins' tokens; citizen reports may
be filed by any signed-in role; the device registry is read by the city-wide roles only, because its
routes do not filter by a department's categories or a grid worker's cells.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Depends, FastAPI, HTTPException, Request, status

from brain_api.deps import ALL_ROLES, CurrentUser, RoleGate
from brain_api.security.roles import Principal, Role

FEED_ROLES = frozenset({Role.engineer, Role.admin})
CITY_WIDE_READERS = frozenset({Role.operator, Role.engineer, Role.admin})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class MethodRoleGate(RoleGate):
    """`read` roles for safe methods, `write` roles for the rest (`roles_for` tells tests which)."""

    def __init__(self, read: Iterable[Role], write: Iterable[Role]) -> None:
        self.read = frozenset(read)
        self.write = frozenset(write)
        super().__init__(self.read | self.write)

    def roles_for(self, method: str) -> frozenset[Role]:
        return self.read if method.upper() in SAFE_METHODS else self.write

    async def __call__(self, request: Request, user: CurrentUser) -> Principal:  # type: ignore[override]
        if user.role not in self.roles_for(request.method):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role.value!r} may not do this")
        return user


def include_ingest_routers(app: FastAPI) -> None:
    from ingest.http import devices_router, events_router, reports_router, viid_router

    app.include_router(events_router, dependencies=[Depends(MethodRoleGate(FEED_ROLES, FEED_ROLES))])
    app.include_router(viid_router, dependencies=[Depends(MethodRoleGate(FEED_ROLES, FEED_ROLES))])
    app.include_router(reports_router, dependencies=[Depends(MethodRoleGate(ALL_ROLES, ALL_ROLES))])
    app.include_router(devices_router, dependencies=[Depends(MethodRoleGate(CITY_WIDE_READERS, FEED_ROLES))])
