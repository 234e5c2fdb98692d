"""The cluster variant of the migrations: replicated everywhere, sharded where the volume is."""

from __future__ import annotations

import re
from pathlib import Path

from streams.settings import ClickHouseSettings
from streams.storage.cluster import SHARDED, cluster_script, to_cluster
from streams.storage.migrate import discover, statements, template_values


def test_every_table_is_replicated_and_created_on_the_cluster() -> None:
    script = cluster_script("citybrain")
    engines = re.findall(r"ENGINE = (\w+)", script)
    assert engines and all(e.startswith("Replicated") or e == "Distributed" for e in engines)
    assert "ENGINE = MergeTree" not in script
    creates = re.findall(r"CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS \w+ (ON CLUSTER 'citybrain')?", script)
    assert creates and all(creates)


def test_sharded_tables_get_local_and_distributed_forms() -> None:
    script = cluster_script("citybrain")
    for table, key in SHARDED.items():
        assert f"CREATE TABLE IF NOT EXISTS {table}_local ON CLUSTER" in script
        assert f"Distributed('citybrain', currentDatabase(), {table}_local, {key})" in script
    assert "'/clickhouse/tables/{shard}/{database}/events_local'" in script
    assert "'/clickhouse/tables/all/{database}/alerts'" in script  # small tables: whole on every node


def test_views_read_and_write_local_tables_on_each_shard() -> None:
    values = template_values(ClickHouseSettings())
    rollups = next(m for m in discover() if m.name == "rollups")
    views = [s for sql in statements(rollups.text, values) for s in to_cluster(sql, "c") if "MATERIALIZED" in s]
    assert len(views) == 2
    assert all("FROM events_local" in v and re.search(r"TO rollup_cell_\w+_local", v) for v in views)


def test_engine_arguments_are_kept_after_the_replication_path() -> None:
    out = to_cluster("CREATE TABLE IF NOT EXISTS devices (d String, v UInt64) "
                     "ENGINE = ReplacingMergeTree(v) ORDER BY d", "c")
    assert out == ["CREATE TABLE IF NOT EXISTS devices ON CLUSTER 'c' (d String, v UInt64) ENGINE = "
                   "ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/devices', '{replica}', v)"
                   " ORDER BY d"]


def test_the_committed_cluster_script_is_generated_from_the_migrations() -> None:
    # deploy/clickhouse/cluster.sql repeats every migration by design; it must never drift from them
    committed = Path(__file__).parents[4] / "deploy" / "clickhouse" / "cluster.sql"
    assert committed.read_text() == cluster_script("citybrain"), (
        "regenerate: python -m streams.storage.cluster > deploy/clickhouse/cluster.sql")
