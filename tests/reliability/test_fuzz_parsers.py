"""Bad input at every door (offline): hypothesis throws arbitrary bytes and near-valid records at the event
parsers (ingest/decode.py, ingest/validate.py, streams/decode.py), the citizen-report translator and the
GA/T 1400 adapter (ingest/viid.py). None may crash; every rejection must carry a reason (and, for the
validator, never echo a personal identifier in clear). The API surface itself is fuzzed by schemathesis
in tests/integration/brain_api/test_openapi_fuzz.py.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import viid
from ingest.decode import decode_body
from ingest.errors import BatchTooLarge, InvalidEvent
from ingest.events import CityEvent
from ingest.feeds import report_to_event
from ingest.pseudonym import Pseudonymizer
from ingest.registry import DeviceRegistry
from ingest.validate import EventValidator
from streams.decode import check_event, decode_events
from tests.factories import event_dict

PZ = Pseudonymizer({"k1": b"fuzz-test-secret"}, "k1")
VALIDATOR = EventValidator(DeviceRegistry(), PZ)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PLATE = "浙A7Q9K2"

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(allow_nan=True),
                         st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)
FIELDS = ["id", "source", "type", "time", "device_id", "lat", "lon", "category", "measurements", "attributes",
          "flags", "cell", "schema_version", "received_at"]


@st.composite
def near_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with a few fields replaced, removed or added: what buggy senders produce."""
    event: dict[str, Any] = event_dict(attributes={"plate_no": PLATE})
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        action = draw(st.sampled_from(["replace", "drop"]))
        if action == "drop":
            event.pop(name, None)
        else:
            event[name] = draw(json_values)
    if draw(st.booleans()):
        event[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    return event


@FUZZ
@given(st.one_of(st.binary(max_size=600), json_values.map(orjson.dumps),
                 st.lists(near_events(), max_size=5).map(orjson.dumps)))
def test_request_bodies_split_into_items_or_explain_why_not(body: bytes) -> None:
    try:
        decoded = decode_body(body, max_items=50)
    except BatchTooLarge:
        return
    for item in decoded.items:
        assert (item.error is None) == isinstance(item.value, dict) or item.error, item
        if item.error is not None:
            assert item.error.strip()
            assert isinstance(decoded.raw(item.index), bytes)


@FUZZ
@given(near_events())
def test_validator_accepts_or_names_the_problem_without_echoing_identifiers(value: dict[str, Any]) -> None:
    try:
        event = VALIDATOR.check(value)
    except InvalidEvent as exc:
        assert exc.reason.strip() and PLATE not in exc.reason, exc.reason
        return
    assert isinstance(event, CityEvent)
    assert PLATE not in event.model_dump_json()


@FUZZ
@given(st.one_of(st.binary(max_size=600), json_values.map(orjson.dumps),
                 st.lists(near_events(), max_size=5).map(orjson.dumps)))
def test_kafka_values_become_events_or_dead_letters_with_reasons(value: bytes) -> None:
    good, bad = decode_events(value)
    assert all(check_event(e) is None for e in good)
    assert all(isinstance(raw, bytes) and reason.strip() for raw, reason in bad)
    assert good or bad or orjson.loads(value) == []  # an empty batch holds nothing to lose


VIID_OBJECT = st.dictionaries(
    st.sampled_from(["MotorVehicleID", "PersonID", "CrowdCountID", "DeviceID", "PlateNo", "Speed", "PassTime",
                     "ShotTime", "PersonAppearTime", "Count", "Density", "FaceID", "IDNumber", "LaneNo"]),
    st.one_of(json_scalars, st.just("20261121100000")), max_size=10,
).flatmap(lambda obj: st.sampled_from([obj, obj | {"PlateNo": PLATE}, obj | {"PersonID": PLATE}]))


@FUZZ
@given(st.sampled_from(list(viid.LISTS)), st.one_of(json_values, VIID_OBJECT,
       st.builds(lambda objs: objs, st.lists(VIID_OBJECT, max_size=3))))
def test_viid_envelopes_and_objects_translate_or_explain(kind: str, payload: Any) -> None:
    outer, inner = viid.LISTS[kind]
    body = {outer: {inner: payload}} if isinstance(payload, list) else payload
    try:
        objects = viid.objects_of(body, kind)
    except InvalidEvent as exc:
        assert exc.reason.strip()
        return
    translate = {"vehicles": lambda o: viid.vehicle_to_event(o, PZ), "persons": lambda o: viid.person_to_event(o, PZ),
                 "crowd": viid.crowd_to_event}[kind]
    for obj in objects:
        try:
            event = VALIDATOR.check(translate(obj))
        except InvalidEvent as exc:
            assert exc.reason.strip() and PLATE not in exc.reason, exc.reason
            continue
        assert PLATE not in event.model_dump_json()


@FUZZ
@given(st.one_of(json_values, st.dictionaries(
    st.sampled_from(["id", "category", "text", "lat", "lon", "location", "crs", "reporter_phone", "time"]),
    st.one_of(json_scalars, st.just("gcj02"), st.fixed_dictionaries({"lat": json_scalars, "lon": json_scalars})),
    max_size=9)))
def test_citizen_reports_translate_or_explain(obj: Any) -> None:
    try:
        event = VALIDATOR.check(report_to_event(obj, PZ))
    except InvalidEvent as exc:
        assert exc.reason.strip()
        return
    assert event.type == "report"
