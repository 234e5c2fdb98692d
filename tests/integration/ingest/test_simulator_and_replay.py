"""The simulator driving every HTTP adapter onto the real broker, and file replay with its pacing."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest

from ingest.metrics import ingest_stats
from ingest.replay import ndjson_lines, replay
from ingest.simulator import CitySimulator
from ingest.simulator.runner import Runner
from ingest.topics import DEADLETTER_TOPIC, EVENTS_TOPIC
from tests.factories import event_dict

pytestmark = pytest.mark.integration
ADAPTERS = {"events": "http", "heartbeats": "heartbeats", "reports": "reports", "vehicles": "viid-vehicles",
            "crowd": "viid-crowd"}


async def test_simulated_city_feeds_all_adapters_and_stats_balance(client, read, tmp_path):
    sim = CitySimulator(seed=5, city="small", rate=150, first_after=5, every=20)
    transport = httpx.ASGITransport(app=client._transport.app)  # the same app and ingest context
    runner = Runner(sim, "http://ingest.test", truth=tmp_path / "truth.json", transport=transport)
    before = ingest_stats()
    start = float(int(time.time()) - 130)  # accelerated recent history: all records pass validation

    assert await runner.register() == len(sim.devices())
    stats = await runner.run(duration=120, start=start)
    await runner.close()

    after = ingest_stats()
    for channel, adapter in ADAPTERS.items():
        delta = {k: after[adapter][k] - before.get(adapter, {}).get(k, 0) for k in after[adapter]}
        assert delta["received"] == stats.sent[channel] > 0, channel
        assert delta["received"] == delta["accepted"] + delta["rejected"] + delta["duplicates"]
        assert delta["rejected"] == 0, (channel, delta)
    truth = orjson.loads((tmp_path / "truth.json").read_bytes())
    assert {t["kind"] for t in truth} == {"accident", "pollution_spike", "crowd_surge", "sensor_failure"}
    clear_plates = {p.encode() for p in sim.plates}
    messages = read(EVENTS_TOPIC, lambda m: b'"viid"' in m.value, expect=10**9, timeout_s=5)
    assert messages and not any(p in m.value for m in messages for p in clear_plates)


async def test_file_replay_keeps_spacing_divided_by_speed(client, read, tmp_path, unique_name):
    t0 = datetime.now(UTC) - timedelta(minutes=1)
    lines = [orjson.dumps(event_dict(id=f"{unique_name}-{i}", time=(t0 + timedelta(seconds=i)).isoformat()))
             for i in range(5)]
    path = tmp_path / "events.ndjson.gz"
    path.write_bytes(gzip.compress(b"\n".join([*lines[:2], b'{"id": "broken', *lines[2:]]) + b"\n"))
    pipeline = client.context.pipeline

    began = time.monotonic()
    totals = await replay(ndjson_lines(path), pipeline, speed=2.0)
    elapsed = time.monotonic() - began

    assert (totals.lines, totals.accepted, totals.rejected) == (6, 5, 1)
    assert 1.9 <= elapsed < 4.0  # 4 s of recorded time at 2x
    got = read(EVENTS_TOPIC, lambda m: unique_name.encode() in m.value, expect=5)
    assert sorted(e["id"] for m in got for e in orjson.loads(m.value)) == [f"{unique_name}-{i}" for i in range(5)]
    [dl] = read(DEADLETTER_TOPIC, lambda m: m.value == b'{"id": "broken', expect=1)
    assert dl.headers["cb-adapter"] == b"replay"

    again = await replay(ndjson_lines(path), pipeline, speed=None)
    assert (again.accepted, again.duplicates) == (0, 5)
