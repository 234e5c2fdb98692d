"""The Grafana dashboards ask only for what exists: Prometheus metrics defined in the code, and ClickHouse
queries that run against the migrated schema (chdb). The committed JSON is what the generator writes."""

from __future__ import annotations

import importlib.util
import json
import re
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
GRAFANA = ROOT / "dashboards" / "grafana"
spec = importlib.util.spec_from_file_location("build_dashboards", GRAFANA / "build_dashboards.py")
assert spec and spec.loader
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)

DEFINED = re.compile(r'(?:Counter|Histogram|Gauge|Summary)\(\s*"(citybrain_[a-z0-9_]+)"')
USED = re.compile(r"\b(citybrain_[a-z0-9_]+)")
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def defined_metrics() -> set[str]:
    names: set[str] = set()
    for pkg in ("ingest", "streams", "brain_api", "deploy"):
        for path in (ROOT / pkg).rglob("*.py"):
            names.update(n.removesuffix("_total") for n in DEFINED.findall(path.read_text(encoding="utf-8")))
    return names


def base_name(name: str) -> str:
    for suffix in SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def test_committed_json_is_what_the_generator_writes() -> None:
    assert json.loads((GRAFANA / "dashboards" / "pipeline-health.json").read_text()) == build.pipeline_dashboard()
    assert json.loads((GRAFANA / "dashboards" / "city.json").read_text()) == build.city_dashboard()


def test_every_prometheus_metric_is_defined_in_the_code() -> None:
    defined = defined_metrics()
    assert len(defined) >= 10
    used = {base_name(n) for _, _, targets in build.PIPELINE for _, expr in targets for n in USED.findall(expr)}
    assert used and used <= defined, sorted(used - defined)


def test_provisioning_points_at_the_dashboards_uids() -> None:
    sources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "citybrain.yaml").read_text())
    uids = {d["uid"]: d["type"] for d in sources["datasources"]}
    assert uids == {build.PROM["uid"]: build.PROM["type"], build.CH["uid"]: build.CH["type"]}
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "citybrain.yaml").read_text())
    assert providers["providers"][0]["type"] == "file"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    """Migrated chdb in the session's one chdb directory (chdb allows one per process)."""
    from streams.storage.embedded import EmbeddedStore
    from streams.storage.migrate import migrate

    s = EmbeddedStore(str(tmp_path_factory.getbasetemp() / "chdb"), database=f"grafana_{uuid.uuid4().hex[:10]}")
    migrate(s)
    yield s
    s.command(f"DROP DATABASE IF EXISTS {s.database}")


@pytest.mark.parametrize("title,sql", [(t, q) for t, _, _, q in build.CITY], ids=[t for t, *_ in build.CITY])
def test_city_queries_run_against_the_schema(store, title: str, sql: str) -> None:
    runnable = re.sub(r"\$timeFilterByColumn\(([^)]+)\)", r"\1 >= now() - INTERVAL 1 DAY", sql)
    runnable = runnable.replace("$interval", "60").replace("citybrain.", f"{store.database}.")
    assert "$" not in runnable
    assert store.query(runnable) == []  # an empty schema answers with no rows, not an error
