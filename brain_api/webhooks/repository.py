"""Subscriptions and delivery attempts in ClickHouse (tables from migrations 0020/0021).

`subscriptions` is a ReplacingMergeTree keyed by id: an edit or a delete is a newer row (delete =
`active = 0`), read back with `FINAL`. `webhook_deliveries` is append-only, one row per attempt plus the
`queued` row that carries the body; a delivery's state is the state of its latest row, which is how
pending deliveries are found again after a restart. Functions are synchronous (the Store is); the async
callers run them in a thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from brain_api.webhooks.delivery import Attempt, Delivery, DeliveryState
from brain_api.webhooks.subscription import Subscription
from streams.records import Severity
from streams.storage.base import Store

_SUB_COLUMNS = "id, owner, url, secret, department, categories, min_severity, cells, created_at, active"


def save_subscription(store: Store, sub: Subscription, *, at: datetime | None = None) -> None:
    store.insert("subscriptions", {
        "id": [sub.id], "owner": [sub.owner], "url": [sub.url], "secret": [sub.secret],
        "department": [sub.department or ""], "categories": [list(sub.categories)],
        "min_severity": [sub.min_severity.value], "cells": [list(sub.cells)],
        "created_at": [sub.created_at or datetime.now(UTC)], "updated_at": [at or datetime.now(UTC)],
        "active": [1 if sub.active else 0],
    })


def _subscription(row: dict[str, Any]) -> Subscription:
    return Subscription(
        id=row["id"], url=row["url"], secret=row["secret"], owner=row["owner"],
        department=row["department"] or None, categories=tuple(row["categories"]),
        min_severity=Severity(row["min_severity"]), cells=tuple(row["cells"]),
        created_at=_aware(row["created_at"]), active=bool(row["active"]),
    )


def load_subscriptions(store: Store, *, owner: str | None = None) -> list[Subscription]:
    """Active subscriptions, all of them or those one token registered."""
    rows = store.query(
        f"SELECT {_SUB_COLUMNS} FROM subscriptions FINAL WHERE active = 1"
        " AND ({owner:String} = '' OR owner = {owner:String}) ORDER BY id",
        {"owner": owner or ""},
    )
    return [_subscription(r) for r in rows]


def get_subscription(store: Store, subscription_id: str) -> Subscription | None:
    rows = store.query(
        f"SELECT {_SUB_COLUMNS} FROM subscriptions FINAL WHERE id = {{id:String}} AND active = 1",
        {"id": subscription_id},
    )
    return _subscription(rows[0]) if rows else None


def record_attempts(
    store: Store, attempts: Iterable[Attempt], *, bodies: dict[str, bytes] | None = None
) -> int:
    """Append attempt rows; `bodies` (delivery id -> body) is stored on the `queued` rows only."""
    rows = list(attempts)
    if not rows:
        return 0
    bodies = bodies or {}
    return store.insert("webhook_deliveries", {
        "delivery_id": [a.delivery_id for a in rows],
        "subscription_id": [a.subscription_id for a in rows],
        "alert_id": [a.alert_id for a in rows],
        "attempt": [a.attempt for a in rows],
        "state": [a.state.value for a in rows],
        "http_status": [a.http_status for a in rows],
        "error": [a.error for a in rows],
        "duration_ms": [a.duration_ms for a in rows],
        "at": [a.at for a in rows],
        "next_attempt_at": [a.next_attempt_at or a.at for a in rows],
        "payload": [bodies.get(a.delivery_id, b"").decode() for a in rows],
    })


def record_queued(store: Store, deliveries: list[Delivery], at: datetime) -> int:
    """Persist new deliveries (with their bodies) before the alert's Kafka offset is committed."""
    queued = [Attempt(d.id, d.subscription_id, d.alert_id, 0, DeliveryState.queued, at, next_attempt_at=at)
              for d in deliveries]
    return record_attempts(store, queued, bodies={d.id: d.body for d in deliveries})


def known_delivery_ids(store: Store, ids: list[str]) -> set[str]:
    """Which of `ids` were queued before (the same alert consumed again after a restart)."""
    if not ids:
        return set()
    rows = store.query(
        "SELECT DISTINCT delivery_id FROM webhook_deliveries WHERE has({ids:Array(String)}, delivery_id)",
        {"ids": ids},
    )
    return {r["delivery_id"] for r in rows}


def pending_deliveries(store: Store, *, within: timedelta = timedelta(days=7)) -> list[Delivery]:
    """Deliveries whose latest row is `queued` or `retrying`, oldest first, to be driven again."""
    rows = store.query(
        "SELECT delivery_id, subscription_id, any(alert_id) AS alert_id,"
        " argMax(state, (at, attempt)) AS last_state, max(attempt) AS attempts,"
        " argMax(next_attempt_at, (at, attempt)) AS next_at, anyIf(payload, attempt = 0) AS body,"
        " min(at) AS first_at"
        " FROM webhook_deliveries WHERE at >= {since:DateTime64(3, 'UTC')}"
        " GROUP BY delivery_id, subscription_id"
        " HAVING last_state IN ('queued', 'retrying') ORDER BY first_at",
        {"since": datetime.now(UTC) - within},
    )
    return [Delivery(r["delivery_id"], r["subscription_id"], r["alert_id"], r["body"].encode(),
                     attempts=int(r["attempts"]), not_before=_aware(r["next_at"])) for r in rows]


def list_attempts(store: Store, subscription_id: str, *, limit: int = 100) -> list[Attempt]:
    rows = store.query(
        "SELECT delivery_id, subscription_id, alert_id, attempt, state, at, http_status, error, duration_ms,"
        " next_attempt_at FROM webhook_deliveries WHERE subscription_id = {sid:String}"
        " ORDER BY at DESC, attempt DESC LIMIT {limit:UInt32}",
        {"sid": subscription_id, "limit": limit},
    )
    return [Attempt(r["delivery_id"], r["subscription_id"], r["alert_id"], int(r["attempt"]),
                    DeliveryState(r["state"]), _aware(r["at"]), http_status=int(r["http_status"]),
                    error=r["error"], duration_ms=float(r["duration_ms"]),
                    next_attempt_at=_aware(r["next_attempt_at"]) if r["state"] == "retrying" else None)
            for r in rows]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
