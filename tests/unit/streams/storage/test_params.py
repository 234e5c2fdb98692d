"""Bound parameters: the same SQL text for chdb (typed text values) and clickhouse-driver (%(name)s + CAST)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.storage.params import driver_params, placeholders, render_params, render_value, to_driver_sql


def test_placeholders_ignore_map_literals_and_keep_types() -> None:
    sql = "SELECT map('a', 1) AS m, {'k': 2} AS x WHERE d = {dev:String} AND t > {t:DateTime64(3, 'UTC')}"
    assert placeholders(sql) == {"dev": "String", "t": "DateTime64(3, 'UTC')"}


def test_missing_and_unused_parameters_are_bugs() -> None:
    with pytest.raises(KeyError, match="without values"):
        render_params("SELECT {a:UInt8}", {})
    with pytest.raises(KeyError, match="does not declare"):
        render_params("SELECT 1", {"a": 1})


def test_datetimes_become_utc_text_at_the_declared_precision() -> None:
    local = datetime(2026, 11, 21, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    assert render_value(local, "DateTime('UTC')") == "2026-11-21 02:00:00"
    assert render_value(local, "DateTime64(3, 'UTC')") == "2026-11-21 02:00:00.123456"
    assert driver_params("SELECT {t:DateTime}", {"t": local}) == {"t": "2026-11-21 02:00:00"}


def test_collections_are_quoted_element_by_element() -> None:
    assert render_value(["a'b", "c\\d"], "Array(String)") == "['a\\'b','c\\\\d']"
    assert render_value({3, 1}, "Array(UInt8)") == "[1,3]"
    assert render_value([None, 1.5], "Array(Nullable(Float64))") == "[NULL,1.5]"


def test_driver_sql_casts_and_escapes_percent() -> None:
    sql = "SELECT count() FROM t WHERE s LIKE '%x' AND id IN {ids:Array(String)}"
    assert to_driver_sql(sql) == "SELECT count() FROM t WHERE s LIKE '%%x' AND id IN CAST(%(ids)s AS Array(String))"


@given(st.text(max_size=50))
def test_string_escaping_round_trips(text: str) -> None:
    """ClickHouse reads parameter text in its escaped format; undoing our escapes gives the value back."""
    escaped = render_value(text, "String")
    out, i = [], 0
    unescape = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r", "0": "\0"}
    while i < len(escaped):
        if escaped[i] == "\\":
            out.append(unescape[escaped[i + 1]])
            i += 2
        else:
            out.append(escaped[i])
            i += 1
    assert "".join(out) == text
