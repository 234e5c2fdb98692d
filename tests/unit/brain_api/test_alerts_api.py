"""Alerts over HTTP against real chdb: shape, filters, scope, detail with history, transitions."""

from __future__ import annotations

import pytest

from brain_api.security.roles import Role
from tests.unit.brain_api.conftest import CELL, OTHER_CELL, alert_row, bearer, minutes_ago


@pytest.fixture(scope="module")
def seeded(add_alerts):
    return add_alerts(
        alert_row(department="traffic", severity="high", created_at=minutes_ago(3)),
        alert_row(department="health", category="health", severity="low", cell=OTHER_CELL,
                  lat=30.5, lon=120.5, created_at=minutes_ago(2)),
        alert_row(department="environment", category="environment", severity="critical", created_at=minutes_ago(1),
                  evidence=[{"anomaly_id": "an-x", "device_id": "aq-7", "metric": "pm25", "observed": 300.0,
                             "expected": 35.0, "score": 0.99, "detector": "robust_z",
                             "time": "2026-11-21T02:00:00+00:00", "event_id": "e-aq"}]),
    )


def test_alert_json_has_the_contract_fields(client, issue, seeded):
    r = client.get("/api/v1/alerts", headers=bearer(issue(Role.operator)), params={"department": "traffic"})
    assert r.status_code == 200
    alert = next(a for a in r.json()["data"] if a["id"] == seeded[0]["id"])
    for key in ("id", "incident_id", "department", "category", "sub_category", "severity", "state", "title",
                "description", "cell", "lat", "lon", "created_at", "evidence"):
        assert key in alert
    assert alert["state"] == "open"
    ev = alert["evidence"][0]
    assert {k: ev[k] for k in ("device_id", "metric", "observed", "expected", "detector")} == {
        "device_id": "tdet-0042", "metric": "speed_kmh", "observed": 8.0, "expected": 45.0, "detector": "seasonal"}


def test_filters_select_the_right_alerts(client, issue, seeded):
    h = bearer(issue(Role.operator))
    ids = {a["id"] for a in seeded}

    def found(**params):
        data = client.get("/api/v1/alerts", headers=h, params={**params, "limit": 500}).json()["data"]
        return {a["id"] for a in data} & ids

    assert found(severity="critical") == {seeded[2]["id"]}
    assert found(device_id="aq-7") == {seeded[2]["id"]}
    assert found(cell=OTHER_CELL) == {seeded[1]["id"]}
    assert found(bbox="120.4,30.4,120.6,30.6") == {seeded[1]["id"]}
    assert found(department=["traffic", "health"]) == {seeded[0]["id"], seeded[1]["id"]}
    assert found(since=minutes_ago(1.5).isoformat()) == {seeded[2]["id"]}
    assert found(until=minutes_ago(2.5).isoformat()) == {seeded[0]["id"]}


def test_department_and_grid_worker_see_only_their_scope(client, issue, seeded):
    ids = {a["id"] for a in seeded}
    dept = client.get("/api/v1/alerts", headers=bearer(issue(Role.department, department="health"))).json()
    assert {a["id"] for a in dept["data"]} & ids == {seeded[1]["id"]}
    assert all(a["department"] == "health" for a in dept["data"])
    grid = client.get("/api/v1/alerts", headers=bearer(issue(Role.grid_worker, cells=(CELL,)))).json()
    assert {a["id"] for a in grid["data"]} & ids == {seeded[0]["id"], seeded[2]["id"]}
    # Asking for what lies outside the scope is not an error, it is simply empty.
    assert client.get(f"/api/v1/alerts/{seeded[1]['id']}",
                      headers=bearer(issue(Role.grid_worker, cells=(CELL,)))).status_code == 404


def test_detail_has_evidence_history_and_is_audited(client, issue, store, seeded):
    op = issue(Role.operator)
    alert_id = seeded[2]["id"]
    assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers=bearer(op), json={"note": "on it"}).status_code == 200
    r = client.post(f"/api/v1/alerts/{alert_id}/dispatch", headers=bearer(op), json={"note": "team 4"})
    assert r.json()["state"] == "dispatched" and r.json()["state_version"] == 2
    detail = client.get(f"/api/v1/alerts/{alert_id}", headers=bearer(op)).json()
    assert [(h["from_state"], h["to_state"], h["note"]) for h in detail["history"]] == [
        ("open", "acknowledged", "on it"), ("acknowledged", "dispatched", "team 4")]
    assert "e-aq" in detail["related_event_ids"]
    actions = {r["action"] for r in store.query(
        "SELECT action FROM audit_log WHERE resource_id = {id:String}", {"id": alert_id})}
    assert {"alert.ack", "alert.dispatch", "alert.read"} <= actions


def test_state_machine_refuses_with_409_and_unknown_alert_is_404(client, issue, add_alerts):
    (alert,) = add_alerts(alert_row())
    h = bearer(issue(Role.operator))
    assert client.post(f"/api/v1/alerts/{alert['id']}/resolve", headers=h, json={}).status_code == 409
    assert client.post(f"/api/v1/alerts/{alert['id']}/false-positive", headers=h, json={}).status_code == 200
    r = client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=h, json={})
    assert r.status_code == 409 and "false_positive" in r.json()["detail"]
    assert client.post("/api/v1/alerts/al-nope/ack", headers=h, json={}).status_code == 404
    assert client.post(f"/api/v1/alerts/{alert['id']}/reopen", headers=h, json={}).status_code == 422


def test_stale_expected_version_is_refused(client, issue, add_alerts):
    (alert,) = add_alerts(alert_row())
    h = bearer(issue(Role.operator))
    assert client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=h, json={"expected_version": 0}).status_code == 200
    r = client.post(f"/api/v1/alerts/{alert['id']}/dispatch", headers=h, json={"expected_version": 0})
    assert r.status_code == 409 and "version 1" in r.json()["detail"]


def test_current_state_of_an_acted_on_alert_for_the_live_feed(client, issue, store, add_alerts):
    """The live feed asks this for every escalated (re-sent) alert; it once failed on a column alias."""
    from brain_api.alerting.queries import current_state

    (alert,) = add_alerts(alert_row())
    assert current_state(store, alert["id"]) == ("open", 0)
    h = bearer(issue(Role.operator))
    assert client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=h, json={}).status_code == 200
    assert client.post(f"/api/v1/alerts/{alert['id']}/dispatch", headers=h, json={}).status_code == 200
    assert current_state(store, alert["id"]) == ("dispatched", 2)
