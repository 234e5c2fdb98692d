"""`bench_map(n_devices)`: how fast the map layers answer over a synthetic city, in real chdb.

Seeds `n_devices` devices around Hangzhou, one reading per device in the last minutes (the
materialised views fill the per-minute rollup, as the sink's inserts would) and 200 open alerts naming
devices in their evidence, then times each map query end to end: SQL, GeoJSON models and JSON bytes.
The issue's bar: 100,000 devices answer in <= 200 ms with <= 2,000 features. `citybrain bench api` runs it.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson

from brain_api.mapping.cells import cell_layer
from brain_api.mapping.devices import device_layer
from brain_api.mapping.viewport import BBox
from brain_api.security.roles import Principal, Role
from ingest.geo import cell_of
from streams.storage.base import Store

CITY = BBox(119.9, 30.0, 120.5, 30.5)
CATEGORIES = ("traffic", "air", "water", "manhole", "fire", "crowd")
MAX_FEATURES = 2000


def seed_city(store: Store, n_devices: int, *, now: datetime, seed: int = 7) -> list[str]:
    """Devices, recent readings and open alerts; returns the device ids."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(CITY.south, CITY.north, n_devices)
    lon = rng.uniform(CITY.west, CITY.east, n_devices)
    ids = [f"dev-{i:06d}" for i in range(n_devices)]
    cells = [cell_of(float(a), float(o)) for a, o in zip(lat, lon, strict=True)]
    cats = [CATEGORIES[i % len(CATEGORIES)] for i in range(n_devices)]
    for start in range(0, n_devices, 50_000):  # batches of tens of thousands, as ClickHouse likes
        part = slice(start, start + 50_000)
        size = len(ids[part])
        store.insert("devices", {
            "device_id": ids[part], "name": [f"device {i}" for i in ids[part]], "type": ["sensor"] * size,
            "category": cats[part], "department": [""] * size, "interval_s": [60.0] * size,
            "lat": lat[part].tolist(), "lon": lon[part].tolist(), "cell": cells[part],
            "attributes": ["{}"] * size, "updated_at": [now] * size, "deleted": [0] * size,
            "kafka_partition": [0] * size, "kafka_offset": [0] * size, "inserted_at": [now] * size,
        })
        store.insert("events", {
            "id": [f"bench-{i}" for i in ids[part]], "source": ["bench"] * size, "type": ["reading"] * size,
            "time": [now - timedelta(minutes=2)] * size, "device_id": ids[part], "lat": lat[part].tolist(),
            "lon": lon[part].tolist(), "cell": cells[part], "category": cats[part],
            "measurements": [{"value": float(v)} for v in rng.normal(50, 10, size)],
            "attributes": ["{}"] * size, "flags": [[]] * size, "schema_version": [1] * size,
            "received_at": [now] * size, "kafka_partition": [0] * size, "kafka_offset": [0] * size,
            "inserted_at": [now] * size,
        })
    picks = rng.choice(n_devices, size=min(200, n_devices), replace=False)
    store.insert("alerts", {
        "id": [f"al-bench-{i}" for i in picks], "incident_id": [f"in-bench-{i}" for i in picks],
        "department": ["traffic"] * len(picks), "category": ["traffic"] * len(picks),
        "sub_category": ["congestion"] * len(picks),
        "severity": ["high" if i % 2 else "medium" for i in picks], "confidence": [0.9] * len(picks),
        "title": ["bench"] * len(picks), "description": [""] * len(picks), "cell": [cells[i] for i in picks],
        "lat": [float(lat[i]) for i in picks], "lon": [float(lon[i]) for i in picks],
        "evidence": [orjson.dumps([{"anomaly_id": f"an-bench-{i}", "device_id": ids[i], "metric": "value",
                                     "observed": 95.0, "expected": 50.0, "score": 0.99, "detector": "residual",
                                     "time": now.isoformat(), "event_id": f"bench-{ids[i]}"}]).decode()
                     for i in picks],
        "created_at": [now] * len(picks), "version": [1] * len(picks), "kafka_partition": [0] * len(picks),
        "kafka_offset": [0] * len(picks), "inserted_at": [now] * len(picks),
    })
    return ids


def _time(fn: Any, repeat: int) -> dict[str, Any]:
    took, payload = [], b""
    for _ in range(repeat):
        start = time.perf_counter()
        payload = orjson.dumps(fn())
        took.append((time.perf_counter() - start) * 1000)
    body = orjson.loads(payload)
    return {"p50_ms": round(statistics.median(took), 1), "max_ms": round(max(took), 1),
            "features": len(body["features"]), "bytes": len(payload), "meta": body["meta"]}


def bench_map(n_devices: int = 100_000, *, store: Store | None = None, repeat: int = 7) -> dict[str, Any]:
    """Seed a throwaway chdb database and time the map queries; returns numbers per scenario.

    Pass `store` to run inside a process that already owns a chdb directory (chdb allows one per
    process); the bench then seeds that store's current database, so give it an empty one.
    """
    from streams.storage.embedded import EmbeddedStore
    from streams.storage.migrate import migrate

    own = store is None
    database = f"bench_map_{uuid.uuid4().hex[:8]}" if own else store.database
    workdir = tempfile.mkdtemp(prefix="citybrain-bench-") if own else None
    store = store or EmbeddedStore(workdir, database=database)
    try:
        migrate(store)
        now = datetime.now(UTC)
        started = time.perf_counter()
        seed_city(store, n_devices, now=now)
        seeded_s = time.perf_counter() - started
        city = Principal("bench", Role.operator)
        centre = BBox(120.15, 30.22, 120.25, 30.28)
        street = BBox(120.195, 30.245, 120.205, 30.255)
        scenarios = {
            "devices_city_z10": lambda: device_layer(store, city, CITY, 10, cap=MAX_FEATURES),
            "devices_city_z14": lambda: device_layer(store, city, CITY, 14, cap=MAX_FEATURES),
            "devices_centre_z13": lambda: device_layer(store, city, centre, 13, cap=MAX_FEATURES),
            "devices_street_z17": lambda: device_layer(store, city, street, 17, cap=MAX_FEATURES),
            "cells_city_z11": lambda: cell_layer(store, city, CITY, 11, metric="value", minutes=15,
                                                 cap=MAX_FEATURES, now=now),
            "cells_centre_z13": lambda: cell_layer(store, city, centre, 13, metric=None, minutes=15,
                                                   cap=MAX_FEATURES, now=now),
        }
        results = {name: _time(fn, repeat) for name, fn in scenarios.items()}
        worst = max(r["p50_ms"] for r in results.values())
        return {"n_devices": n_devices, "seed_s": round(seeded_s, 1), "backend": store.backend,
                "scenarios": results, "worst_p50_ms": worst, "ok": worst <= 200.0
                and all(r["features"] <= MAX_FEATURES for r in results.values())}
    finally:
        if own:
            store.command(f"DROP DATABASE IF EXISTS {database}")
            store.close()
            shutil.rmtree(workdir or "", ignore_errors=True)
