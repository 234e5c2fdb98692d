"""Pseudonyms: stable, keyed, normalised, rotatable — and clear values never survive redaction."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest.pseudonym import Pseudonymizer
from ingest.redact import redact_bytes

KEYS = {"k1": b"first-secret-key", "k2": b"second-secret-key"}


def test_same_plate_from_two_cameras_gives_the_same_pseudonym():
    camera_a, camera_b = Pseudonymizer(KEYS, "k1"), Pseudonymizer(KEYS, "k1")
    assert camera_a.pseudonym("浙A·8K3M2", "plate") == camera_b.pseudonym(" 浙a 8k3m2 ", "plate")
    assert camera_a.pseudonym("浙A8K3M2", "plate") != camera_a.pseudonym("浙A8K3M3", "plate")


def test_pseudonym_depends_on_key_and_kind():
    k1, k2 = Pseudonymizer(KEYS, "k1"), Pseudonymizer(KEYS, "k2")
    assert k1.pseudonym("13800138000", "phone") != k2.pseudonym("13800138000", "phone")
    assert k1.pseudonym("12345", "plate") != k1.pseudonym("12345", "phone")


def test_rotation_keeps_old_pseudonyms_findable():
    before = Pseudonymizer(KEYS, "k1").pseudonym("浙A8K3M2", "plate")
    after = Pseudonymizer(KEYS, "k2")
    assert after.pseudonym("浙A8K3M2", "plate").startswith("ps1:k2:")
    assert before in after.candidates("浙A8K3M2", "plate")
    assert after.matches("浙a 8k3m2", "plate", before)
    assert not after.matches("浙A8K3M2", "plate", before.replace("k1", "k9"))


def test_phone_spellings_agree():
    pz = Pseudonymizer(KEYS, "k1")
    spellings = ["13800138000", "+86 138-0013-8000", "0086 13800138000", "138 0013 8000"]
    assert len({pz.pseudonym(s, "phone") for s in spellings}) == 1


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=5, max_size=7).map(lambda s: "浙" + s))
def test_redaction_removes_any_clear_plate(plate):
    pz = Pseudonymizer(KEYS, "k1")
    raw = f'{{"PlateNo": "{plate}", "MotorVehicleID": "mv-1", "plate_no":"{plate}"'.encode()
    out = redact_bytes(raw, pz)
    assert plate.encode() not in out.replace(b"mv-1", b"")
    assert out.count(pz.pseudonym(plate, "plate").encode()) == 2


def test_redaction_handles_numeric_phones_and_leaves_the_rest():
    pz = Pseudonymizer(KEYS, "k1")
    out = redact_bytes(b'{"reporter_phone": 13800138000, "text": "call 12345"}', pz)
    assert b"13800138000" not in out and out.endswith(b'"text": "call 12345"}')
