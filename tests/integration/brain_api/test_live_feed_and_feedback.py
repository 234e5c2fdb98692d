"""Real broker: an alert streams publish reaches WebSocket clients within a second; a false-positive mark
becomes a feedback record on `citybrain.feedback.v1` in the documented shape.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import orjson
import pytest

from streams.records import Alert, Evidence
from streams.topics import ALERTS_TOPIC, FEEDBACK_TOPIC
from tests.integration.brain_api.conftest import ADMIN_SECRET

pytestmark = pytest.mark.integration
H = {"Authorization": f"Bearer {ADMIN_SECRET}"}


def _alert(alert_id: str) -> Alert:
    now = datetime.now(UTC)
    ev = Evidence(anomaly_id="an-1", device_id=f"dev-{alert_id}", metric="speed_kmh", observed=8.0, expected=45.0,
                  score=0.97, detector="seasonal", time=now, event_id="e-1")
    return Alert(id=alert_id, incident_id=f"in-{alert_id}", department="traffic", category="traffic",
                 sub_category="trafficJam", severity="high", confidence=0.9, title="Speed collapse",
                 description="speed far below baseline", cell="88309a553dfffff", lat=30.27, lon=120.15,
                 evidence=(ev,), created_at=now)


def test_alert_from_kafka_reaches_websocket_within_a_second(live_client, kafka_bootstrap):
    from kafka import KafkaProducer

    feed = live_client.app.state.live_feed
    deadline = time.monotonic() + 20
    while not feed.ready.is_set() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert feed.ready.is_set(), "live feed did not assign its partitions"
    alert = _alert(f"al-{uuid.uuid4().hex[:10]}")
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        with live_client.websocket_connect(f"/api/v1/live/ws?access_token={ADMIN_SECRET}") as ws:
            t0 = time.monotonic()
            producer.send(ALERTS_TOPIC, key=b"traffic", value=alert.model_dump_json().encode()).get(10)
            frame = orjson.loads(ws.receive_text())
            elapsed = time.monotonic() - t0
    finally:
        producer.close()
    assert frame["event"] == "alert" and frame["data"]["id"] == alert.id and frame["data"]["state"] == "open"
    assert elapsed < 1.0, elapsed


def test_false_positive_publishes_feedback(live_client, store, kafka_bootstrap):
    from kafka import KafkaConsumer, TopicPartition

    alert = _alert(f"al-{uuid.uuid4().hex[:10]}")
    row = alert.model_dump(mode="json")
    store.insert("alerts", {
        **{k: [row[k]] for k in ("id", "incident_id", "department", "category", "sub_category", "severity",
                                 "confidence", "title", "description", "cell", "lat", "lon", "version")},
        "evidence": [orjson.dumps(row["evidence"]).decode()], "created_at": [alert.created_at],
        "kafka_partition": [0], "kafka_offset": [0], "inserted_at": [alert.created_at]})
    r = live_client.post(f"/api/v1/alerts/{alert.id}/false-positive", headers=H, json={"note": "road works"})
    assert r.status_code == 200 and r.json()["state"] == "false_positive"

    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False, group_id=None,
                             consumer_timeout_ms=5000)
    try:
        parts = [TopicPartition(FEEDBACK_TOPIC, p) for p in consumer.partitions_for_topic(FEEDBACK_TOPIC)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        records = [orjson.loads(m.value) for m in consumer]
    finally:
        consumer.close()
    mine = [x for x in records if x["alert_id"] == alert.id]
    assert len(mine) == 1
    assert {k: mine[0][k] for k in ("device_id", "metric", "detector", "kind", "note")} == {
        "device_id": f"dev-{alert.id}", "metric": "speed_kmh", "detector": "seasonal", "kind": "false_positive",
        "note": "road works"}
