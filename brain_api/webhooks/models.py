"""Request/response models of `/api/v1/subscriptions`, and the rule that folds the caller's scope in.

A department can only subscribe to its own alerts and a grid worker only to its cells: their scope
becomes the subscription's filter, so a webhook never carries more than its owner could read.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from brain_api.security.grants import InvalidGrant, normalise_cells
from brain_api.security.roles import Principal, Role
from brain_api.webhooks.delivery import Attempt, DeliveryState
from brain_api.webhooks.subscription import Subscription
from streams.records import Severity
from streams.topics import DEPARTMENTS


class ScopeError(PermissionError):
    """The requested filters reach beyond what the caller may see."""


class SubscriptionCreate(BaseModel):
    url: str = Field(min_length=8, max_length=2000, description="http(s) endpoint that receives POSTs")
    department: str | None = Field(default=None, description=f"one of {', '.join(DEPARTMENTS)}")
    categories: list[str] = Field(default_factory=list, max_length=32, description="alert categories")
    min_severity: Severity = Severity.informational
    cells: list[str] = Field(default_factory=list, max_length=10_000, description="H3 cells (any resolution <= 8)")
    secret: str | None = Field(default=None, min_length=16, max_length=256,
                               description="HMAC key; generated and returned once when omitted")

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an absolute http(s) URL")
        if parts.username or parts.password:
            raise ValueError("url must not carry credentials; use the signing secret")
        return v

    @field_validator("department")
    @classmethod
    def _known_department(cls, v: str | None) -> str | None:
        if v is not None and v not in DEPARTMENTS:
            raise ValueError(f"department must be one of {', '.join(DEPARTMENTS)}")
        return v


class SubscriptionPublic(BaseModel):
    id: str
    url: str
    owner: str
    department: str | None
    categories: list[str]
    min_severity: Severity
    cells: list[str]
    created_at: datetime | None

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionPublic:
        return cls(id=s.id, url=s.url, owner=s.owner, department=s.department, categories=list(s.categories),
                   min_severity=s.min_severity, cells=list(s.cells), created_at=s.created_at)


class SubscriptionCreated(SubscriptionPublic):
    secret: str = Field(description="The signing secret. Shown only in this response; store it now.")


class SubscriptionsPublic(BaseModel):
    data: list[SubscriptionPublic]
    count: int


class DeliveryAttemptPublic(BaseModel):
    delivery_id: str
    alert_id: str
    attempt: int = Field(description="0 for the row recording that the delivery was queued")
    state: DeliveryState
    http_status: int = Field(description="0 when no HTTP answer came (connection error, timeout)")
    error: str
    duration_ms: float
    at: datetime
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, a: Attempt) -> DeliveryAttemptPublic:
        return cls(delivery_id=a.delivery_id, alert_id=a.alert_id, attempt=a.attempt, state=a.state,
                   http_status=a.http_status, error=a.error, duration_ms=a.duration_ms, at=a.at,
                   next_attempt_at=a.next_attempt_at)


class DeliveriesPublic(BaseModel):
    data: list[DeliveryAttemptPublic]
    count: int


def fold_scope(user: Principal, body: SubscriptionCreate) -> tuple[str | None, tuple[str, ...]]:
    """The (department, cells) filters a subscription gets: the request's, narrowed to the caller's scope.

    >>> dept = Principal("t", Role.department, department="traffic")
    >>> fold_scope(dept, SubscriptionCreate(url="https://example.org/hook"))
    ('traffic', ())
    >>> fold_scope(dept, SubscriptionCreate(url="https://example.org/hook", department="health"))
    Traceback (most recent call last):
    ...
    brain_api.webhooks.models.ScopeError: a department token subscribes to its own department only
    """
    try:
        cells = normalise_cells(body.cells)
    except InvalidGrant as exc:
        raise ValueError(str(exc)) from exc
    department = body.department
    if user.role is Role.department:
        if department not in (None, user.department):
            raise ScopeError("a department token subscribes to its own department only")
        department = user.department
    if user.role is Role.grid_worker:
        if not set(cells) <= user.cells:
            raise ScopeError("a grid worker subscribes to its own cells only")
        cells = cells or tuple(sorted(user.cells))
    return department, cells
