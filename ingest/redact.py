"""Scrub personal identifiers out of raw bytes before they are kept anywhere (dead letters, reasons).

A rejected item goes to the dead-letter topic with its original bytes, but the original bytes may hold
a plate or phone number in clear — and it may not even parse (truncated JSON). So instead of parsing,
identifier values behind known keys are found by pattern and swapped for their pseudonyms; every other
byte stays as it was, which keeps dead letters useful for debugging the sender.
"""

from __future__ import annotations

import re

from ingest.pseudonym import Pseudonymizer

#: Wire spellings of identifier keys (ours and GA/T 1400's), lower-cased, mapped to a normalisation kind.
WIRE_KEYS = {
    "plate_no": "plate",
    "plateno": "plate",
    "person_id": "person",
    "personid": "person",
    "face_id": "face",
    "faceid": "face",
    "phone": "phone",
    "reporter_phone": "phone",
    "mobile": "phone",
    "id_number": "id_number",
    "idnumber": "id_number",
}
_PATTERN = re.compile(
    rb'"(?P<key>[A-Za-z_]+)"\s*:\s*(?:"(?P<text>(?:[^"\\]|\\.)*)"?|(?P<number>-?\d[\d.eE+\-]*))'
)
_SNIPPET = 80


def redact_bytes(raw: bytes, pz: Pseudonymizer) -> bytes:
    """Replace identifier values in JSON-ish bytes by pseudonyms; other bytes are kept unchanged.

    >>> pz = Pseudonymizer({"k1": b"secret-one"}, active_key_id="k1")
    >>> out = redact_bytes(b'{"PlateNo": "\\xe6\\xb5\\x99A12345", "Speed": 40', pz)
    >>> b"A12345" in out, out.startswith(b'{"PlateNo": "ps1:k1:'), out.endswith(b'"Speed": 40')
    (False, True, True)
    """

    def swap(match: re.Match[bytes]) -> bytes:
        kind = WIRE_KEYS.get(match["key"].decode("ascii").lower())
        if kind is None:
            return match[0]
        found = match["text"] if match["text"] is not None else match["number"]
        if found.startswith(b"ps1:"):
            return match[0]
        ps = pz.pseudonym(found.decode("utf-8", "replace"), kind).encode()
        return b'"' + match["key"] + b'": "' + ps + b'"'

    return _PATTERN.sub(swap, raw)


def snippet(value: object, key: str | None, pz: Pseudonymizer) -> str:
    """A short printable form of a bad value for a rejection reason; identifiers show as pseudonyms.

    >>> pz = Pseudonymizer({"k1": b"secret-one"}, active_key_id="k1")
    >>> snippet("x" * 200, "text", pz)[-3:], snippet("13800138000", "reporter_phone", pz)[:7]
    ('...', 'ps1:k1:')
    """
    kind = WIRE_KEYS.get((key or "").lower())
    if kind is not None and value is not None:
        return pz.pseudonym(str(value), kind)
    text = repr(value)
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "..."
