"""What people and their cameras produce: crowds in view, vehicles passing, citizens calling 12345.

Camera records come in GA/T 1400 shapes with clear plates (the adapters must pseudonymise them); an
accident slows and thins the vehicles through its cameras and swells the crowds around it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ingest.geo import cell_center
from ingest.simulator import signals
from ingest.simulator.anomalies import Anomaly, AnomalyPlan
from ingest.simulator.city import SimDevice
from ingest.simulator.groups import Group

VEHICLES_PER_CAMERA_S = 0.5  # at full demand, before rate scaling
REPORT_EVERY_S = 120.0
REPORT_TOPICS = ("noise_complaint", "illegal_parking", "garbage", "road_damage", "streetlight_out")
Record = tuple[str, dict[str, Any]]


def millis(times: np.ndarray, sec: int) -> list[int]:
    return np.clip(((times - sec) * 1000.0).astype(np.int64), 0, 999).tolist()


def camera_records(
    g: Group,
    plates_pool: list[str],
    scale: float,
    sec: int,
    lo: float,
    hi: float,
    rng: np.random.Generator,
    active: list[Anomaly],
    pass_time: str,
) -> Iterator[Record]:
    """Crowd counts on each camera's schedule, and vehicles passing at a demand-driven Poisson rate."""
    t = np.array([float(sec)])
    surge = {d: (5.0, 50.0) for a in active if a.kind == "crowd_surge" for d in a.devices}
    jam = {d for a in active if a.kind == "accident" for d in a.devices}
    for idx, times in g.due(lo, hi):
        counts = 5.0 + 60.0 * signals.crowd_activity(times) + 3.0 * rng.standard_normal(idx.size)
        for j, (i, ms) in enumerate(zip(idx.tolist(), millis(times, sec), strict=True)):
            cam = g.ids[i]
            mult, add = surge.get(cam, (3.0, 20.0) if cam in jam else (1.0, 0.0))
            yield (
                "crowd",
                {
                    "CrowdCountID": f"{cam}-c-{sec}{ms:03d}",
                    "DeviceID": cam,
                    "Count": max(0, int(counts[j] * mult + add)),
                    "ShotTime": pass_time,
                },
            )
    demand = float(signals.traffic_demand(t)[0])
    lam = VEHICLES_PER_CAMERA_S * scale * demand * (hi - lo)
    n = rng.poisson(lam, len(g.ids))
    plates = rng.integers(len(plates_pool), size=int(n.sum())).tolist()
    speeds = (62.0 * (1 - 0.5 * demand**2) + 6.0 * rng.standard_normal(int(n.sum()))).tolist()
    k = 0
    for i in np.flatnonzero(n).tolist():
        cam = g.ids[i]
        for m in range(int(n[i])):
            speed = max(2.0, speeds[k] * (0.3 if cam in jam else 1.0))
            yield (
                "vehicles",
                {
                    "MotorVehicleID": f"{cam}-v-{sec}-{m}",
                    "DeviceID": cam,
                    "TollgateID": f"tg-{cam}",
                    "PlateNo": plates_pool[plates[k]],
                    "PlateColor": "2",
                    "VehicleClass": "K33",
                    "VehicleColor": "ABCJ"[plates[k] % 4],
                    "Speed": round(speed, 1),
                    "Direction": "1",
                    "PassTime": pass_time,
                    "LaneNo": 1 + plates[k] % 3,
                },
            )
            k += 1


def report_records(
    plan: AnomalyPlan,
    devices: list[SimDevice],
    seed: int,
    sec: int,
    lo: float,
    hi: float,
    rng: np.random.Generator,
    base: str,
) -> Iterator[Record]:
    """A citizen calls 60 s after each accident; other complaints arrive about every two minutes."""
    phone = f"13{int(rng.integers(10**8, 10**9))}"
    for a in plan.active(lo - 60.0, hi - 60.0):
        if a.kind == "accident" and lo <= a.start + 60.0 < hi:
            lat, lon = (round(x, 6) for x in cell_center(a.cells[0]))
            yield (
                "reports",
                {
                    "id": f"rep-{a.id}",
                    "category": "traffic_accident",
                    "time": f"{base}+08:00",
                    "text": "两车相撞，道路拥堵 / two cars collided, road blocked",
                    "lat": lat,
                    "lon": lon,
                    "reporter_phone": phone,
                },
            )
    if rng.random() < (hi - lo) / REPORT_EVERY_S:
        d = devices[int(rng.integers(len(devices)))]
        topic = REPORT_TOPICS[int(rng.integers(len(REPORT_TOPICS)))]
        yield (
            "reports",
            {
                "id": f"rep-{seed}-{sec}",
                "category": topic,
                "time": f"{base}+08:00",
                "text": f"citizen report: {topic.replace('_', ' ')}",
                "lat": d.lat,
                "lon": d.lon,
                "reporter_phone": phone,
            },
        )
