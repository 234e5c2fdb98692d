from __future__ import annotations

import orjson
import pytest

from streams.decode import decode_events
from tests.factories import event_dict


def test_batch_message_splits_good_and_bad_items_with_reasons():
    good_event = event_dict()
    value = orjson.dumps([good_event, {**event_dict(), "measurements": {"speed_kmh": "fast"}}, 7])
    good, bad = decode_events(value)
    assert [g["id"] for g in good] == [good_event["id"]]
    reasons = [r for _, r in bad]
    assert reasons[0].startswith("measurements.speed_kmh: must be a number")
    assert reasons[1] == "event must be a JSON object, got int"
    assert orjson.loads(bad[0][0])["measurements"] == {"speed_kmh": "fast"}


@pytest.mark.parametrize("raw, reason", [
    (b"", "empty message"),
    (b"\xff\xfe not utf8", "invalid JSON"),
    (b'{"id": "x"', "invalid JSON"),
    (b'{"id": "x", "source": "s", "type": "reading", "time": "t", "category": "traffic"}', "device_id"),
])
def test_malformed_single_messages_keep_original_bytes(raw, reason):
    good, bad = decode_events(raw)
    assert good == []
    assert bad[0][0] == raw
    assert bad[0][1].startswith(reason)
