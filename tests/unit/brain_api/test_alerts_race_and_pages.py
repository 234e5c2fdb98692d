"""Concurrency and paging: of many simultaneous acks exactly one wins; cursor pages neither repeat nor skip."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from brain_api.security.roles import Role
from tests.unit.brain_api.conftest import alert_row, bearer, minutes_ago


async def test_concurrent_acks_exactly_one_succeeds(app, client, issue, add_alerts, store):
    (alert,) = add_alerts(alert_row())
    tokens = [issue(Role.operator) for _ in range(4)]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as ac:
        replies = await asyncio.gather(*(
            ac.post(f"/api/v1/alerts/{alert['id']}/ack", headers=bearer(tokens[i % 4]), json={"note": f"op {i}"})
            for i in range(24)))
    codes = sorted(r.status_code for r in replies)
    assert codes.count(200) == 1 and codes.count(409) == 23, codes
    rows = store.query("SELECT version FROM alert_transitions WHERE alert_id = {id:String}", {"id": alert["id"]})
    assert [r["version"] for r in rows] == [1]


def test_cursor_pages_cover_everything_once_even_while_new_alerts_arrive(client, issue, add_alerts):
    cell = "88309a5093fffff"
    base = minutes_ago(60)
    made = add_alerts(*(alert_row(cell=cell, created_at=base + timedelta(seconds=i // 2)) for i in range(25)))
    h = bearer(issue(Role.operator))
    seen: list[str] = []
    cursor = None
    for page in range(5):
        params = {"cell": cell, "limit": 10, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/alerts", headers=h, params=params).json()
        seen += [a["id"] for a in body["data"]]
        assert body["count"] == len(body["data"])
        if page == 0:  # a newer alert lands at the head: later pages must not shift
            add_alerts(alert_row(cell=cell, created_at=minutes_ago(0)))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 25
    assert set(seen) == {a["id"] for a in made}
    stamps = [(a["created_at"], a["id"]) for a in sorted(made, key=lambda a: (a["created_at"], a["id"]), reverse=True)]
    assert seen == [i for _, i in stamps]


def test_a_forged_cursor_is_422(client, issue):
    r = client.get("/api/v1/alerts", headers=bearer(issue(Role.operator)), params={"cursor": "bm90IGEgY3Vyc29y"})
    assert r.status_code == 422
