"""What part of the city a map asks for (`BBox`, zoom) and how coarse the answer may be.

The payload bound is enforced by geometry, not by truncation alone: the clustering grid step is chosen so
that a bbox holds at most `cap` grid squares, and the H3 resolution of the cell layer falls with the zoom
(each H3 level is ~2.6x coarser, each zoom level 2x), so a city-wide view never ships 20,000 hexagons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ingest.geo import CELL_RESOLUTION

#: Below this H3 resolution the hexagons are larger than a district and stop being useful.
MIN_CELL_RESOLUTION = 4
#: Zoom at which one resolution-8 hexagon (~900 m across) is ~50 px wide; each level below halves it.
CELL_DETAIL_ZOOM = 13
#: On-screen size of one cluster square (Web Mercator tiles are 256 px wide).
CLUSTER_RADIUS_PX = 64


@dataclass(frozen=True)
class BBox:
    """A WGS84 box: `minLon,minLat,maxLon,maxLat` (the order GeoJSON and map libraries use)."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        """Parse and check a `bbox=` query value.

        >>> BBox.parse("120.0,30.1,120.3,30.4")
        BBox(west=120.0, south=30.1, east=120.3, north=30.4)
        >>> BBox.parse("120.3,30.1,120.0,30.4")
        Traceback (most recent call last):
        ...
        ValueError: bbox must be minLon,minLat,maxLon,maxLat with min < max
        """
        try:
            west, south, east, north = (float(p) for p in text.split(","))
        except ValueError:
            raise ValueError("bbox must be four numbers: minLon,minLat,maxLon,maxLat") from None
        if not all(math.isfinite(v) for v in (west, south, east, north)):
            raise ValueError("bbox values must be finite")
        if not (-180.0 <= west < east <= 180.0 and -90.0 <= south < north <= 90.0):
            raise ValueError("bbox must be minLon,minLat,maxLon,maxLat with min < max")
        return cls(west, south, east, north)

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    def grown(self, degrees: float) -> BBox:
        """The box widened on every side (so shapes straddling the edge are not cut off)."""
        return BBox(max(-180.0, self.west - degrees), max(-90.0, self.south - degrees),
                    min(180.0, self.east + degrees), min(90.0, self.north + degrees))


def cluster_step(zoom: int, bbox: BBox, cap: int) -> float:
    """Grid step in degrees for clustering devices: ~`CLUSTER_RADIUS_PX` on screen at `zoom`, and coarse
    enough that `bbox` holds at most `cap` grid squares whatever the zoom the client claims.

    >>> round(cluster_step(12, BBox(120.0, 30.0, 120.5, 30.5), 2000), 5)
    0.02197
    >>> step = cluster_step(22, BBox(100.0, 20.0, 130.0, 40.0), 2000)
    >>> (30 / step) * (20 / step) <= 2000
    True
    """
    if cap < 4:
        raise ValueError("cap must be at least 4 (a box may straddle two squares on each axis)")
    screen = 360.0 / 2.0**zoom * CLUSTER_RADIUS_PX / 256.0
    w, h = bbox.east - bbox.west, bbox.north - bbox.south
    # An interval of length w touches fewer than w/s + 2 squares of a grid of step s, so it suffices that
    # (w/s + 2)(h/s + 2) <= cap: a quadratic in x = 1/s, whose positive root is the largest allowed x.
    x = (-2 * (w + h) + math.sqrt(4 * (w + h) ** 2 + 4 * w * h * (cap - 4))) / (2 * w * h)
    return max(screen, (1 + 1e-9) / x if x > 0 else 360.0)


def cell_resolution(zoom: int) -> int:
    """H3 resolution of the cell layer at `zoom`.

    >>> [cell_resolution(z) for z in (18, 13, 12, 11, 10, 8, 3)]
    [8, 8, 7, 7, 6, 4, 4]
    """
    coarser = max(0.0, (CELL_DETAIL_ZOOM - zoom) / math.log2(math.sqrt(7)))
    return max(MIN_CELL_RESOLUTION, CELL_RESOLUTION - round(coarser))
