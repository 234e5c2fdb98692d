"""The columnar fast path never accepts what the per-event path would refuse, and stores the same values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from streams.storage.event_columns import fast_event_columns
from streams.storage.rows import decode_event_message
from tests.factories import event_dict

DOUBTFUL: list[dict[str, Any]] = [
    {"measurements": {"speed_kmh": True}},  # a bool is no number
    {"measurements": {"speed_kmh": "42"}},
    {"measurements": [1, 2]},
    {"id": 5}, {"source": ""}, {"category": None},
    {"device_id": 42}, {"device_id": None},  # only reports may lack a device
    {"lat": "30.27"}, {"lon": False},
    {"cell": 7}, {"flags": ["ok", 1]}, {"flags": "ok"},
    {"schema_version": True}, {"schema_version": "1"},
    {"time": "2026-11-21T10:00:00"},  # naive: the per-event path refuses it too
    {"time": "yesterday"}, {"time": 1795226400000}, {"received_at": 17}, {"received_at": ""},
    {"measurements": {"speed_kmh": None}}, {"type": ""},
]


@pytest.mark.parametrize("change", DOUBTFUL, ids=lambda c: ",".join(f"{k}={v!r}" for k, v in c.items()))
def test_doubtful_events_leave_the_fast_path(change: dict[str, Any]) -> None:
    events = [event_dict() for _ in range(3)] + [event_dict(**change)]
    assert fast_event_columns(orjson.dumps(events)) is None
    decoded = decode_event_message(orjson.dumps(events))
    assert decoded.count + len(decoded.rejects) == 4  # nothing vanishes on the way to the per-event path


def test_fast_and_per_event_paths_store_the_same_values() -> None:
    events = [event_dict(flags=["calibrated"], attributes={"lane": 2}, received_at="2026-11-21T02:00:01Z"),
              event_dict(type="report", device_id=None, category="citizen", cell="88309a553dfffff",
                         received_at="2026-11-21T10:00:02+08:00")]
    fast = fast_event_columns(orjson.dumps(events))
    assert fast is not None
    slow = decode_event_message(orjson.dumps(events + [{"id": "bad"}]))  # one reject: the per-event path
    assert len(slow.rows) == 2
    for name in ("id", "source", "type", "device_id", "lat", "lon", "cell", "category", "schema_version"):
        assert fast[name] == [r[name] for r in slow.rows], name
    assert [list(f) for f in fast["flags"]] == [r["flags"] for r in slow.rows]  # () or []: the same Arrow list
    assert fast["attributes"] == [r["attributes"] for r in slow.rows]
    assert [{k: float(v) for k, v in m.items()} for m in fast["measurements"]] == [r["measurements"] for r in slow.rows]
    assert fast["time"].tolist() == [int(datetime.fromisoformat(r["time"]).timestamp() * 1000) for r in slow.rows]
    assert fast["received_at"].tolist()[0] == int(datetime(2026, 11, 21, 2, 0, 1, tzinfo=UTC).timestamp() * 1000)


def test_a_message_mixing_stamped_and_unstamped_events_takes_the_per_event_path_and_keeps_all() -> None:
    events = [event_dict() for _ in range(3)] + [event_dict(received_at="2026-11-21T02:00:01Z")]
    assert fast_event_columns(orjson.dumps(events)) is None
    decoded = decode_event_message(orjson.dumps(events))
    assert decoded.count == 4 and not decoded.rejects
    assert [r["received_at"] is None for r in decoded.rows] == [True, True, True, False]
