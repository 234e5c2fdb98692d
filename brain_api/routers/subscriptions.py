"""Webhook subscriptions: register an endpoint with filters, list, inspect deliveries, delete.

The signing secret is returned once, at creation. Callers see and delete their own subscriptions (admins
all of them); a department or grid worker can only subscribe within its scope (`models.fold_scope`).
Edits reach the running dispatcher at once (it also re-reads them every few seconds).
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from brain_api.deps import AuditDep, CurrentUser, StoreDep
from brain_api.security.roles import Principal, Role
from brain_api.webhooks import repository as repo
from brain_api.webhooks.models import (
    DeliveriesPublic,
    DeliveryAttemptPublic,
    ScopeError,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
    SubscriptionsPublic,
    fold_scope,
)
from brain_api.webhooks.settings import get_webhook_settings
from brain_api.webhooks.subscription import Subscription
from streams.storage.base import Store

router = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])
SubscriptionId = Annotated[str, Path(pattern=r"^sub-[0-9a-f]{16}$")]


async def _nudge(request: Request) -> None:
    dispatcher = getattr(request.app.state, "webhook_dispatcher", None)
    if dispatcher is not None:
        await dispatcher.refresh()


async def _own(store: Store, user: Principal, subscription_id: str) -> Subscription:
    sub = await asyncio.to_thread(repo.get_subscription, store, subscription_id)
    if sub is None or (user.role is not Role.admin and sub.owner != user.token_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no subscription {subscription_id}")
    return sub


@router.post("", response_model=SubscriptionCreated, status_code=status.HTTP_201_CREATED)
async def create_subscription(
    body: SubscriptionCreate, user: CurrentUser, store: StoreDep, audit: AuditDep, request: Request
) -> SubscriptionCreated:
    """Register a webhook. Matching alerts are POSTed as JSON with `X-CityBrain-Signature:
    sha256=<hex HMAC-SHA256 of the raw body>`, `X-CityBrain-Timestamp` and `X-CityBrain-Delivery` (dedup
    key); failures are retried with exponential backoff and every attempt is recorded."""
    if get_webhook_settings().require_https and not body.url.startswith("https://"):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "url must use https")
    try:
        department, cells = fold_scope(user, body)
    except ScopeError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    sub = Subscription(
        id=f"sub-{uuid.uuid4().hex[:16]}", url=body.url, secret=body.secret or secrets.token_urlsafe(32),
        owner=user.token_id, department=department, categories=tuple(sorted(set(body.categories))),
        min_severity=body.min_severity, cells=cells, created_at=datetime.now(UTC),
    )
    await asyncio.to_thread(repo.save_subscription, store, sub)
    await asyncio.to_thread(audit.record, user, "subscription.create", "subscription", sub.id,
                            detail={"url": sub.url, "department": department, "cells": len(cells)})
    await _nudge(request)
    return SubscriptionCreated(**SubscriptionPublic.of(sub).model_dump(), secret=sub.secret)


@router.get("", response_model=SubscriptionsPublic)
async def list_subscriptions(user: CurrentUser, store: StoreDep) -> SubscriptionsPublic:
    """Your subscriptions (an admin sees everyone's). Secrets are never listed."""
    owner = None if user.role is Role.admin else user.token_id
    subs = await asyncio.to_thread(repo.load_subscriptions, store, owner=owner)
    return SubscriptionsPublic(data=[SubscriptionPublic.of(s) for s in subs], count=len(subs))


@router.get("/{subscription_id}", response_model=SubscriptionPublic)
async def get_subscription(
    subscription_id: SubscriptionId, user: CurrentUser, store: StoreDep
) -> SubscriptionPublic:
    return SubscriptionPublic.of(await _own(store, user, subscription_id))


@router.get("/{subscription_id}/deliveries", response_model=DeliveriesPublic)
async def list_deliveries(
    subscription_id: SubscriptionId, user: CurrentUser, store: StoreDep
) -> DeliveriesPublic:
    """The latest 100 delivery rows of a subscription, newest first: queued, each attempt and its outcome."""
    await _own(store, user, subscription_id)
    attempts = await asyncio.to_thread(repo.list_attempts, store, subscription_id)
    return DeliveriesPublic(data=[DeliveryAttemptPublic.of(a) for a in attempts], count=len(attempts))


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_subscription(
    subscription_id: SubscriptionId, user: CurrentUser, store: StoreDep, audit: AuditDep, request: Request
) -> Response:
    """Stop deliveries; pending ones are cancelled (and recorded as such)."""
    sub = await _own(store, user, subscription_id)
    await asyncio.to_thread(repo.save_subscription, store, replace(sub, active=False))
    await asyncio.to_thread(audit.record, user, "subscription.delete", "subscription", sub.id)
    await _nudge(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

