"""The city outline drawn instead of base-map tiles: districts partition the H3 disk exactly."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import h3

TOOL = Path(__file__).resolve().parents[3] / "dashboards" / "tools" / "city_geojson.py"
spec = importlib.util.spec_from_file_location("city_geojson", TOOL)
assert spec and spec.loader
city_geojson = importlib.util.module_from_spec(spec)
spec.loader.exec_module(city_geojson)


def test_districts_cover_every_cell_of_the_disk_once() -> None:
    fc = city_geojson.city_feature_collection(30.2741, 120.1551, rings=6)
    centre = h3.latlng_to_cell(30.2741, 120.1551, 8)
    disk = set(h3.grid_disk(centre, 6))
    assert fc["properties"]["cells"] == len(disk) == sum(f["properties"]["cells"] for f in fc["features"])
    parents = {h3.cell_to_parent(c, 6) for c in disk}
    assert {f["id"] for f in fc["features"]} == parents
    min_lon, min_lat, max_lon, max_lat = fc["properties"]["bbox"]
    assert min_lon < 120.1551 < max_lon and min_lat < 30.2741 < max_lat


def test_cli_writes_geojson(tmp_path: Path) -> None:
    out = tmp_path / "city.geojson"
    assert city_geojson.main(["--rings", "2", "--name", "Test", "-o", str(out)]) == 0
    fc = json.loads(out.read_text())
    assert fc["type"] == "FeatureCollection" and fc["properties"]["name"] == "Test"
    assert all(f["geometry"]["type"] in {"Polygon", "MultiPolygon"} for f in fc["features"])


def test_doctests() -> None:
    import doctest

    assert doctest.testmod(city_geojson).failed == 0
