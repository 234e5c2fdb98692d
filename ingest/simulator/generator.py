"""`CitySimulator`: a deterministic simulated city producing what its feeds would send, second by second.

`records(t0, t1)` yields `(channel, payload)` in each adapter's own wire shape — `events` (CityEvent
dicts), `vehicles` / `crowd` (GA/T 1400 objects with clear plates, so pseudonymisation is exercised),
`heartbeats`, `reports` — which the runner posts to the matching endpoint. `events(t0, t1)` converts
all of them into CityEvent dicts for benchmarks. Randomness is drawn per (seed, second), so a seed and
a start time fix the output whatever the chunking (call with whole seconds).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from ingest.feeds import heartbeat_to_event, report_to_event
from ingest.pseudonym import Pseudonymizer
from ingest.registry import Device, DeviceRegistry
from ingest.simulator.anomalies import AnomalyPlan
from ingest.simulator.city import SimDevice, place_devices
from ingest.simulator.groups import Group, apply_anomalies, sensor_values
from ingest.simulator.people import VEHICLES_PER_CAMERA_S, camera_records, millis, report_records
from ingest.viid import CST, crowd_to_event, vehicle_to_event

HEARTBEAT_S = 30.0
SENSOR_KINDS = ("traffic", "air", "water", "manhole")
_PLATE_CHARS = list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
Record = tuple[str, dict[str, Any]]


def natural_rate(devices: list[SimDevice]) -> float:
    """Events per second the city emits at its natural intervals (vehicles at average demand)."""
    cameras = sum(d.kind == "camera" for d in devices)
    return sum(1.0 / d.interval_s for d in devices) + cameras * VEHICLES_PER_CAMERA_S * 0.5


class CitySimulator:
    """A simulated Hangzhou. `rate` (events/s) scales the reporting intervals to reach it.

    >>> sim = CitySimulator(seed=1, city="small", rate=200)
    >>> recs = list(sim.records(1795226400, 1795226410))
    >>> 1500 < len(recs) < 2500, {c for c, _ in recs} >= {"crowd", "events", "heartbeats", "vehicles"}
    (True, True)
    """

    def __init__(
        self,
        seed: int = 0,
        city: str = "small",
        *,
        rate: float | None = None,
        first_after: float = 45.0,
        every: float = 180.0,
    ) -> None:
        self.seed, self.city = seed, city
        base = place_devices(city, seed)
        self.scale = rate / natural_rate(base) if rate else 1.0
        self._devices = [replace(d, interval_s=d.interval_s / self.scale) for d in base]
        self.first_after, self.every = first_after, every
        rng = np.random.default_rng([seed, 4])
        n_plates = 100 * sum(d.kind == "camera" for d in base)
        self.plates = ["浙A" + "".join(rng.choice(_PLATE_CHARS, 5)) for _ in range(n_plates)]
        self.plan: AnomalyPlan | None = None
        self.until = 0.0
        self._devices_registry: DeviceRegistry | None = None

    def devices(self) -> list[dict[str, Any]]:
        """Registry records (`ingest.registry.Device` fields) of every simulated device."""
        return [
            {
                "device_id": d.device_id,
                "type": d.type,
                "category": d.category,
                "lat": d.lat,
                "lon": d.lon,
                "department": d.department,
                "interval_s": round(d.interval_s, 3),
                "name": f"sim {d.kind}",
            }
            for d in self._devices
        ]

    def truth(self) -> list[dict[str, Any]]:
        """Ground truth of every anomaly that started before the end of the generated time."""
        return [a.truth() for a in self.plan.until(self.until)] if self.plan else []

    def events(self, t0: float, t1: float, pseudonymizer: Pseudonymizer | None = None) -> Iterator[dict[str, Any]]:
        """Everything in [t0, t1) as CityEvent dicts, through the adapters' own translators.

        >>> pz = Pseudonymizer({"k1": b"secret-one"}, active_key_id="k1")
        >>> events = list(CitySimulator(seed=1, rate=200).events(1795226400, 1795226402, pz))
        >>> all(e["lat"] is not None for e in events if e["type"] == "vehicle")
        True
        """
        pz = pseudonymizer or Pseudonymizer.from_settings()
        registry = self._registry()
        for channel, payload in self.records(t0, t1):
            if channel == "events":
                yield payload
            elif channel == "heartbeats":
                yield heartbeat_to_event(payload, registry)
            elif channel == "reports":
                yield report_to_event(payload, pz)
            else:
                event = vehicle_to_event(payload, pz) if channel == "vehicles" else crowd_to_event(payload)
                device = registry.get(event["device_id"])
                if device is not None:
                    event |= {"lat": device.lat, "lon": device.lon, "cell": device.cell}
                yield event

    def _registry(self) -> DeviceRegistry:
        if self._devices_registry is None:
            self._devices_registry = DeviceRegistry(Device.model_validate(d) for d in self.devices())
        return self._devices_registry

    def _init(self, t0: float) -> None:
        rng = np.random.default_rng([self.seed, 2])
        kinds = (*SENSOR_KINDS, "camera")
        self.groups = {k: Group(k, [d for d in self._devices if d.kind == k], t0, rng) for k in kinds}
        self.everyone = Group("device", self._devices, t0, rng)
        self.everyone.interval[:] = HEARTBEAT_S
        self.everyone.next = t0 + rng.uniform(0.0, HEARTBEAT_S, len(self._devices))
        self.plan = AnomalyPlan(self._devices, self.seed, t0, first_after=self.first_after, every=self.every)

    def records(self, t0: float, t1: float) -> Iterator[Record]:
        """Everything the city sends in [t0, t1) (epoch seconds), in wire shapes, by channel."""
        if self.plan is None:
            self._init(t0)
        sec = math.floor(t0)
        while sec < t1:
            lo, hi = max(sec, t0), min(sec + 1, t1)
            yield from self._second(sec, lo, hi)
            self.until = max(self.until, hi)
            sec += 1

    def _second(self, sec: int, lo: float, hi: float) -> Iterator[Record]:
        assert self.plan is not None
        rng = np.random.default_rng([self.seed, 3, sec])
        active = self.plan.active(lo, hi)
        offline = {d for a in active if a.mode == "offline" for d in a.devices}
        local = datetime.fromtimestamp(sec, CST)
        base, pass_time = local.strftime("%Y-%m-%dT%H:%M:%S"), local.strftime("%Y%m%d%H%M%S")
        for kind in SENSOR_KINDS:
            g = self.groups[kind]
            for idx, times in g.due(lo, hi):
                values = sensor_values(kind, times, rng.standard_normal((3, idx.size)))
                apply_anomalies(g, idx, times, values, active)
                names = list(values)
                cols = [np.round(values[n], 3).tolist() for n in names]
                for j, (i, ms) in enumerate(zip(idx.tolist(), millis(times, sec), strict=True)):
                    dev = g.ids[i]
                    if dev in offline:
                        continue
                    yield (
                        "events",
                        {
                            "id": f"{dev}-{sec}{ms:03d}",
                            "source": g.source,
                            "type": "reading",
                            "time": f"{base}.{ms:03d}+08:00",
                            "device_id": dev,
                            "lat": g.lat[i],
                            "lon": g.lon[i],
                            "cell": g.cell[i],
                            "category": g.category,
                            "measurements": {n: c[j] for n, c in zip(names, cols, strict=True)},
                        },
                    )
        yield from camera_records(self.groups["camera"], self.plates, self.scale, sec, lo, hi, rng, active, pass_time)
        for idx, times in self.everyone.due(lo, hi):
            battery = np.round(0.95 - 0.1 * rng.random(idx.size), 3).tolist()
            for j, (i, ms) in enumerate(zip(idx.tolist(), millis(times, sec), strict=True)):
                dev = self.everyone.ids[i]
                if dev not in offline:
                    yield (
                        "heartbeats",
                        {"device_id": dev, "time": f"{base}.{ms:03d}+08:00", "battery": battery[j], "status": "ok"},
                    )
        yield from report_records(self.plan, self._devices, self.seed, sec, lo, hi, rng, base)
