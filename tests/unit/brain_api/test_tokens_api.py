"""Tokens end to end: admin issues (secret once), lists without secrets, revokes; expiry and roles hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from brain_api.security.roles import Role
from tests.unit.brain_api.conftest import ADMIN_SECRET, CELL, bearer

ADMIN = bearer(ADMIN_SECRET)


def test_admin_issues_lists_and_revokes(client):
    r = client.post("/api/v1/tokens", headers=ADMIN, json={"role": "department", "department": "traffic",
                                                           "label": "traffic desk"})
    assert r.status_code == 201
    secret, token_id = r.json()["token"], r.json()["id"]
    me = client.get("/api/v1/me", headers=bearer(secret)).json()
    assert (me["role"], me["department"]) == ("department", "traffic")
    listed = client.get("/api/v1/tokens", headers=ADMIN).json()["data"]
    mine = next(t for t in listed if t["id"] == token_id)
    assert mine["active"] and "token" not in mine and secret not in str(listed)
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=ADMIN).json()["active"] is False
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert client.delete("/api/v1/tokens/000000000000", headers=ADMIN).status_code == 404


def test_expired_and_unknown_and_tampered_tokens_are_401(client, issue):
    expired = issue(Role.operator, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert client.get("/api/v1/me", headers=bearer(expired)).status_code == 401
    good = issue(Role.operator)
    assert client.get("/api/v1/me", headers=bearer(good)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(good[:-2] + "xx")).status_code == 401
    r = client.get("/api/v1/me")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.post("/api/v1/tokens", headers=ADMIN, json={"role": "operator", "expires_in_s": 1})
    assert r.status_code == 201 and r.json()["expires_at"] is not None


def test_only_admins_manage_tokens_and_grants_are_checked(client, issue):
    op = bearer(issue(Role.operator))
    assert client.post("/api/v1/tokens", headers=op, json={"role": "admin"}).status_code == 403
    assert client.get("/api/v1/tokens", headers=op).status_code == 403
    bad = [{"role": "department"}, {"role": "department", "department": "nope"}, {"role": "grid-worker"},
           {"role": "grid-worker", "cells": ["zzz"]}, {"role": "operator", "cells": [CELL]}]
    for body in bad:
        assert client.post("/api/v1/tokens", headers=ADMIN, json=body).status_code == 422, body
    r = client.post("/api/v1/tokens", headers=ADMIN, json={"role": "grid-worker", "cells": ["85309a43fffffff"]})
    assert r.status_code == 201 and len(r.json()["cells"]) == 343


def test_token_create_and_revoke_are_audited(client, store):
    token_id = client.post("/api/v1/tokens", headers=ADMIN, json={"role": "engineer"}).json()["id"]
    client.delete(f"/api/v1/tokens/{token_id}", headers=ADMIN)
    rows = store.query("SELECT action, actor FROM audit_log WHERE resource_id = {id:String} ORDER BY at",
                       {"id": token_id})
    assert [(r["action"], r["actor"]) for r in rows] == [("token.create", "env-admin"), ("token.revoke", "env-admin")]
