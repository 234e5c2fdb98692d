"""Unacknowledged alerts escalate after the configured time; acknowledged or fresh ones do not."""

from __future__ import annotations

from brain_api.alerting.escalation import escalate_overdue
from brain_api.alerting.queries import current_state
from brain_api.security.roles import Role
from tests.unit.brain_api.conftest import alert_row, bearer, minutes_ago


def test_only_open_alerts_older_than_the_limit_escalate(client, app, store, issue, add_alerts):
    stale, acked, fresh = add_alerts(alert_row(created_at=minutes_ago(20)), alert_row(created_at=minutes_ago(20)),
                                     alert_row(created_at=minutes_ago(1)))
    h = bearer(issue(Role.operator))
    assert client.post(f"/api/v1/alerts/{acked['id']}/ack", headers=h, json={}).status_code == 200

    escalated = escalate_overdue(app.state.transitions, after_s=600)

    assert stale["id"] in escalated and acked["id"] not in escalated and fresh["id"] not in escalated
    assert current_state(store, stale["id"]) == ("escalated", 1)
    assert current_state(store, acked["id"]) == ("acknowledged", 1)
    assert current_state(store, fresh["id"]) == ("open", 0)
    assert stale["id"] not in escalate_overdue(app.state.transitions, after_s=600), "escalates once"
    history = client.get(f"/api/v1/alerts/{stale['id']}", headers=h).json()["history"]
    assert history[-1]["actor"] == "system:escalation"
