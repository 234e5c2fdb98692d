"""Hostile strings through every filter are inert: they match nothing (or are refused), tables survive."""

from __future__ import annotations

import pytest

from brain_api.security.roles import Role
from tests.unit.brain_api.conftest import alert_row, bearer

PAYLOADS = [
    "' OR 1=1 --", "x') OR ('1'='1", "traffic' UNION SELECT secret_sha256 FROM api_tokens --",
    "'; DROP TABLE alerts; --", "{department:String}", "\\' OR 1=1 #", "traffic\x00", "1); SELECT sleep(3",
]
FILTERS = ["department", "category", "severity", "state", "cell", "device_id", "bbox", "since", "until", "cursor"]


@pytest.mark.parametrize("param", FILTERS)
def test_alert_filters_are_bound_not_pasted(client, issue, add_alerts, store, param):
    add_alerts(alert_row())
    before = store.query("SELECT count() AS n FROM alerts")[0]["n"]
    h = bearer(issue(Role.operator))
    for payload in PAYLOADS:
        r = client.get("/api/v1/alerts", headers=h, params={param: payload})
        assert r.status_code in (200, 422), (param, payload, r.text)
        if r.status_code == 200:
            assert r.json()["data"] == [], (param, payload)
    assert store.query("SELECT count() AS n FROM alerts")[0]["n"] == before
    assert store.query("SELECT count() AS n FROM api_tokens")[0]["n"] > 0


def test_scope_cannot_be_widened_through_filters_or_paths(client, issue, add_alerts):
    (other,) = add_alerts(alert_row(department="health", category="health"))
    h = bearer(issue(Role.department, department="traffic"))
    for payload in PAYLOADS + ["health"]:
        data = client.get("/api/v1/alerts", headers=h, params={"department": payload, "limit": 500}).json()["data"]
        assert all(a["department"] == "traffic" for a in data)
    assert client.get(f"/api/v1/alerts/{other['id']}' OR '1'='1", headers=h).status_code == 404
    assert client.post(f"/api/v1/alerts/{other['id']}/ack", headers=h, json={"note": "'; DROP"}).status_code == 404
    kpis = client.get("/api/v1/kpis", headers=h, params={"department": "' OR 1=1 --"})
    assert kpis.status_code == 200 and kpis.json()["data"] == []
