"""Labelled anomalies the simulator injects, and the ground truth it writes for them.

The k-th anomaly starts `first_after + k * every` seconds (± jitter) after the simulation start and
kinds rotate (accident, pollution spike, crowd surge, sensor failure), so even a short run shows each
kind; the cell and devices are drawn from a per-anomaly seeded generator, so the plan is a pure
function of (seed, layout, start) and can be extended lazily for endless runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import h3
import numpy as np

from ingest.simulator.city import SimDevice

KINDS = ("accident", "pollution_spike", "crowd_surge", "sensor_failure")
DURATION_S = {"accident": 480.0, "pollution_spike": 600.0, "crowd_surge": 360.0, "sensor_failure": 600.0}
CATEGORY = {"accident": "traffic", "pollution_spike": "air", "crowd_surge": "crowd", "sensor_failure": "device"}


@dataclass(frozen=True)
class Anomaly:
    """One injected anomaly; `mode` refines sensor failures (`flatline` or `offline`)."""

    id: str
    kind: str
    start: float
    end: float
    cells: tuple[str, ...]
    devices: frozenset[str] = field(default_factory=frozenset)
    mode: str = ""

    def truth(self) -> dict[str, Any]:
        def iso(t: float) -> str:
            return datetime.fromtimestamp(t, UTC).isoformat()

        out = {
            "id": self.id,
            "kind": self.kind,
            "category": CATEGORY[self.kind],
            "cells": list(self.cells),
            "devices": sorted(self.devices),
            "start": iso(self.start),
            "end": iso(self.end),
        }
        return out | ({"mode": self.mode} if self.mode else {})


class AnomalyPlan:
    """Deterministic, lazily extended schedule of anomalies over a layout."""

    def __init__(
        self, devices: list[SimDevice], seed: int, start: float, *, first_after: float = 45.0, every: float = 180.0
    ) -> None:
        self.seed, self.start, self.first_after, self.every = seed, start, first_after, every
        self.by_cell: dict[str, list[SimDevice]] = {}
        for d in devices:
            self.by_cell.setdefault(d.cell, []).append(d)
        self.cells = sorted(self.by_cell)
        self.sensors = [d for d in devices if d.kind in {"traffic", "air", "water", "manhole"}]
        self.planned: list[Anomaly] = []

    def _in(self, cells: list[str], kind: str) -> set[str]:
        return {d.device_id for c in cells for d in self.by_cell.get(c, ()) if d.kind == kind}

    def _make(self, k: int) -> Anomaly:
        rng = np.random.default_rng([self.seed, 99, k])
        kind = KINDS[k % len(KINDS)]
        start = self.start + self.first_after + k * self.every + float(rng.uniform(0, self.every * 0.2))
        end = start + DURATION_S[kind]
        cell = self.cells[int(rng.integers(len(self.cells)))]
        # The anomaly's own cell first, then its neighbours that have devices.
        ring = [cell, *(c for c in sorted(h3.grid_disk(cell, 1)) if c in self.by_cell and c != cell)]
        aid = f"sim-{self.seed}-{k:04d}-{kind}"
        if kind == "accident":
            devices = self._in([cell], "traffic") | self._in(ring, "camera")
            return Anomaly(aid, kind, start, end, tuple(ring), frozenset(devices))
        if kind == "pollution_spike":
            return Anomaly(aid, kind, start, end, tuple(ring), frozenset(self._in(ring, "air")))
        if kind == "crowd_surge":
            return Anomaly(aid, kind, start, end, (cell,), frozenset(self._in([cell], "camera")))
        victim = self.sensors[int(rng.integers(len(self.sensors)))]
        mode = "offline" if rng.random() < 0.5 else "flatline"
        return Anomaly(aid, kind, start, end, (victim.cell,), frozenset({victim.device_id}), mode)

    def until(self, t: float) -> list[Anomaly]:
        """Every anomaly starting before `t` (the plan grows as time passes)."""
        while not self.planned or self.planned[-1].start < t:
            self.planned.append(self._make(len(self.planned)))
        return [a for a in self.planned if a.start < t]

    def active(self, t0: float, t1: float) -> list[Anomaly]:
        return [a for a in self.until(t1) if a.start < t1 and a.end > t0]
