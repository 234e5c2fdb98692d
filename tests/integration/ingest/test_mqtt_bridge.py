"""The MQTT bridge between a real mosquitto and the real broker, including a mosquitto restart."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import orjson
import paho.mqtt.client as paho
import pytest

from ingest.mqtt_bridge import MqttBridge
from ingest.topics import DEADLETTER_TOPIC, EVENTS_TOPIC

pytestmark = pytest.mark.integration


def _publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(5)
    finally:
        client.loop_stop()
        client.disconnect()


async def _until(predicate, timeout_s: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return False


@contextlib.asynccontextmanager
async def running_bridge(port: int, client):
    bridge = MqttBridge("127.0.0.1", port, client.context.pipeline, client_id="bridge-test")
    await bridge.start()
    task = asyncio.create_task(bridge.run())
    try:
        assert await _until(bridge.connected.is_set, 10), "bridge never connected to mosquitto"
        yield bridge
    finally:
        await bridge.stop()
        await asyncio.wait_for(task, 5)


async def test_readings_survive_a_mosquitto_restart(mosquitto, client, read, unique_name):
    now = datetime.now(UTC).isoformat()
    device = f"{unique_name}-wl"
    async with running_bridge(mosquitto.port, client) as bridge:
        await asyncio.to_thread(_publish, mosquitto.port, [
            (f"city/water/{device}/level_m", orjson.dumps({"value": 1.25, "time": now})),
            (f"city/water/{device}/level_m", b"{not json"),
        ])
        got = await asyncio.to_thread(read, EVENTS_TOPIC, lambda m: device.encode() in m.value, 1)
        assert [e["measurements"] for m in got for e in orjson.loads(m.value)] == [{"level_m": 1.25}]
        [dl] = await asyncio.to_thread(read, DEADLETTER_TOPIC, lambda m: device.encode() in m.value, 1)
        assert dl.headers["cb-adapter"] == b"mqtt" and b"invalid JSON" in dl.headers["cb-reason"]

        assert bridge.connects == 1
        await asyncio.to_thread(mosquitto.restart)
        assert await _until(lambda: bridge.connects == 2, 15), "bridge did not reconnect after the restart"
        later = datetime.now(UTC).isoformat()
        await asyncio.to_thread(_publish, mosquitto.port, [
            (f"city/water/{device}/reading", orjson.dumps({"time": later, "level_m": 1.31, "temp_c": 14.0})),
        ])
        got = await asyncio.to_thread(read, EVENTS_TOPIC, lambda m: device.encode() in m.value, 2)
        measurements = [e["measurements"] for m in got for e in orjson.loads(m.value)]
        assert measurements == [{"level_m": 1.25}, {"level_m": 1.31, "temp_c": 14.0}]
