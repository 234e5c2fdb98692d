"""KPIs computed in ClickHouse from real transitions; stats and metrics answer; rate limits bite with 429."""

from __future__ import annotations

from datetime import timedelta

from brain_api.security.ratelimit import RateLimiter
from brain_api.security.roles import Role
from tests.unit.brain_api.conftest import ADMIN_SECRET, alert_row, bearer, minutes_ago


def _transition(store, alert, version, frm, to, after_s, actor="t-op"):
    store.insert("alert_transitions", {
        "alert_id": [alert["id"]], "from_state": [frm], "to_state": [to], "actor": [actor], "note": [""],
        "at": [alert["created_at"] + timedelta(seconds=after_s)], "version": [version]})


def test_kpis_per_department(client, issue, add_alerts, store):
    t0 = minutes_ago(600)
    a1, a2, a3, a4 = add_alerts(*(alert_row(department="environment", category="environment",
                                            created_at=t0 + timedelta(seconds=i)) for i in range(4)))
    _transition(store, a1, 1, "open", "acknowledged", 60)
    _transition(store, a1, 2, "acknowledged", "resolved", 600)
    _transition(store, a2, 1, "open", "escalated", 700, actor="system:escalation")
    _transition(store, a2, 2, "escalated", "acknowledged", 900)
    _transition(store, a3, 1, "open", "false_positive", 120)
    r = client.get("/api/v1/kpis", headers=bearer(issue(Role.operator)),
                   params={"department": "environment", "since": (t0 - timedelta(minutes=1)).isoformat(),
                           "until": (t0 + timedelta(minutes=1)).isoformat(), "period": "hour"})
    assert r.status_code == 200, r.text
    (row,) = r.json()["data"]
    assert row["alerts"] == 4
    assert row["handled_within_5min"] == 0.5  # a1 (60 s) and a3 (120 s); a2 took 900 s, a4 untouched
    assert row["false_positive_rate"] == 0.25
    assert row["ack_p50_s"] == 120.0 and row["ack_p90_s"] == 900.0
    assert row["resolve_p50_s"] == 600.0
    other = client.get("/api/v1/kpis", headers=bearer(issue(Role.department, department="traffic")),
                       params={"department": "environment"}).json()
    assert other["data"] == []


def test_stats_and_metrics(client, issue, add_alerts):
    add_alerts(alert_row())
    body = client.get("/api/v1/stats", headers=bearer(issue(Role.engineer))).json()
    assert body["alerts"] >= 1 and body["events_stored"] >= 0 and "ingest" in body
    assert client.get("/metrics").status_code == 401
    r = client.get("/metrics", headers=bearer(ADMIN_SECRET))
    assert r.status_code == 200 and "# HELP" in r.text
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["store"] == "ok"


def test_rate_limit_answers_429_with_retry_after(app, client, issue):
    saved = app.state.rate_limiter
    app.state.rate_limiter = RateLimiter(rate=0.5, burst=3)
    try:
        h = bearer(issue(Role.operator))
        codes = [client.get("/api/v1/alerts", headers=h, params={"limit": 1}).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        r = client.get("/api/v1/alerts", headers=h)
        assert int(r.headers["retry-after"]) >= 1
        assert client.get("/api/v1/alerts", headers=bearer(issue(Role.operator))).status_code == 200  # per caller
    finally:
        app.state.rate_limiter = saved
