"""Arrow batches typed from the ClickHouse schema, and results back to plain Python."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from streams.storage.arrow import arrow_type, rows_of, to_arrow


def test_types_pyarrow_cannot_infer() -> None:
    assert arrow_type("Map(LowCardinality(String), Float64)") == pa.map_(pa.string(), pa.float64())
    assert arrow_type("SimpleAggregateFunction(sum, UInt64)") == pa.uint64()
    with pytest.raises(TypeError):
        arrow_type("Decimal(10, 2)")


def test_timestamps_from_iso_text_and_epoch_ms_agree() -> None:
    types = {"t": "DateTime64(3, 'UTC')"}
    from_text = to_arrow({"t": ["2026-11-21T10:00:00+08:00", "2026-11-21T02:00:00.5Z"]}, types)
    from_ms = to_arrow({"t": np.array([1795226400000, 1795226400500])}, types)
    assert from_text.column("t").to_pylist() == from_ms.column("t").to_pylist()


def test_bytes_stay_bytes_and_text_stays_text() -> None:
    table = to_arrow({"payload": [b"\xff\x00raw"], "reason": ["bad"]}, {"payload": "String", "reason": "String"})
    assert table.schema.field("payload").type == pa.binary()
    assert rows_of(table) == [{"payload": b"\xff\x00raw", "reason": "bad"}]


def test_unknown_column_is_refused() -> None:
    with pytest.raises(KeyError, match="nope"):
        to_arrow({"nope": [1]}, {"id": "String"})


def test_map_results_are_dicts() -> None:
    table = pa.table({"m": pa.array([{"a": 1.0}, None], pa.map_(pa.string(), pa.float64()))})
    assert rows_of(table) == [{"m": {"a": 1.0}}, {"m": None}]


def test_a_batch_mixing_fast_path_epochs_and_per_event_text_converts():
    """The sink's fast path gives epoch-ms arrays, the per-event path ISO text; one insert may hold both."""
    import numpy as np

    from streams.storage.arrow import _array

    mixed = [*np.array([1795226400000], dtype=np.int64), "2026-11-21T10:00:00.500+08:00", None]
    out = _array(mixed, "DateTime64(3, 'UTC')").to_pylist()
    assert [v.isoformat() if v else v for v in out] == [
        "2026-11-21T02:00:00+00:00", "2026-11-21T02:00:00.500000+00:00", None]
