"""Kafka messages to rows: the fast columnar path and the per-event path agree; bad input is a reason."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from streams.storage.rows import DECODERS, decode_event_message
from streams.topics import ALERTS_TOPIC, FEEDBACK_TOPIC
from tests.factories import event_dict, make_anomaly


def test_clean_batch_takes_the_columnar_path() -> None:
    events = [event_dict(received_at="2026-11-21T02:00:01+00:00") for _ in range(20)]
    decoded = decode_event_message(orjson.dumps(events))
    assert decoded.columns is not None and decoded.count == 20 and not decoded.rejects
    assert decoded.columns["id"] == [e["id"] for e in events]
    assert decoded.columns["cell"][0] == "88309a553dfffff"  # derived from lat/lon when absent


def test_one_bad_event_is_isolated_and_the_rest_stored() -> None:
    events = [event_dict(), event_dict(measurements={"speed_kmh": "fast"}), event_dict(time="yesterday")]
    decoded = decode_event_message(orjson.dumps(events))
    assert decoded.columns is None and [r["id"] for r in decoded.rows] == [events[0]["id"]]
    reasons = [why for _, why in decoded.rejects]
    assert "measurements.speed_kmh" in reasons[0] and "yesterday" in reasons[1]
    assert orjson.loads(decoded.rejects[0][0])["id"] == events[1]["id"]  # the item's own bytes


def test_single_object_message_and_broken_json() -> None:
    assert decode_event_message(orjson.dumps(event_dict())).count == 1
    broken = decode_event_message(b'{"id": ')
    assert broken.count == 0 and broken.rejects[0][0] == b'{"id": '


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_and_never_vanish(value: bytes) -> None:
    empty_batch = value.strip() == b"[]"  # a valid batch of nothing: stores nothing, is no error
    for _, decode in DECODERS.values():
        decoded = decode(value, [], 0)
        assert decoded.count + len(decoded.rejects) >= 1 or empty_batch


def test_model_topics_validate_with_their_owner_models() -> None:
    _, decode = DECODERS[ALERTS_TOPIC]
    assert "not a valid record" in decode(b'{"id": "al-1"}', [], 0).rejects[0][1]
    _, decode = DECODERS[FEEDBACK_TOPIC]
    ok = decode(orjson.dumps({"alert_id": "al-1", "kind": "false_positive", "at": "2026-11-21T02:00:00Z"}), [], 0)
    assert ok.rows[0]["alert_id"] == "al-1" and ok.rows[0]["device_id"] == ""
    anomaly = make_anomaly().model_dump(mode="json")
    _, decode = DECODERS["citybrain.anomalies.v1"]
    assert decode(orjson.dumps([anomaly, {"id": "x"}]), [], 0).count == 1
