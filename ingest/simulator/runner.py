"""Drive a running platform with the simulated city: every adapter, in real time or accelerated.

Each simulated second is sent once it has passed (timestamps are never in the future): readings to
`/api/v1/events`, cameras to `/VIID/MotorVehicles` and `/VIID/CrowdCounts`, `/api/v1/heartbeats`,
`/api/v1/reports`, and — with an MQTT broker — water and manhole readings over MQTT instead of HTTP.
The devices are registered first through `/api/v1/devices/import`, and the ground truth is rewritten
as anomalies begin, so a crash still leaves a usable truth file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from ingest.simulator.generator import CitySimulator

log = logging.getLogger(__name__)
ACCELERATED_STEP_S = 30.0
ENDPOINTS = {
    "events": "/api/v1/events",
    "heartbeats": "/api/v1/heartbeats",
    "reports": "/api/v1/reports",
    "vehicles": "/VIID/MotorVehicles",
    "crowd": "/VIID/CrowdCounts",
}
WRAP = {
    "vehicles": ("MotorVehicleListObject", "MotorVehicleObject"),
    "crowd": ("CrowdCountListObject", "CrowdCountObject"),
}
MQTT_CATEGORIES = {"water", "manhole"}
CHUNK = 5000


@dataclass
class RunStats:
    sent: Counter[str] = field(default_factory=Counter)
    failed_requests: int = 0


def write_truth(path: Path | None, truth: list[dict[str, Any]]) -> None:
    if path is None:
        return
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2))
    tmp.replace(path)


def devices_geojson(sim: CitySimulator) -> bytes:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [d["lon"], d["lat"]]},
            "properties": {k: v for k, v in d.items() if k not in {"lat", "lon"}},
        }
        for d in sim.devices()
    ]
    return orjson.dumps({"type": "FeatureCollection", "features": features})


class Runner:
    """One simulation run against `target` (the API base URL)."""

    def __init__(
        self,
        sim: CitySimulator,
        target: str,
        *,
        token: str | None = None,
        mqtt: str | None = None,
        truth: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.sim, self.truth = sim, truth
        token = token or os.environ.get("CITYBRAIN_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=target.rstrip("/"), headers=headers, timeout=30.0, transport=transport)
        self.stats = RunStats()
        self.mqtt = None
        if mqtt:
            import paho.mqtt.client as paho

            host, _, port = mqtt.rpartition(":")
            self.mqtt = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"citybrain-sim-{os.getpid()}")
            self.mqtt.reconnect_delay_set(1, 5)
            self.mqtt.connect_async(host or "127.0.0.1", int(port))
            self.mqtt.loop_start()

    async def register(self, timeout_s: float = 60.0) -> int:
        """Import the simulated devices into the registry, waiting for the API to come up."""
        deadline = time.monotonic() + timeout_s
        body = devices_geojson(self.sim)
        while True:
            try:
                r = await self.http.post(
                    "/api/v1/devices/import", content=body, headers={"Content-Type": "application/geo+json"}
                )
                if r.status_code < 300:
                    return int(r.json()["imported"])
                reason = f"{r.status_code} {r.text[:200]}"
            except httpx.HTTPError as exc:
                reason = repr(exc)
            if time.monotonic() > deadline:
                raise RuntimeError(f"device registration failed: {reason}")
            await asyncio.sleep(1.0)

    async def _post(self, channel: str, items: list[dict[str, Any]]) -> None:
        for i in range(0, len(items), CHUNK):
            chunk = items[i : i + CHUNK]
            outer = WRAP.get(channel)
            body = {outer[0]: {outer[1]: chunk}} if outer else chunk
            try:
                r = await self.http.post(
                    ENDPOINTS[channel], content=orjson.dumps(body), headers={"Content-Type": "application/json"}
                )
                ok = r.status_code < 300
            except httpx.HTTPError as exc:
                ok, r = False, exc
            if ok:
                self.stats.sent[channel] += len(chunk)
            else:
                self.stats.failed_requests += 1
                log.warning("POST %s failed: %s", ENDPOINTS[channel], getattr(r, "text", r))

    def _publish_mqtt(self, event: dict[str, Any]) -> None:
        assert self.mqtt is not None
        topic = f"city/{event['category']}/{event['device_id']}/reading"
        payload = {"id": event["id"], "time": event["time"], **event["measurements"]}
        self.mqtt.publish(topic, orjson.dumps(payload), qos=1)
        self.stats.sent["mqtt"] += 1

    async def second(self, t0: float, t1: float) -> None:
        """Send what the city emits in [t0, t1): a second in real time, longer slices when accelerated."""
        by_channel: dict[str, list[dict[str, Any]]] = {c: [] for c in ENDPOINTS}
        for channel, payload in self.sim.records(t0, t1):
            if self.mqtt is not None and channel == "events" and payload["category"] in MQTT_CATEGORIES:
                self._publish_mqtt(payload)
            else:
                by_channel[channel].append(payload)
        await asyncio.gather(*(self._post(c, items) for c, items in by_channel.items() if items))

    async def run(self, *, duration: float, start: float | None = None, stop: asyncio.Event | None = None) -> RunStats:
        """Real time from now (`start=None`), or as fast as possible from `start` (accelerated history)."""
        stop = stop or asyncio.Event()
        realtime = start is None
        t = float(int(time.time())) if realtime else float(start)
        end = t + duration if duration > 0 else float("inf")
        known, last_log = 0, time.monotonic()
        # accelerated history goes out in 30-simulated-second requests: one round trip per second would make
        # the HTTP overhead, not the platform, the limit (~600 events/s measured)
        step = 1.0 if realtime else ACCELERATED_STEP_S
        while t < end and not stop.is_set():
            if realtime and time.time() < t + 1:
                await asyncio.sleep(max(0.0, t + 1 - time.time()))
            await self.second(t, min(t + step, end))
            t += step
            truth = self.sim.truth()
            if len(truth) != known:
                write_truth(self.truth, truth)
                known = len(truth)
            if time.monotonic() - last_log > 10:
                log.info("sent %s (failed requests %d)", dict(self.stats.sent), self.stats.failed_requests)
                last_log = time.monotonic()
        write_truth(self.truth, self.sim.truth())
        return self.stats

    async def close(self) -> None:
        await self.http.aclose()
        if self.mqtt is not None:
            self.mqtt.loop_stop()
            self.mqtt.disconnect()
