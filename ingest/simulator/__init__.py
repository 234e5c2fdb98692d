"""The city simulator: a seeded Hangzhou whose sensors, cameras and citizens feed every ingest adapter.

`CitySimulator(seed, city, rate=...)` is the pure generator (`records`, `events`, `devices`, `truth`);
`runner.Runner` sends it to a running platform (`citybrain simulate`). Imports only from `ingest`.
"""

from __future__ import annotations

from ingest.simulator.generator import CitySimulator

__all__ = ["CitySimulator"]
