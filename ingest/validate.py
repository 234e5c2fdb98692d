"""Turn one parsed item into a `CityEvent`, or into a rejection that names field, value and rule.

The validator also does what must happen before anything leaves the process: identifiers sent in clear
under a `PII_KEYS` attribute are pseudonymised (a sender's mistake must not leak them), events get
their arrival time, a device known to the registry lends its location when the event has none, and an
event from a device the registry does not know is accepted but flagged `unknown_device`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ingest.errors import InvalidEvent
from ingest.events import CityEvent
from ingest.pseudonym import Pseudonymizer
from ingest.redact import snippet
from ingest.registry import DeviceRegistry

UNKNOWN_DEVICE = "unknown_device"


def reason_of(exc: ValidationError, pz: Pseudonymizer) -> InvalidEvent:
    """The first pydantic error as field path, offending value and rule, identifiers redacted.

    >>> pz = Pseudonymizer({"k1": b"secret-one"}, active_key_id="k1")
    >>> try:
    ...     CityEvent.model_validate({"id": "e", "source": "s", "type": "reading", "category": "air",
    ...                               "device_id": "d", "time": "2026-01-01T00:00:00+00:00", "lat": 123})
    ... except ValidationError as exc:
    ...     r = reason_of(exc, pz)
    >>> r.field, r.reason
    ('lat', 'lat: Input should be less than or equal to 90 (got 123; rule less_than_equal)')
    """
    errors = exc.errors(include_url=False)
    err = errors[0]
    field = ".".join(str(p) for p in err["loc"]) or None
    last = str(err["loc"][-1]) if err["loc"] else None
    msg = err["msg"].removeprefix("Value error, ")
    shown = snippet(err.get("input"), last, pz) if field else None
    got = f"got {shown}; " if field else ""
    more = f"; and {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
    reason = f"{field or 'event'}: {msg} ({got}rule {err['type']}){more}"
    return InvalidEvent(reason, field=field, value=shown)


class EventValidator:
    """Validates CityEvent-shaped dicts against the envelope and the registry.

    >>> v = EventValidator(DeviceRegistry(), Pseudonymizer({"k1": b"secret-one"}, active_key_id="k1"))
    >>> e = v.check({"id": "v-1", "source": "cam", "type": "vehicle", "category": "vehicle",
    ...              "device_id": "cam-9", "time": "2026-01-01T08:00:00+08:00",
    ...              "attributes": {"plate_no": "浙A12345"}})
    >>> e.attributes["plate_no"][:7], e.flags
    ('ps1:k1:', ('unknown_device',))
    """

    def __init__(self, registry: DeviceRegistry, pseudonymizer: Pseudonymizer) -> None:
        self.registry = registry
        self.pz = pseudonymizer

    def check(self, value: dict[str, Any], received_at: datetime | None = None) -> CityEvent:
        """A valid, pseudonymised, located and flagged event; raises `InvalidEvent` otherwise."""
        value = dict(value)
        attributes = value.get("attributes")
        if isinstance(attributes, dict):
            value["attributes"] = {k: self.pz.protect(k, v) for k, v in attributes.items()}
        device = self.registry.get(value["device_id"]) if isinstance(value.get("device_id"), str) else None
        if device is not None and value.get("lat") is None and value.get("lon") is None:
            value["lat"], value["lon"], value["cell"] = device.lat, device.lon, device.cell
        value["received_at"] = received_at or datetime.now(UTC)  # ours, whatever the sender claims
        try:
            event = CityEvent.model_validate(value)
        except ValidationError as exc:
            raise reason_of(exc, self.pz) from None
        if device is None and event.device_id is not None and UNKNOWN_DEVICE not in event.flags:
            event = event.model_copy(update={"flags": (*event.flags, UNKNOWN_DEVICE)})
        return event
