"""Generate the city outline the live map draws instead of base-map tiles.

A command center's network is often closed, so the page must be useful with no tile server: it draws the
city's H3 grid (resolution 8, the cells `ingest.geo` assigns events to) grouped into districts. A district
here is an H3 resolution-6 parent (~36 km²) clipped to the city disk — the same hierarchy the API uses, so
every cell the API returns falls inside exactly one outline.

    python dashboards/tools/city_geojson.py --lat 30.2741 --lon 120.1551 --rings 24 -o city.geojson

>>> fc = city_feature_collection(30.2741, 120.1551, rings=3)
>>> fc["properties"]["cells"], fc["features"][0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
(37, True)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import h3

CELL_RESOLUTION = 8  # ingest.geo.CELL_RESOLUTION; kept literal so this tool runs without the package
DISTRICT_RESOLUTION = 6


def _bbox(cells: list[str]) -> list[float]:
    points = [h3.cell_to_latlng(c) for c in cells]
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    return [round(min(lons), 5), round(min(lats), 5), round(max(lons), 5), round(max(lats), 5)]


def city_feature_collection(lat: float, lon: float, rings: int, name: str = "City") -> dict[str, Any]:
    """District outlines of the H3 disk of `rings` around (lat, lon), as a GeoJSON FeatureCollection."""
    centre = h3.latlng_to_cell(lat, lon, CELL_RESOLUTION)
    cells = sorted(h3.grid_disk(centre, rings))
    districts: dict[str, list[str]] = defaultdict(list)
    for cell in cells:
        districts[h3.cell_to_parent(cell, DISTRICT_RESOLUTION)].append(cell)
    features = []
    for index, (parent, members) in enumerate(sorted(districts.items()), start=1):
        shape = h3.cells_to_h3shape(members)
        features.append(
            {
                "type": "Feature",
                "id": parent,
                "properties": {"district": f"D{index:02d}", "h3": parent, "cells": len(members)},
                "geometry": shape.__geo_interface__,
            }
        )
    return {
        "type": "FeatureCollection",
        "properties": {"name": name, "center": [lon, lat], "bbox": _bbox(cells), "cells": len(cells)},
        "features": features,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lat", type=float, default=30.2741, help="city centre latitude (WGS84)")
    parser.add_argument("--lon", type=float, default=120.1551, help="city centre longitude (WGS84)")
    parser.add_argument("--rings", type=int, default=24, help="H3 rings around the centre (24 ~ 22 km across)")
    parser.add_argument("--name", default="Hangzhou", help="city name shown in the page title")
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    text = json.dumps(city_feature_collection(args.lat, args.lon, args.rings, args.name), separators=(",", ":"))
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
