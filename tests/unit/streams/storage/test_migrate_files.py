"""The migration files themselves: numbered, templated only with known settings, split into statements."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.settings import ClickHouseSettings
from streams.storage.migrate import discover, statements, template_values


def test_every_file_renders_with_the_settings_and_splits_cleanly() -> None:
    values = template_values(ClickHouseSettings())
    assert values["retention_events_days"] == "30"
    for migration in discover():
        sqls = statements(migration.text, values)
        assert sqls, migration.path.name
        assert all("${" not in sql and not sql.endswith(";") for sql in sqls)


def test_an_unknown_template_name_fails_loudly() -> None:
    with pytest.raises(KeyError):
        statements("CREATE TABLE t (x UInt8) ENGINE = Log TTL x + ${retention_forever};", {})


def test_duplicate_numbers_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 2;")
    with pytest.raises(ValueError, match="two migrations numbered 0001"):
        discover(tmp_path)


def test_checksum_ignores_comments(tmp_path: Path) -> None:
    path = tmp_path / "0001_a.sql"
    path.write_text("-- one\nSELECT 1;\n")
    before = discover(tmp_path)[0].checksum
    path.write_text("-- two, reworded\n\nSELECT 1;\n")
    assert discover(tmp_path)[0].checksum == before
