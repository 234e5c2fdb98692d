"""The bad-input matrix of issue 3, at the decoding and validation layers (offline)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from ingest.decode import decode_body
from ingest.errors import BatchTooLarge, InvalidEvent
from ingest.pseudonym import Pseudonymizer
from ingest.registry import Device, DeviceRegistry
from ingest.validate import UNKNOWN_DEVICE, EventValidator
from tests.factories import event_dict

PZ = Pseudonymizer({"k1": b"unit-test-secret"}, "k1")


@pytest.fixture
def validator() -> EventValidator:
    known = Device(device_id="tdet-0042", type="detector", category="traffic", lat=30.2741, lon=120.1551)
    return EventValidator(DeviceRegistry([known]), PZ)


def test_truncated_array_keeps_the_complete_items():
    body = orjson.dumps([event_dict(), event_dict()])[:-40]
    decoded = decode_body(body, max_items=100)
    assert [i.error is None for i in decoded.items] == [True, False]
    assert "truncated" in decoded.items[1].error
    assert body.endswith(decoded.raw(1))


def test_invalid_utf8_rejects_only_that_item():
    good = orjson.dumps(event_dict())
    bad = orjson.dumps(event_dict(attributes={"note": "MARK"})).replace(b"MARK", b"caf\xe9")  # latin-1 é
    for body in (b"[" + good + b"," + bad + b"]", good + b"\n" + bad + b"\n"):
        decoded = decode_body(body, max_items=100)
        assert decoded.items[0].error is None
        assert "invalid UTF-8" in decoded.items[1].error
        assert decoded.raw(1) == bad


def test_ndjson_and_gzip():
    items = [event_dict() for _ in range(3)]
    ndjson = b"\n".join(orjson.dumps(e) for e in items) + b"\n\n"
    assert [i.value for i in decode_body(gzip.compress(ndjson), max_items=10, gzipped=True).items] == items


def test_oversize_batches_and_gzip_bombs_are_refused():
    with pytest.raises(BatchTooLarge):
        decode_body(orjson.dumps([event_dict() for _ in range(11)]), max_items=10)
    with pytest.raises(BatchTooLarge):
        decode_body(gzip.compress(b"[" + b" " * 5_000_000 + b"]"), max_items=10, gzipped=True, max_bytes=1_000_000)


def test_pretty_printed_single_object_keeps_its_bytes():
    body = orjson.dumps(event_dict(), option=orjson.OPT_INDENT_2)
    decoded = decode_body(body, max_items=10)
    assert len(decoded.items) == 1 and decoded.raw(0) == body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"measurements": {"speed_kmh": "fast"}}, "measurements.speed_kmh"),
        ({"lat": 91.0}, "lat"),
        ({"lon": -181.0}, "lon"),
        ({"time": "2026-11-21T10:00:00"}, "time"),
        ({"time": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "time"),
        ({"type": "gossip"}, "type"),
        ({"id": ""}, "id"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_fields_are_named(validator, change, field):
    with pytest.raises(InvalidEvent) as err:
        validator.check(event_dict(**change))
    assert err.value.field == field
    assert field.split(".")[0] in err.value.reason and "rule" in err.value.reason


@pytest.mark.parametrize("missing", ["id", "source", "type", "time", "category"])
def test_missing_fields_are_named(validator, missing):
    value = event_dict()
    del value[missing]
    with pytest.raises(InvalidEvent) as err:
        validator.check(value)
    assert err.value.field == missing and "Field required" in err.value.reason


def test_unknown_device_is_flagged_known_device_is_not(validator):
    assert validator.check(event_dict(device_id="nobody-knows")).flags == (UNKNOWN_DEVICE,)
    assert validator.check(event_dict()).flags == ()


def test_clear_identifier_is_pseudonymised_and_never_echoed(validator):
    event = validator.check(event_dict(attributes={"plate_no": "浙A12345"}))
    assert event.attributes["plate_no"] == PZ.pseudonym("浙A12345", "plate")
    with pytest.raises(InvalidEvent) as err:
        validator.check(event_dict(attributes={"phone": "13800138000"}, lat=99))
    assert "13800138000" not in err.value.reason


def test_received_at_is_ours(validator):
    event = validator.check(event_dict(received_at="2020-01-01T00:00:00+00:00"))
    assert event.received_at > datetime.now(UTC) - timedelta(minutes=1)
