"""The simulated city's layout: H3 cells around West Lake, Hangzhou, and the devices placed in them.

Sizes are rings of resolution-8 cells (~0.7 km² each) around a centre: small = 19 cells, medium = 91,
large = 331. Every cell gets traffic detectors and a camera; air-quality, water-level and manhole
sensors are sparser, as in a real deployment. Placement is seeded, so a seed names one city.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
import numpy as np

from ingest.geo import CELL_RESOLUTION, cell_of

CENTRE = (30.2741, 120.1551)  # Hangzhou, east shore of West Lake
RINGS = {"small": 2, "medium": 5, "large": 10}

#: kind -> (id prefix, type, category, department, natural reporting interval in s, every n-th cell, per cell)
KINDS = {
    "traffic": ("tdet", "traffic_detector", "traffic", "traffic", 10.0, 1, 2),
    "air": ("aq", "air_quality", "air", "environment", 30.0, 1, 1),
    "water": ("wl", "water_level", "water", "city-management", 60.0, 3, 1),
    "manhole": ("mh", "manhole", "manhole", "city-management", 60.0, 2, 1),
    "camera": ("cam", "camera", "crowd", "public-security", 15.0, 1, 1),
}


@dataclass(frozen=True, slots=True)
class SimDevice:
    device_id: str
    kind: str
    type: str
    category: str
    department: str
    lat: float
    lon: float
    cell: str
    interval_s: float


def city_cells(size: str) -> list[str]:
    """Cells of a city size, sorted so that layouts are reproducible.

    >>> len(city_cells("small")), len(city_cells("medium"))
    (19, 91)
    """
    if size not in RINGS:
        raise ValueError(f"city size must be one of {sorted(RINGS)}")
    centre = h3.latlng_to_cell(*CENTRE, CELL_RESOLUTION)
    return sorted(h3.grid_disk(centre, RINGS[size]))


def place_devices(size: str, seed: int) -> list[SimDevice]:
    """All devices of the city, grouped by kind, ids numbered from 1 per kind.

    >>> devices = place_devices("small", 7)
    >>> len(devices), devices[0].device_id, devices[0].cell == cell_of(devices[0].lat, devices[0].lon)
    (93, 'tdet-0001', True)
    """
    rng = np.random.default_rng([seed, 1])
    cells = city_cells(size)
    out: list[SimDevice] = []
    for kind, (prefix, dtype, category, department, interval, every, per_cell) in KINDS.items():
        n = 0
        for i, cell in enumerate(cells):
            if i % every:
                continue
            clat, clon = h3.cell_to_latlng(cell)
            for _ in range(per_cell):
                # Stay well inside the hexagon (edge ~ 460 m) so the device's cell is the planned one.
                for _attempt in range(20):
                    lat = round(clat + rng.uniform(-0.0018, 0.0018), 6)
                    lon = round(clon + rng.uniform(-0.0020, 0.0020), 6)
                    if cell_of(lat, lon) == cell:
                        break
                else:
                    lat, lon = clat, clon
                n += 1
                out.append(SimDevice(f"{prefix}-{n:04d}", kind, dtype, category, department, lat, lon, cell, interval))
    return out
