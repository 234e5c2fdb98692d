"""Webhook signatures as a receiver checks them, and the delivery body/retry rules they rely on."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from brain_api.webhooks.delivery import build_delivery, delivery_id, is_permanent_refusal
from brain_api.webhooks.settings import backoff_delay
from brain_api.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signed_headers, verify
from streams.records import Alert

SECRET = "a-long-enough-test-secret"


def make_alert(**over: object) -> Alert:
    base = dict(id="al-1", incident_id="in-1", department="traffic", category="traffic",
                sub_category="trafficJam", severity="high", confidence=0.9, title="Speed collapse",
                description="d", cell="88309a553dfffff", created_at=datetime(2026, 11, 21, 2, tzinfo=UTC))
    base.update(over)
    return Alert.model_validate(base)


def test_signature_is_hmac_sha256_of_the_raw_body_as_documented():
    body = b'{"event":"alert","alert":{"id":"al-1"}}'
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(SECRET, body) == f"sha256={expected}"


@given(st.binary(max_size=2048))
def test_any_body_verifies_under_its_secret_only(body: bytes):
    header = sign(SECRET, body)
    assert verify(SECRET, body, header)
    assert not verify(SECRET + "x", body, header)
    assert not verify(SECRET, body + b"\n", header)


@pytest.mark.parametrize("header", [None, "", "sha1=abc", "sha256=", "sha256=" + "0" * 64])
def test_malformed_or_forged_headers_fail(header):
    assert not verify(SECRET, b"{}", header)


def test_headers_carry_signature_timestamp_and_delivery_id():
    at = datetime(2026, 11, 21, 2, 0, 5, tzinfo=UTC)
    h = signed_headers(SECRET, b"{}", delivery_id="d-9", at=at)
    assert verify(SECRET, b"{}", h[SIGNATURE_HEADER])
    assert h[TIMESTAMP_HEADER] == str(int(at.timestamp()))
    assert h["X-CityBrain-Delivery"] == "d-9"


def test_delivery_body_is_built_once_and_names_itself():
    alert = make_alert()
    d = build_delivery("sub-1", alert, datetime(2026, 11, 21, 2, 0, 1, tzinfo=UTC))
    body = orjson.loads(d.body)
    assert body["delivery_id"] == d.id == delivery_id("sub-1", "al-1", 1)
    assert body["alert"] == alert.model_dump(mode="json")
    # an escalated version is a different delivery; the same version to another subscription too
    assert delivery_id("sub-1", "al-1", 2) != d.id != delivery_id("sub-2", "al-1", 1)


def test_backoff_doubles_then_caps():
    delays = [backoff_delay(n, 0.5, 10.0) for n in range(1, 8)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_client_errors_are_final_but_throttling_and_server_errors_are_retried():
    assert is_permanent_refusal(400) and is_permanent_refusal(410)
    assert not any(is_permanent_refusal(s) for s in (0, 408, 429, 500, 502, 503))
