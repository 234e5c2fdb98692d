"""Tokens: admins issue (`POST`, the secret is returned once), list (no secrets) and revoke them;
every caller can ask who it is (`GET /api/v1/me`), which the dashboard uses to show what it may do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import AwareDatetime, BaseModel, Field

from brain_api.deps import AuditDep, CurrentUser, TokenStoreDep, require_roles
from brain_api.security.grants import InvalidGrant, check_grant
from brain_api.security.roles import Principal, Role
from brain_api.security.token_store import TokenRecord

router = APIRouter(prefix="/api/v1", tags=["tokens"])
Admin = Annotated[Principal, require_roles(Role.admin)]


class TokenCreate(BaseModel):
    role: Role
    department: str | None = None
    cells: list[str] = Field(default_factory=list, max_length=10_000)
    expires_at: AwareDatetime | None = None
    expires_in_s: int | None = Field(default=None, gt=0, le=10 * 365 * 86400)
    label: str = Field(default="", max_length=200)


class TokenPublic(BaseModel):
    id: str
    role: Role
    department: str | None
    cells: list[str]
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool

    @classmethod
    def of(cls, rec: TokenRecord) -> TokenPublic:
        return cls(id=rec.token_id, role=rec.role, department=rec.department, cells=list(rec.cells),
                   label=rec.label, created_by=rec.created_by, created_at=rec.created_at,
                   expires_at=rec.expires_at, revoked_at=rec.revoked_at, active=rec.active())


class TokenCreated(TokenPublic):
    token: str = Field(description="The bearer secret. Shown only in this response; store it now.")


class TokensPublic(BaseModel):
    data: list[TokenPublic]
    count: int


class Me(BaseModel):
    token_id: str
    role: Role
    department: str | None
    cells: list[str]
    expires_at: datetime | None


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, user: Admin, tokens: TokenStoreDep, audit: AuditDep) -> TokenCreated:
    try:
        department, cells = check_grant(body.role, body.department, tuple(body.cells))
    except InvalidGrant as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    expires = body.expires_at or (
        datetime.now(UTC) + timedelta(seconds=body.expires_in_s) if body.expires_in_s else None
    )
    issued, rec = tokens.create(body.role, department=department, cells=cells, expires_at=expires,
                                label=body.label, created_by=user.token_id)
    audit.record(user, "token.create", "token", rec.token_id, detail={"role": rec.role.value})
    return TokenCreated(**TokenPublic.of(rec).model_dump(), token=issued.secret)


@router.get("/tokens", response_model=TokensPublic)
def list_tokens(user: Admin, tokens: TokenStoreDep) -> TokensPublic:
    data = [TokenPublic.of(r) for r in tokens.list()]
    return TokensPublic(data=data, count=len(data))


@router.delete("/tokens/{token_id}", response_model=TokenPublic)
def revoke_token(
    token_id: Annotated[str, Path(max_length=64)], request: Request, user: Admin, tokens: TokenStoreDep,
    audit: AuditDep,
) -> TokenPublic:
    rec = tokens.revoke(token_id)
    if rec is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no token {token_id!r}")
    auth = getattr(request.app.state, "authenticator", None)
    if auth is not None:
        auth.forget(token_id)
    audit.record(user, "token.revoke", "token", token_id)
    return TokenPublic.of(rec)


@router.get("/me", response_model=Me, dependencies=[require_roles()])
def who_am_i(user: CurrentUser) -> Me:
    return Me(token_id=user.token_id, role=user.role, department=user.department, cells=sorted(user.cells),
              expires_at=user.expires_at)



