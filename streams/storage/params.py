"""Bound query parameters for both backends, from one SQL text written with ClickHouse's `{name:Type}`.

chdb binds `{name:Type}` itself but wants every value as text in ClickHouse's escaped format (it calls
`str()` otherwise, which breaks tz-aware datetimes, lists and backslashes): `render_params` does that,
guided by the declared type. clickhouse-driver substitutes `%(name)s` on the client with its own escaping:
`to_driver_sql` rewrites the placeholders into `CAST(%(name)s AS Type)`, so the type still applies.
No value is ever pasted into SQL by string building.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

#: `{name:Type}`; a Map literal such as `{'a': 1}` never matches because names are bare identifiers.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)\}")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def placeholders(sql: str) -> dict[str, str]:
    """Names and declared types of the parameters in `sql`.

    >>> placeholders("SELECT * FROM t WHERE a = {a:UInt64} AND ts >= {since:DateTime64(3, 'UTC')}")
    {'a': 'UInt64', 'since': "DateTime64(3, 'UTC')"}
    """
    return {m.group(1): m.group(2).strip() for m in PLACEHOLDER.finditer(sql)}


def _quote(value: Any) -> str:
    """A value as a literal inside a ClickHouse array/tuple text: strings quoted, numbers bare."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_quote(v) for v in value) + "]"
    text = _datetime_text(value, "DateTime64") if isinstance(value, datetime | date) else str(value)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _datetime_text(value: datetime | date, ch_type: str) -> str:
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # `DateTime` refuses a fractional part; `DateTime64(p)` takes microseconds and rounds.
    if "DateTime64" in ch_type:
        return value.isoformat(sep=" ", timespec="microseconds")
    return value.isoformat(sep=" ", timespec="seconds")


def render_value(value: Any, ch_type: str) -> str:
    """One parameter value as ClickHouse parses query parameters (escaped text).

    >>> render_value(datetime(2026, 11, 21, 10, 0, tzinfo=__import__("zoneinfo").ZoneInfo("Asia/Shanghai")),
    ...              "DateTime64(3, 'UTC')")
    '2026-11-21 02:00:00.000000'
    >>> render_value(["a'b", "c"], "Array(String)")
    "['a\\\\'b','c']"
    >>> render_value("tab\\there", "String"), render_value(None, "Nullable(String)"), render_value(True, "Bool")
    ('tab\\\\there', '\\\\N', '1')
    """
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime | date):
        return _datetime_text(value, ch_type)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return "[" + ",".join(_quote(v) for v in items) + "]"
    if isinstance(value, int | float):
        return repr(value)
    return str(value).translate(_ESCAPES)


def render_params(sql: str, params: Mapping[str, Any] | None) -> dict[str, str]:
    """Text values for chdb; a missing or unused parameter is a bug in the caller, so it raises.

    >>> render_params("SELECT {n:UInt32}", {"n": 5})
    {'n': '5'}
    """
    declared = placeholders(sql)
    given = dict(params or {})
    if missing := set(declared) - set(given):
        raise KeyError(f"query parameters without values: {sorted(missing)}")
    if unused := set(given) - set(declared):
        raise KeyError(f"values for parameters the query does not declare: {sorted(unused)}")
    return {name: render_value(given[name], ch_type) for name, ch_type in declared.items()}


def to_driver_sql(sql: str) -> str:
    """Rewrite `{name:Type}` into clickhouse-driver's `%(name)s`, keeping the type with a CAST.

    Literal `%` must be doubled because the driver applies Python %-formatting.

    >>> to_driver_sql("SELECT count() FROM t WHERE s LIKE 'a%' AND d = {d:String}")
    "SELECT count() FROM t WHERE s LIKE 'a%%' AND d = CAST(%(d)s AS String)"
    """
    escaped = sql.replace("%", "%%")
    return PLACEHOLDER.sub(lambda m: f"CAST(%({m.group(1)})s AS {m.group(2).strip()})", escaped)


def driver_params(sql: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Values for clickhouse-driver: checked like chdb's, datetimes as UTC text (the driver would drop
    the fraction and assume the server's zone), sets as sorted lists.

    >>> driver_params("SELECT {t:DateTime64(3)}", {"t": datetime(2026, 1, 1, 8, 0, 0, 250000, tzinfo=UTC)})
    {'t': '2026-01-01 08:00:00.250000'}
    """
    render_params(sql, params)  # same missing/unused checks as the embedded backend
    declared = placeholders(sql)
    out: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if isinstance(value, datetime | date):
            value = _datetime_text(value, declared[name])
        elif isinstance(value, set | frozenset):
            value = sorted(value)
        out[name] = value
    return out
