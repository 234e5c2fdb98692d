"""Topic names owned by ingest. Bump the suffix together with `CityEvent.schema_version`."""

from __future__ import annotations

EVENTS_TOPIC = "citybrain.events.v1"
DEADLETTER_TOPIC = "citybrain.deadletter.v1"

#: CloudEvents content types: one event per message, or a JSON array of events (batch mode).
CONTENT_TYPE_ONE = b"application/cloudevents+json"
CONTENT_TYPE_BATCH = b"application/cloudevents-batch+json"

#: Device registry changes: one flat JSON record per message keyed by device_id (see docs/architecture.md).
DEVICES_TOPIC = "citybrain.devices.v1"
