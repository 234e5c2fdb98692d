"""Micro-benchmark of the detection engine: events per second through `SeriesDetectors.process`.

Synthetic traffic detectors (3 metrics each, a daily cycle plus noise), decoded-JSON dicts as the
worker sees them, batches of 5,000; event generation is outside the timed region.
`python -m streams.detectors.bench 10000 300000` prints the figure.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from streams.detection import SeriesDetectors


def synthetic_events(n_devices: int, n_events: int, seed: int = 0) -> list[dict]:
    """`n_events` readings round-robin over `n_devices`, one per device every 10 s of event time."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 11, 21, tzinfo=UTC)
    stamps: dict[int, str] = {}
    out = []
    noise = rng.normal(size=(n_events, 3))
    for k in range(n_events):
        dev, tick = k % n_devices, k // n_devices
        stamp = stamps.get(tick) or stamps.setdefault(tick, (start + timedelta(seconds=10 * tick)).isoformat())
        daily = np.sin(2 * np.pi * tick / 8640)
        out.append({
            "id": f"e-{k}", "source": "bench", "type": "reading", "time": stamp, "device_id": f"tdet-{dev:06d}",
            "category": "traffic", "cell": "88309a553dfffff", "lat": 30.27, "lon": 120.15,
            "measurements": {"speed_kmh": 40 + 10 * daily + 3 * noise[k, 0], "occupancy": 0.3 + 0.05 * noise[k, 1],
                             "flow": 600 + 100 * daily + 30 * noise[k, 2]},
        })
    return out


def bench_detection(n_devices: int = 10_000, n_events: int = 200_000, batch: int = 5_000) -> float:
    """Events per second through `process` on one core (all state warm-up included)."""
    events = synthetic_events(n_devices, n_events)
    engine = SeriesDetectors()
    began = time.perf_counter()
    for i in range(0, n_events, batch):
        engine.process(events[i : i + batch])
    return n_events / (time.perf_counter() - began)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(f"{bench_detection(*args):,.0f} events/s")
