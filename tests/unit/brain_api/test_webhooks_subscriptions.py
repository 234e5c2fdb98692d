"""Subscription filters and scope folding (pure), then the subscriptions API against real chdb."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from brain_api.security.roles import Principal, Role
from brain_api.webhooks.models import ScopeError, SubscriptionCreate, fold_scope
from brain_api.webhooks.subscription import Subscription, matching
from streams.records import Severity
from tests.unit.brain_api.conftest import CELL, OTHER_CELL, bearer
from tests.unit.brain_api.test_webhooks_signing import make_alert

KEY = "k" * 16


def test_every_non_empty_filter_must_hold():
    alert = make_alert(severity="medium", cell=CELL)
    assert Subscription("s", "http://x", KEY).matches(alert)
    assert Subscription("s", "http://x", KEY, department="traffic", categories=("traffic",),
                        min_severity=Severity.medium, cells=(CELL,)).matches(alert)
    assert not Subscription("s", "http://x", KEY, min_severity=Severity.high).matches(alert)
    assert not Subscription("s", "http://x", KEY, cells=(OTHER_CELL,)).matches(alert)
    assert not Subscription("s", "http://x", KEY, categories=("health",)).matches(alert)
    assert not Subscription("s", "http://x", KEY, active=False).matches(alert)


def test_only_alerts_raised_after_the_subscription_are_delivered():
    created = datetime(2026, 11, 21, 2, tzinfo=UTC)
    sub = Subscription("s", "http://x", KEY, created_at=created)
    assert not sub.matches(make_alert(created_at=created - timedelta(seconds=1)))
    assert sub.matches(make_alert(created_at=created))


def test_matching_is_sorted_and_filtered():
    subs = [Subscription("b", "http://x", KEY), Subscription("a", "http://x", KEY),
            Subscription("c", "http://x", KEY, department="health")]
    assert [s.id for s in matching(subs, make_alert())] == ["a", "b"]


@pytest.mark.parametrize("url", ["ftp://example.org/x", "example.org/hook", "https://user:pw@example.org/x"])
def test_bad_urls_are_refused(url):
    with pytest.raises(ValidationError):
        SubscriptionCreate(url=url)


def test_department_and_grid_worker_are_held_to_their_scope():
    dept = Principal("t", Role.department, department="health")
    assert fold_scope(dept, SubscriptionCreate(url="https://e.org/h")) == ("health", ())
    with pytest.raises(ScopeError):
        fold_scope(dept, SubscriptionCreate(url="https://e.org/h", department="traffic"))
    worker = Principal("w", Role.grid_worker, cells=frozenset({CELL}))
    assert fold_scope(worker, SubscriptionCreate(url="https://e.org/h")) == (None, (CELL,))
    with pytest.raises(ScopeError):
        fold_scope(worker, SubscriptionCreate(url="https://e.org/h", cells=[OTHER_CELL]))
    # an operator may narrow freely; a district is expanded to its resolution-8 cells
    _, cells = fold_scope(Principal("o", Role.operator), SubscriptionCreate(url="https://e.org/h",
                                                                            cells=["86309a557ffffff"]))
    assert CELL in cells and len(cells) == 49


def test_create_list_get_delete_over_http(client, issue):
    owner = bearer(issue(Role.department, department="traffic"))
    other = bearer(issue(Role.department, department="health"))
    r = client.post("/api/v1/subscriptions", headers=owner,
                    json={"url": "https://hooks.example.org/traffic", "min_severity": "high"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["department"] == "traffic" and len(created["secret"]) >= 32
    sid = created["id"]

    listed = client.get("/api/v1/subscriptions", headers=owner).json()
    assert [s["id"] for s in listed["data"]] == [sid]
    assert "secret" not in listed["data"][0]
    assert client.get(f"/api/v1/subscriptions/{sid}", headers=owner).json()["min_severity"] == "high"
    assert client.get(f"/api/v1/subscriptions/{sid}", headers=other).status_code == 404
    assert client.get("/api/v1/subscriptions", headers=other).json()["count"] == 0
    admin_view = client.get("/api/v1/subscriptions", headers=bearer(issue(Role.admin))).json()
    assert sid in {s["id"] for s in admin_view["data"]}

    assert client.delete(f"/api/v1/subscriptions/{sid}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/subscriptions/{sid}", headers=owner).status_code == 204
    assert client.get(f"/api/v1/subscriptions/{sid}", headers=owner).status_code == 404
    assert client.get("/api/v1/subscriptions", headers=owner).json()["count"] == 0


def test_scope_violations_are_403_and_bad_input_422(client, issue):
    r = client.post("/api/v1/subscriptions", headers=bearer(issue(Role.department, department="traffic")),
                    json={"url": "https://e.org/h", "department": "health"})
    assert r.status_code == 403
    r = client.post("/api/v1/subscriptions", headers=bearer(issue(Role.grid_worker, cells=(CELL,))),
                    json={"url": "https://e.org/h", "cells": [OTHER_CELL]})
    assert r.status_code == 403
    r = client.post("/api/v1/subscriptions", headers=bearer(issue(Role.operator)),
                    json={"url": "https://e.org/h", "cells": ["not-a-cell"]})
    assert r.status_code == 422
    assert client.post("/api/v1/subscriptions", json={"url": "https://e.org/h"}).status_code == 401
