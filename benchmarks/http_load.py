"""`citybrain bench http --rate 200 --events 10000000`: the command-center API under a steady request rate.

What the issue asks for: p50/p99 of `/api/v1/alerts` and the map endpoints at 200 requests/s with ten
million stored events. How it is measured:

1. A fresh data dir is seeded in a child process (chdb allows one data dir per process, and the API must own
   it afterwards): 100,000 devices (`brain_api.mapping.bench.seed_city`), then `--events` readings spread
   over the last 24 h, generated *inside* ClickHouse (`INSERT … SELECT … FROM numbers()`, in 1M-row chunks,
   so the per-minute/per-hour rollup views fill exactly as the sink's inserts would), and alerts over the
   same day.
2. A real `citybrain up --no-simulator` (broker, worker, API with its sink) is started on that data dir.
3. An open-loop generator sends requests at fixed intervals whatever the answers do; latency is measured
   from each request's *scheduled* time, so a stalled server is not hidden by a waiting client
   (coordinated omission). The mix is what a wall of operator screens does: alert queue pages and
   filters, alert details, map cells and devices at city, district and street zoom.

The API's per-token rate limit (5/s by default, meant for one operator) is raised for the run: 200
requests/s stand for dozens of screens, which would each have their own token.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp

from deploy.local import LocalPlatform

CHUNK = 1_000_000
CITY = "119.9,30.0,120.5,30.5"
CENTRE = "120.15,30.22,120.25,30.28"
STREET = "120.195,30.245,120.205,30.255"


def _seed(chdb_path: str, n_events: int, n_devices: int) -> None:
    """Runs in a child process; leaves a migrated, seeded `citybrain` database behind."""
    from datetime import UTC, datetime

    from brain_api.mapping.bench import seed_city
    from streams.storage.embedded import EmbeddedStore
    from streams.storage.migrate import migrate

    store = EmbeddedStore(chdb_path, database="citybrain")
    migrate(store)
    seed_city(store, n_devices, now=datetime.now(UTC))
    # device attributes by row number, so each generated reading belongs to a real device and its cell
    store.command("CREATE TABLE bench_devices ENGINE = Memory AS SELECT rowNumberInAllBlocks() AS idx, device_id,"
                  " lat, lon, cell, category FROM (SELECT * FROM devices ORDER BY device_id)")
    for start in range(0, n_events, CHUNK):
        count = min(CHUNK, n_events - start)
        store.command(
            "INSERT INTO events (id, source, type, time, device_id, lat, lon, cell, category, measurements,"
            " attributes, flags, schema_version, received_at, kafka_partition, kafka_offset, inserted_at)"
            " SELECT concat('load-', toString(n)), 'bench/http', 'reading',"
            f" now64(3) - toIntervalMillisecond(intDiv(({n_events} - n) * 86400000, {n_events})),"
            " d.device_id, d.lat, d.lon, d.cell, d.category,"
            " map('value', 50 + 10 * sin(n), 'speed_kmh', 40 + (n % 17)), '{}', [], 1, now64(3),"
            " toInt32(n % 8), toInt64(n), now64(3)"
            f" FROM (SELECT number + {start} AS n, (number + {start}) % {n_devices} AS idx FROM numbers({count})) AS g"
            " INNER JOIN bench_devices AS d ON g.idx = d.idx"
        )
    store.command(
        "INSERT INTO alerts (id, incident_id, department, category, sub_category, severity, confidence, title,"
        " description, cell, lat, lon, evidence, created_at, version, kafka_partition, kafka_offset, inserted_at)"
        " SELECT concat('al-load-', toString(number)), concat('in-load-', toString(number)),"
        " ['traffic', 'environment', 'city_management', 'public_security'][number % 4 + 1],"
        " ['traffic', 'air', 'manhole', 'crowd'][number % 4 + 1], 'bench',"
        " ['low', 'medium', 'high', 'critical'][number % 4 + 1], 0.9, 'bench alert', '', d.cell, d.lat, d.lon,"
        " format('[{{\"anomaly_id\":\"an-load-{0}\",\"device_id\":\"{1}\",\"metric\":\"value\",\"observed\":95.0,"
        "\"expected\":50.0,\"score\":0.99,\"detector\":\"residual\",\"time\":\"{2}\",\"event_id\":\"load-{0}\"}}]',"
        " toString(number), d.device_id, formatDateTime(now() - toIntervalSecond(number * 8), '%FT%TZ')),"
        " now64(3) - toIntervalSecond(number * 8), 1, 0,"
        " toInt64(number), now64(3)"
        f" FROM numbers(10000) AS g INNER JOIN bench_devices AS d ON g.number * 7 % {n_devices} = d.idx"
    )
    # a day's history is mostly handled: older than an hour resolved, older than ten minutes acknowledged,
    # the newest open (so the escalation task has no backlog to chew through during the run)
    for version, state, min_age_s in ((1, "acknowledged", 600), (2, "resolved", 3600)):
        store.command(
            "INSERT INTO alert_transitions (alert_id, from_state, to_state, actor, note, at, version)"
            f" SELECT concat('al-load-', toString(number)), '{'open' if version == 1 else 'acknowledged'}',"
            f" '{state}', 'bench-operator', '', now64(3) - toIntervalSecond(number * 8) + {60 * version}, {version}"
            f" FROM numbers(10000) WHERE number * 8 > {min_age_s}"
        )
    store.command("DROP TABLE bench_devices")
    store.close()


def seed(chdb_path: Path, n_events: int, n_devices: int) -> float:
    started = time.perf_counter()
    code = f"from benchmarks.http_load import _seed; _seed({str(chdb_path)!r}, {n_events}, {n_devices})"
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def request_mix(rng: random.Random) -> tuple[str, str, dict[str, Any]]:
    """(label, path, params) of one request, weighted as an operations room uses the API.

    Most requests are screens refreshing shared views (the queue, the city and district maps); 7% open an
    alert's detail (a random one of 10,000: never the same twice in a row) and 3% pan the map to a random
    street-level view — both are cache misses by construction and cost a full query.
    """
    roll = rng.random()
    if roll < 0.25:
        return "alerts_page", "/api/v1/alerts", {"limit": 50}
    if roll < 0.35:
        return "alerts_filtered", "/api/v1/alerts", {"state": "open", "category": rng.choice(["traffic", "air"]),
                                                      "limit": 50}
    if roll < 0.42:
        return "alert_detail", f"/api/v1/alerts/al-load-{rng.randrange(10_000)}", {}
    if roll < 0.45:
        lon, lat = rng.uniform(119.95, 120.45), rng.uniform(30.05, 30.45)
        return "devices_pan_z16", "/api/v1/map/devices", {"bbox": f"{lon:.4f},{lat:.4f},{lon + 0.02:.4f},"
                                                                   f"{lat + 0.012:.4f}", "zoom": 16}
    if roll < 0.60:
        return "cells_city_z11", "/api/v1/map/cells", {"bbox": CITY, "zoom": 11}
    if roll < 0.75:
        return "cells_centre_z13", "/api/v1/map/cells", {"bbox": CENTRE, "zoom": 13}
    if roll < 0.85:
        return "devices_city_z12", "/api/v1/map/devices", {"bbox": CITY, "zoom": 12}
    return "devices_street_z17", "/api/v1/map/devices", {"bbox": STREET, "zoom": 17}


async def drive(base_url: str, headers: dict[str, str], rate: float, duration_s: float,
                seed_: int = 11) -> dict[str, list[float | None]]:
    """Open loop: request i is due at start + i/rate; its latency counts from then. None = failed."""
    rng = random.Random(seed_)
    results: dict[str, list[float | None]] = defaultdict(list)
    # aiohttp, not httpx: the generator shares the 2 cores with the platform and must cost far less per
    # request than the server does (httpx's async client topped out near 140 requests/s here)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(base_url, headers=headers, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=60)) as client:
        async def one(label: str, path: str, params: dict[str, Any], due: float) -> None:
            try:
                async with client.get(path, params=params) as r:
                    await r.read()
                    ok = r.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            results[label].append((time.perf_counter() - due) * 1000 if ok else None)

        tasks, start = [], time.perf_counter()
        for i in range(int(rate * duration_s)):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one(*request_mix(rng), due)))
        await asyncio.gather(*tasks)
    return results


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def summarise(results: dict[str, list[float | None]], rate: float, duration_s: float) -> dict[str, Any]:
    every = [v for vs in results.values() for v in vs if v is not None]
    failed = sum(v is None for vs in results.values() for v in vs)
    per = {label: {"n": len(vs), "p50_ms": _pct(ok, 0.5), "p99_ms": _pct(ok, 0.99), "max_ms": round(max(ok), 1)}
           for label, vs in sorted(results.items()) if (ok := [v for v in vs if v is not None])}
    return {"rate_per_s": rate, "duration_s": duration_s, "requests": len(every) + failed, "failed": failed,
            "p50_ms": _pct(every, 0.5), "p99_ms": _pct(every, 0.99), "max_ms": round(max(every), 1),
            "mean_ms": round(statistics.fmean(every), 1), "endpoints": per}


def bench_http(rate: float | list[float] = 200.0, duration_s: float = 60.0, n_events: int = 10_000_000,
               n_devices: int = 100_000) -> dict[str, Any]:
    """Figures at `rate`; with several rates (lowest first, one seeded platform) the last one's figures are
    the top-level ones and every rate's summary is under `runs`, which shows where the API saturates."""
    rates = sorted(rate) if isinstance(rate, list) else [rate]
    with tempfile.TemporaryDirectory(prefix="citybrain-http-") as tmp:
        data_dir = Path(tmp)
        seed_s = seed(data_dir / "chdb", n_events, n_devices)
        env = {"CITYBRAIN_API_RATE_LIMIT_PER_S": "100000", "CITYBRAIN_API_RATE_LIMIT_BURST": "100000"}
        runs = []
        with LocalPlatform(data_dir, env=env) as platform:
            for r in rates:
                asyncio.run(drive(platform.base_url, platform.headers, r, 5.0))  # warm caches and connections
                runs.append(summarise(asyncio.run(drive(platform.base_url, platform.headers, r, duration_s)),
                                      r, duration_s))
                time.sleep(5)  # let a saturated run drain before the next
        out = {"events_stored": n_events, "devices": n_devices, "seed_s": round(seed_s, 1), **runs[-1]}
        if len(runs) > 1:
            out["runs"] = [{k: v for k, v in run.items() if k != "endpoints"} for run in runs]
        return out
