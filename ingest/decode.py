"""Split a request body into items: JSON array, one JSON object, or NDJSON; gzip; broken input kept per item.

Each item keeps what it parsed to or why it did not, and its original bytes can be recovered, so a bad
item is reported and dead-lettered alone while its neighbours go through. A truncated array keeps the
items before the cut. The fast path is one `orjson.loads`; byte spans are only computed when an item
is rejected and its original bytes are needed.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from ingest.errors import BatchTooLarge

_WS = " \t\r\n"


@dataclass(slots=True)
class RawItem:
    """One item of a body: its parsed value, or the reason it could not be parsed."""

    index: int
    value: Any = None
    error: str | None = None


@dataclass(slots=True)
class DecodedBody:
    """The items of a body and, on demand, the original bytes of each."""

    body: bytes
    items: list[RawItem]
    single: bool = False  # the body was one JSON object (possibly pretty-printed over many lines)
    _spans: list[tuple[int, int]] | None = field(default=None, repr=False)
    _text: str | None = field(default=None, repr=False)

    def raw(self, index: int) -> bytes:
        """Original bytes of item `index` (exact for arrays, NDJSON lines and single objects)."""
        if self.single:
            return self.body.strip()
        if self._spans is None:
            self._text = self.body.decode("utf-8", "surrogateescape")
            self._spans = [(a, b) for a, b, _, _ in _scan(self._text)]
        start, end = self._spans[index]
        return self._text[start:end].encode("utf-8", "surrogateescape")  # type: ignore[index]


def gunzip(body: bytes, max_bytes: int) -> bytes:
    """Inflate a gzip body, refusing to grow past `max_bytes` (a small bomb must not fill memory).

    >>> import gzip; gunzip(gzip.compress(b"[1]"), 100)
    b'[1]'
    """
    inflater = zlib.decompressobj(wbits=31)
    out = inflater.decompress(body, max_bytes + 1)
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise BatchTooLarge(f"gzip body inflates beyond {max_bytes} bytes")
    return out


def decode_body(
    body: bytes, *, max_items: int, gzipped: bool = False, max_bytes: int = 1 << 30
) -> DecodedBody:
    """Items of a JSON array / object / NDJSON body.

    >>> [i.value for i in decode_body(b'[{"a":1},{"a":2}]', max_items=10).items]
    [{'a': 1}, {'a': 2}]
    >>> [(i.value, i.error) for i in decode_body(b'{"a":1}\\n{"a":', max_items=10).items]
    [({'a': 1}, None), (None, 'invalid JSON: unexpected end of data (truncated?)')]
    >>> d = decode_body(b'[{"a":1}, {"a":2', max_items=10); [i.error is None for i in d.items], d.raw(1)
    ([True, False], b'{"a":2')
    """
    if gzipped:
        try:
            body = gunzip(body, max_bytes)
        except zlib.error as exc:
            return DecodedBody(body, [RawItem(0, error=f"body is not valid gzip: {exc}")], True)
    if len(body) > max_bytes:
        raise BatchTooLarge(f"body of {len(body)} bytes exceeds {max_bytes}")
    stripped = body.strip()
    if not stripped:
        return DecodedBody(body, [RawItem(0, error="empty body")], True)
    try:
        parsed = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        items, single = _slow_items(body), False
    else:
        values = parsed if isinstance(parsed, list) else [parsed]
        items = [RawItem(i, v) for i, v in enumerate(values)]
        if not isinstance(parsed, list | dict):
            items[0].error = f"expected a JSON object or array, got {type(parsed).__name__}"
        single = not isinstance(parsed, list)
    if len(items) > max_items:
        raise BatchTooLarge(f"{len(items)} events in one request; at most {max_items} are allowed")
    for item in items:
        if item.error is None and not isinstance(item.value, dict):
            item.error = f"item is not a JSON object but {type(item.value).__name__}"
    return DecodedBody(body, items, single)


def _slow_items(body: bytes) -> list[RawItem]:
    text = body.decode("utf-8", "surrogateescape")
    return [RawItem(i, value, error) for i, (_, _, value, error) in enumerate(_scan(text))]


def _scan(text: str) -> list[tuple[int, int, Any, str | None]]:
    """(start, end, value, error) of every item; arrays are walked element by element."""
    first = len(text) - len(text.lstrip(_WS))
    if first < len(text) and text[first] == "[":
        return _scan_array(text, first + 1)
    return _scan_lines(text)


def _scan_lines(text: str) -> list[tuple[int, int, Any, str | None]]:
    out: list[tuple[int, int, Any, str | None]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start, end = pos + (len(line) - len(line.lstrip(_WS))), pos + len(line.rstrip(_WS))
        pos += len(line)
        if start < end:
            out.append((start, end, *_parse_one(text[start:end])))
    if not out and text.strip(_WS) == "" and text:
        out.append((0, len(text), None, "empty body"))
    return out


def _scan_array(text: str, i: int) -> list[tuple[int, int, Any, str | None]]:
    decoder, out = json.JSONDecoder(), []
    n = len(text)

    def skip(j: int) -> int:
        while j < n and text[j] in _WS:
            j += 1
        return j

    i = skip(i)
    if i < n and text[i] == "]":
        return out
    while i < n:
        try:
            value, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            reason = (
                "truncated JSON: the body ends inside this item"
                if exc.pos >= n
                else f"invalid JSON: {exc.msg}"
            )
            out.append((i, n, None, reason))
            return out
        out.append((i, end, *_check_utf8(text[i:end], value)))
        i = skip(end)
        if i < n and text[i] == ",":
            i = skip(i + 1)
        elif i < n and text[i] == "]":
            return out
        elif i < n:
            out.append((i, n, None, "invalid JSON: expected ',' or ']' between items"))
            return out
    return out


def _parse_one(text: str) -> tuple[Any, str | None]:
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError as exc:
        bad = _utf8_error(raw)
        if bad:
            return None, bad
        hint = " (truncated?)" if "end of data" in str(exc) or "EOF" in str(exc) else ""
        return None, f"invalid JSON: {str(exc).split(':')[0]}{hint}"


def _check_utf8(text: str, value: Any) -> tuple[Any, str | None]:
    bad = _utf8_error(text.encode("utf-8", "surrogateescape"))
    return (None, bad) if bad else (value, None)


def _utf8_error(raw: bytes) -> str | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 at byte {exc.start} of the item"
    return None
