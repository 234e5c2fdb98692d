"""Devices of one kind as arrays, so a second of the city is computed with a few numpy calls.

Each device reports every `interval` seconds from a seeded phase; `due(until)` hands out the devices
whose next report falls before `until` (several rounds when intervals are shorter than a second).
Anomaly effects are applied here, on the value arrays, before any dict is built.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ingest.simulator import signals
from ingest.simulator.anomalies import Anomaly
from ingest.simulator.city import SimDevice


class Group:
    """Schedule and static columns of one device kind."""

    def __init__(self, kind: str, devices: list[SimDevice], start: float, rng: np.random.Generator) -> None:
        self.kind = kind
        self.ids = [d.device_id for d in devices]
        self.id_array = np.array(self.ids)
        self.lat = [d.lat for d in devices]
        self.lon = [d.lon for d in devices]
        self.cell = [d.cell for d in devices]
        self.category = devices[0].category if devices else kind
        self.source = f"sim/{kind}"
        self.interval = np.array([d.interval_s for d in devices], dtype=float)
        self.next = start + rng.uniform(0.0, 1.0, len(devices)) * self.interval

    def due(self, lo: float, hi: float) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(indices, report times) in [lo, hi), round by round; a skipped gap is not back-filled."""
        np.maximum(self.next, lo, out=self.next)
        while True:
            idx = np.flatnonzero(self.next < hi)
            if idx.size == 0:
                return
            times = self.next[idx].copy()
            self.next[idx] += self.interval[idx]
            yield idx, times

    def hit(self, anomaly: Anomaly, idx: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Mask of the reports (of `idx` at `times`) that `anomaly` affects."""
        if not anomaly.devices:
            return np.zeros(idx.size, dtype=bool)
        inside = np.isin(self.id_array[idx], list(anomaly.devices))
        return inside & (times >= anomaly.start) & (times < anomaly.end)


def sensor_values(kind: str, times: np.ndarray, noise: np.ndarray) -> dict[str, np.ndarray]:
    """Normal readings of a sensor kind at `times`; `noise` is N(0,1) of shape (3, n)."""
    if kind == "traffic":
        speed, occupancy, flow = signals.traffic(times, noise)
        return {"speed_kmh": speed, "occupancy": occupancy, "flow": flow}
    if kind == "air":
        pm25, no2 = signals.air(times, noise)
        return {"pm25": pm25, "no2": no2}
    if kind == "water":
        return {"level_m": signals.water_level(times, noise[0])}
    water_cm, gas_ppm = signals.manhole(times, noise)
    return {"water_cm": water_cm, "gas_ppm": gas_ppm}


def apply_anomalies(
    group: Group, idx: np.ndarray, times: np.ndarray, values: dict[str, np.ndarray], active: list[Anomaly]
) -> None:
    """Distort `values` in place where an active anomaly touches these reports.

    Failures go last: a stuck sensor reports its stuck value even while an accident happens in its cell.
    """
    for a in sorted(active, key=lambda a: a.kind == "sensor_failure"):
        mask = group.hit(a, idx, times)
        if not mask.any():
            continue
        if a.kind == "accident" and group.kind == "traffic":
            values["speed_kmh"][mask] *= 0.25
            values["occupancy"][mask] = np.minimum(0.97, values["occupancy"][mask] * 2.2 + 0.35)
            values["flow"][mask] *= 0.4
        elif a.kind == "pollution_spike" and group.kind == "air":
            values["pm25"][mask] = values["pm25"][mask] * 4.0 + 80.0
            values["no2"][mask] = values["no2"][mask] * 2.5
        elif a.kind == "sensor_failure" and a.mode == "flatline":
            # Stuck at the noiseless value of the moment it failed: plausible, but it never moves.
            stuck = sensor_values(group.kind, np.array([a.start]), np.zeros((3, 1)))
            for name, column in values.items():
                column[mask] = stuck[name][0]
