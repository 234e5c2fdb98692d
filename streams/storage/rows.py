"""Turn one Kafka message into table rows, or into a dead-letter reason — never into an exception.

Each topic the sink reads maps to one table and one decoder. Events were validated with the full
`CityEvent` model at ingest, so here they get the cheap structural check (`streams.decode`) plus type
coercion per field (one bad value must not poison a whole Arrow batch); the low-volume derived records
(anomalies, incidents, alerts) are validated with their pydantic models, which own that contract.
`kafka_partition`, `kafka_offset` and `inserted_at` are added by the batch, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from ingest.geo import cell_of
from ingest.topics import DEADLETTER_TOPIC, DEVICES_TOPIC, EVENTS_TOPIC
from streams.decode import decode_events
from streams.records import Alert, Anomaly, Incident
from streams.storage.event_columns import fast_event_columns
from streams.topics import ALERTS_TOPIC, ANOMALIES_TOPIC, FEEDBACK_TOPIC, INCIDENTS_TOPIC

Row = dict[str, Any]
Headers = Sequence[tuple[str, bytes | None]]


@dataclass
class Decoded:
    """Rows for the topic's table (as dicts, or already column-wise from the fast path, or in the store's
    insert form once `writer.prepare_message` made them so), plus (original bytes, reason) for what could
    not become a row."""

    rows: list[Row] = field(default_factory=list)
    rejects: list[tuple[bytes, str]] = field(default_factory=list)
    columns: dict[str, Any] | None = None
    column_rows: int = 0

    @property
    def count(self) -> int:
        return self.column_rows if self.columns is not None else len(self.rows)

    def as_columns(self) -> dict[str, Any]:
        if self.columns is not None:
            return self.columns
        return {name: [r[name] for r in self.rows] for name in self.rows[0]} if self.rows else {}


def _time(value: Any) -> datetime:
    """An aware timestamp from ISO text; naive or unparsable is a reject (raises ValueError)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value)
    else:
        raise ValueError(f"timestamp must be ISO-8601 text, got {type(value).__name__}")
    if parsed.tzinfo is None:
        raise ValueError("timestamp without timezone")
    return parsed


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}"[:120])
    return float(value)


def _event_row(e: dict[str, Any]) -> Row:
    lat, lon = _opt_float(e.get("lat")), _opt_float(e.get("lon"))
    cell = e.get("cell") or (cell_of(lat, lon) if lat is not None and lon is not None else "")
    received = e.get("received_at")
    _time(e["time"])  # validated here, converted in bulk by the Arrow step (`arrow._array`)
    return {
        "id": e["id"], "source": e["source"], "type": e["type"], "time": e["time"],
        "device_id": e.get("device_id") or "", "lat": lat, "lon": lon, "cell": str(cell),
        "category": e["category"],
        "measurements": {str(k): float(v) for k, v in (e.get("measurements") or {}).items()},
        "attributes": orjson.dumps(e.get("attributes") or {}).decode(),
        "flags": [str(f) for f in e.get("flags") or ()],
        "schema_version": int(e.get("schema_version", 1)),
        "received_at": _time(received) if received is not None else None,  # rare: per value
    }


def decode_event_message(value: bytes | None) -> Decoded:
    """One events message (a CityEvent object or a CloudEvents batch array) -> rows; all or per item.

    >>> d = decode_event_message(b'[{"id":"e1","source":"s","type":"reading","time":"2026-11-21T10:00:00+08:00",'
    ...     b'"device_id":"d1","category":"traffic","measurements":{"v":1}}, {"id":"e2"}]')
    >>> [r["id"] for r in d.rows], d.rows[0]["time"], d.rejects[0][1]
    (['e1'], '2026-11-21T10:00:00+08:00', 'source: required non-empty string')
    """
    if value and (cols := fast_event_columns(value)) is not None:
        return Decoded(columns=cols, column_rows=len(cols["id"]))
    good, bad = decode_events(value)
    out = Decoded(rejects=list(bad))
    for item in good:
        try:
            out.rows.append(_event_row(item))
        except (TypeError, ValueError, AttributeError) as exc:
            out.rejects.append((orjson.dumps(item), f"sink could not map event {item.get('id')!r}: {exc}"[:500]))
    return out


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _model_rows(value: bytes | None, build: Callable[[Any], Row], many: bool) -> Decoded:
    try:
        doc = orjson.loads(value or b"")
    except orjson.JSONDecodeError as exc:
        return Decoded(rejects=[(value or b"", f"invalid JSON: {exc}")])
    items = doc if many and isinstance(doc, list) else [doc]
    out = Decoded()
    for item in items:
        try:
            out.rows.append(build(item))
        except (ValidationError, TypeError, ValueError, KeyError) as exc:
            raw = value or b"" if len(items) == 1 else orjson.dumps(item)
            out.rejects.append((raw, f"not a valid record: {exc}"[:500]))
    return out


def _anomaly(item: Any) -> Row:
    return Anomaly.model_validate(item).model_dump() | {"cell": item.get("cell") or ""}


def _with_evidence(record: Incident | Alert) -> Row:
    """Evidence travels as a JSON string column: the API serves it as it was decided on."""
    evidence = _json([e.model_dump(mode="json") for e in record.evidence])
    return record.model_dump(exclude={"evidence"}) | {"severity": str(record.severity), "evidence": evidence}


def _incident(item: Any) -> Row:
    return _with_evidence(Incident.model_validate(item))


def _alert(item: Any) -> Row:
    return _with_evidence(Alert.model_validate(item))


_DEVICE_COLUMNS = ("type", "category", "name", "department", "cell")


def _device(item: Any) -> Row:
    if not isinstance(item, dict) or not isinstance(item.get("device_id"), str) or not item["device_id"]:
        raise ValueError("device_id: required non-empty string")
    known = {"device_id", "lat", "lon", "interval_s", "updated_at", "deleted", *_DEVICE_COLUMNS}
    return {
        "device_id": item["device_id"], **{c: str(item.get(c) or "") for c in _DEVICE_COLUMNS},
        "lat": _opt_float(item.get("lat")), "lon": _opt_float(item.get("lon")),
        "interval_s": _opt_float(item.get("interval_s")) or 0.0,
        "attributes": _json({k: v for k, v in item.items() if k not in known}),
        "updated_at": _time(item["updated_at"]), "deleted": 1 if item.get("deleted") else 0,
    }


def _feedback(item: Any) -> Row:
    if not isinstance(item, dict) or not isinstance(item.get("alert_id"), str):
        raise ValueError("alert_id: required string")
    text = {k: str(item.get(k) or "") for k in ("device_id", "metric", "detector", "kind", "note")}
    return {"alert_id": item["alert_id"], **text, "at": _time(item.get("at"))}


def decode_deadletter(value: bytes | None, headers: Headers, timestamp_ms: int) -> Decoded:
    """The dead-letter topic carries original bytes; the why and where-from travel in `cb-*` headers.

    >>> d = decode_deadletter(b"{bad", [("cb-reason", b"invalid JSON"), ("cb-stage", b"ingest"),
    ...                                 ("cb-partition", b"3")], 0)
    >>> d.rows[0]["reason"], d.rows[0]["source_partition"], d.rows[0]["payload"]
    ('invalid JSON', 3, b'{bad')
    """
    h = {k: (v or b"").decode("utf-8", "replace") for k, v in headers}

    def as_int(key: str) -> int | None:
        return int(h[key]) if h.get(key, "").lstrip("-").isdigit() else None

    return Decoded(rows=[{
        "at": datetime.fromtimestamp(timestamp_ms / 1000, UTC), "stage": h.get("cb-stage", "unknown"),
        "reason": h.get("cb-reason", ""), "adapter": h.get("cb-adapter", ""),
        "source_topic": h.get("cb-topic", ""), "source_partition": as_int("cb-partition"),
        "source_offset": as_int("cb-offset"), "payload": value or b"", "kafka_topic": DEADLETTER_TOPIC,
    }])


def sink_deadletter(raw: bytes, reason: str, topic: str, partition: int, offset: int, timestamp_ms: int) -> Row:
    """A dead-letter row for something the sink itself could not store (stage `sink`)."""
    return {
        "at": datetime.fromtimestamp(timestamp_ms / 1000, UTC), "stage": "sink", "reason": reason,
        "adapter": "", "source_topic": topic, "source_partition": partition, "source_offset": offset,
        "payload": raw, "kafka_topic": topic,
    }


#: topic -> (table, decoder(value, headers, timestamp_ms)).
DECODERS: dict[str, tuple[str, Callable[[bytes | None, Headers, int], Decoded]]] = {
    EVENTS_TOPIC: ("events", lambda v, h, t: decode_event_message(v)),
    DEADLETTER_TOPIC: ("deadletters", decode_deadletter),
    ANOMALIES_TOPIC: ("anomalies", lambda v, h, t: _model_rows(v, _anomaly, many=True)),
    INCIDENTS_TOPIC: ("incidents", lambda v, h, t: _model_rows(v, _incident, many=False)),
    ALERTS_TOPIC: ("alerts", lambda v, h, t: _model_rows(v, _alert, many=False)),
    DEVICES_TOPIC: ("devices", lambda v, h, t: _model_rows(v, _device, many=False)),
    FEEDBACK_TOPIC: ("feedback", lambda v, h, t: _model_rows(v, _feedback, many=False)),
}
