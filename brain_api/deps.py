"""FastAPI dependencies as `Annotated` aliases: the store, the caller, role gates, rate limits, audit.

Routers declare what they need (`store: StoreDep`, `user: CurrentUser`,
`dependencies=[require_roles(Role.admin)]`) and tests swap any of them with `app.dependency_overrides`.
Everything here reads process-wide objects from `app.state`, set up once by the lifespan.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from brain_api.response_cache import ResponseCache
from brain_api.security.audit import Auditor
from brain_api.security.auth import Authenticator
from brain_api.security.ratelimit import RateLimiter
from brain_api.security.roles import Principal, Role
from brain_api.security.token_store import TokenStore
from brain_api.settings import ApiSettings, get_api_settings
from streams.storage.base import Store, StoreUnavailable

__all__ = [
    "ALL_ROLES", "AuditDep", "CacheDep", "CurrentUser", "RoleGate", "SettingsDep", "StoreDep", "TokenStoreDep",
    "get_current_user", "get_store", "rate_limit", "require_roles",
]

ALL_ROLES = frozenset(Role)
bearer_scheme = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")

async def _settings() -> ApiSettings:
    return get_api_settings()


# Dependencies that only read `app.state` are `async def`: FastAPI runs a plain `def` dependency in the
# threadpool, and a request paid one thread hand-off per dependency (six or more) before its endpoint ran.
SettingsDep = Annotated[ApiSettings, Depends(_settings)]


async def get_response_cache(request: Request) -> ResponseCache:
    """The app's shared-read cache; an app built without the lifespan (some tests) gets a disabled one."""
    cache = getattr(request.app.state, "response_cache", None)
    return cache if cache is not None else ResponseCache(ttl_s=0)


CacheDep = Annotated[ResponseCache, Depends(get_response_cache)]


async def get_store(request: Request) -> Store:
    store = getattr(request.app.state, "store", None)
    if store is None:
        raise StoreUnavailable("storage is not open yet")
    return store


StoreDep = Annotated[Store, Depends(get_store)]


async def get_token_store(store: StoreDep) -> TokenStore:
    return TokenStore(store)


TokenStoreDep = Annotated[TokenStore, Depends(get_token_store)]


async def get_authenticator(request: Request, tokens: TokenStoreDep, settings: SettingsDep) -> Authenticator:
    auth = getattr(request.app.state, "authenticator", None)
    if auth is None:
        auth = Authenticator(tokens, settings.admin_token, settings.token_cache_s)
        request.app.state.authenticator = auth
    return auth


async def get_current_user(
    auth: Annotated[Authenticator, Depends(get_authenticator)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """401 without a valid bearer token (missing, unknown, revoked, expired).

    Known tokens are decided on the event loop; only an unseen one is looked up in storage, in the pool.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    principal = auth.known(credentials.credentials)
    if principal is ...:
        principal = await run_in_threadpool(auth.authenticate, credentials.credentials)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid, expired or revoked token",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_user)]


class RoleGate:
    """Admit only `roles` (403 otherwise); `roles` stays readable so tests can check the access matrix."""

    def __init__(self, roles: Iterable[Role]) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, user: CurrentUser) -> Principal:
        return self.admit(user)

    def admit(self, user: Principal) -> Principal:
        if user.role not in self.roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role.value!r} may not do this")
        return user

    def __repr__(self) -> str:
        return f"RoleGate({sorted(r.value for r in self.roles)})"


def require_roles(*roles: Role) -> object:
    """`Depends` admitting the given roles; use in `dependencies=[...]` or `Annotated[Principal, ...]`."""
    return Depends(RoleGate(roles or ALL_ROLES))


async def get_auditor(request: Request, store: StoreDep) -> Auditor:
    client = request.client.host if request.client else ""
    return Auditor(store, client=client, request_id=request.headers.get("x-request-id", "")[:64])


AuditDep = Annotated[Auditor, Depends(get_auditor)]


def rate_limit(group: str) -> object:
    """`Depends` charging one token of the caller's bucket for `group`; 429 with Retry-After when empty."""

    async def check(request: Request, user: CurrentUser, settings: SettingsDep) -> None:
        limiter = getattr(request.app.state, "rate_limiter", None)
        if limiter is None:
            limiter = request.app.state.rate_limiter = RateLimiter(settings.rate_limit_per_s,
                                                                   settings.rate_limit_burst)
        wait = limiter.check(f"{user.token_id}|{group}")
        if wait is not None:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, f"rate limit for {group}; retry later",
                                headers={"Retry-After": str(max(1, round(wait)))})

    return Depends(check)
