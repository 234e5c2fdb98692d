"""Normal behaviour of the simulated city: daily and weekly seasonality, vectorised over devices.

Times are epoch seconds; the city lives in China Standard Time (UTC+8). Weekdays have morning and
evening rush hours, weekends one broad afternoon hump — the pattern detectors must learn not to flag.
"""

from __future__ import annotations

import numpy as np

CST_OFFSET_S = 8 * 3600


def local_hour(t: np.ndarray) -> np.ndarray:
    """Hour of the local day as a float.

    >>> float(local_hour(np.array([1795226400.0]))[0])  # 2026-11-21T10:00:00+08:00
    10.0
    """
    return ((t + CST_OFFSET_S) % 86400.0) / 3600.0


def is_weekend(t: np.ndarray) -> np.ndarray:
    """Saturday or Sunday in local time (1970-01-01 was a Thursday).

    >>> bool(is_weekend(np.array([1795226400.0]))[0])  # 2026-11-21 is a Saturday
    True
    """
    weekday = (np.floor((t + CST_OFFSET_S) / 86400.0) + 3) % 7  # Monday = 0
    return weekday >= 5


def _bump(h: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((h - centre) / width) ** 2)


def traffic_demand(t: np.ndarray) -> np.ndarray:
    """Road demand in [0.05, 1]: rush hours on weekdays, an afternoon hump at weekends."""
    h = local_hour(t)
    weekday = 0.15 + 0.85 * np.maximum(_bump(h, 8.0, 1.2), _bump(h, 18.0, 1.5)) + 0.3 * _bump(h, 13.0, 3.0)
    weekend = 0.12 + 0.55 * _bump(h, 15.0, 3.5)
    night = 0.05 + 0.1 * _bump(h, 12.0, 5.0)
    out = np.where(is_weekend(t), weekend, weekday)
    return np.clip(np.where((h < 5.0) | (h > 23.0), night, out), 0.05, 1.0)


def traffic(t: np.ndarray, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """speed_kmh, occupancy (0–1) and flow (vehicles/min) of a detector; `noise` is N(0,1) of shape (3, n)."""
    d = traffic_demand(t)
    occupancy = np.clip(0.04 + 0.42 * d**1.5 + 0.02 * noise[0], 0.0, 1.0)
    speed = np.clip(62.0 * (1.0 - 0.5 * d**2) + 3.0 * noise[1], 3.0, 120.0)
    flow = np.clip(4.0 + 36.0 * d + 2.0 * noise[2], 0.0, None)
    return speed, occupancy, flow


def air(t: np.ndarray, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pm25 and no2 (µg/m³): traffic-driven with a night inversion bump."""
    d = traffic_demand(t)
    h = local_hour(t)
    pm25 = np.clip(28.0 + 14.0 * d + 8.0 * _bump(h, 6.0, 2.0) + 3.0 * noise[0], 1.0, None)
    no2 = np.clip(15.0 + 30.0 * d + 2.5 * noise[1], 1.0, None)
    return pm25, no2


def water_level(t: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """River level in metres with a semi-diurnal tide (Qiantang river)."""
    return 1.2 + 0.08 * np.sin(2 * np.pi * t / (12.42 * 3600)) + 0.01 * noise


def manhole(t: np.ndarray, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """water_cm in the shaft and gas_ppm (methane), both low and steady when all is well."""
    return np.clip(12.0 + 1.5 * noise[0], 0.0, None), np.clip(2.0 + 0.3 * noise[1], 0.0, None)


def crowd_activity(t: np.ndarray) -> np.ndarray:
    """People in a camera's view, relative: lunch, evening and weekend leisure."""
    h = local_hour(t)
    base = 0.1 + 0.5 * _bump(h, 12.5, 2.0) + 0.8 * _bump(h, 19.5, 2.0)
    return np.where(is_weekend(t), base * 1.4, base)
