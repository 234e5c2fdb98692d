"""Grid cells and coordinates: H3 hexagons (resolution 8, ~0.7 km²) are the city's cells.

H3 gives neighbours and boundaries for free (`grid_disk`, `cell_to_boundary`), which fusion and the map
need. GCJ-02 (the offset datum used by Chinese map vendors) is converted to WGS84 on the way in.
"""

from __future__ import annotations

import math
from functools import lru_cache

import h3

CELL_RESOLUTION = 8


@lru_cache(maxsize=1 << 16)
def _cell(lat_q: int, lon_q: int) -> str:
    return h3.latlng_to_cell(lat_q / 1e6, lon_q / 1e6, CELL_RESOLUTION)


def cell_of(lat: float, lon: float) -> str:
    """H3 cell of a WGS84 point (cached at ~0.1 m resolution: devices do not move).

    >>> cell_of(30.2741, 120.1551)
    '88309a553dfffff'
    """
    return _cell(round(lat * 1e6), round(lon * 1e6))


def neighbours(cell: str, k: int = 1) -> set[str]:
    """The cell and its rings up to `k`.

    >>> len(neighbours('88309a553dfffff'))
    7
    """
    return set(h3.grid_disk(cell, k))


def cell_center(cell: str) -> tuple[float, float]:
    return h3.cell_to_latlng(cell)


def cell_polygon(cell: str) -> list[list[float]]:
    """GeoJSON ring ([lon, lat] pairs, closed) of a cell."""
    ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
    return [*ring, ring[0]]


_A = 6378245.0
_EE = 0.00669342162296594323


def _out_of_china(lat: float, lon: float) -> bool:
    return not (73.66 < lon < 135.05 and 3.86 < lat < 53.55)


def _tlat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _tlon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def _wgs_to_gcj_delta(lat: float, lon: float) -> tuple[float, float]:
    dlat = _tlat(lon - 105.0, lat - 35.0)
    dlon = _tlon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlat, dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Invert the GCJ-02 offset by fixed-point iteration (error < 1 cm after a few rounds).

    >>> lat, lon = gcj02_to_wgs84(30.2717712, 120.1597945)
    >>> round(lat, 4), round(lon, 4)
    (30.2741, 120.1551)
    """
    if _out_of_china(lat, lon):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(8):
        dlat, dlon = _wgs_to_gcj_delta(wlat, wlon)
        wlat, wlon = lat - dlat, lon - dlon
    return wlat, wlon
