"""MQTT -> Kafka bridge: subscribes `city/+/+/#` and forwards readings through the ingest pipeline.

paho-mqtt runs its network loop in its own thread and reconnects by itself (1–5 s backoff) when the
broker restarts; subscriptions are renewed in `on_connect` because a clean session forgets them.
Messages cross into asyncio through a queue and are published in batches (up to 1000 or 50 ms),
so one slow Kafka ack does not block the MQTT thread. Run alone: `python -m ingest.mqtt_bridge --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

import orjson
import paho.mqtt.client as mqtt

from ingest.errors import BrokerUnavailable, InvalidEvent
from ingest.feeds import mqtt_to_event
from ingest.pipeline import Candidate, IngestPipeline

log = logging.getLogger(__name__)
TOPIC_FILTER = "city/+/+/#"
ADAPTER = "mqtt"


def to_candidate(topic: str, payload: bytes, received: datetime) -> Candidate:
    """One MQTT message as a pipeline candidate; the dead-letter copy keeps the topic beside the payload."""
    raw = orjson.dumps({"topic": topic}) + b"\n" + payload
    try:
        return Candidate(raw, value=mqtt_to_event(topic, orjson.loads(payload), received))
    except orjson.JSONDecodeError as exc:
        return Candidate(raw, error=f"invalid JSON payload: {str(exc).split(':')[0]}")
    except InvalidEvent as exc:
        return Candidate(raw, error=exc.reason, field=exc.field)


class MqttBridge:
    """Owns one paho client; `await start()` then `await run()` (or `stop()` from another task)."""

    def __init__(
        self,
        host: str,
        port: int,
        pipeline: IngestPipeline,
        *,
        client_id: str = "citybrain-bridge",
        qos: int = 1,
        batch: int = 1000,
        within_s: float = 0.05,
    ) -> None:
        self.host, self.port, self.pipeline = host, port, pipeline
        self.qos, self.batch, self.within_s = qos, batch, within_s
        self.connected = asyncio.Event()
        self._queue: asyncio.Queue[tuple[str, bytes, datetime]] = asyncio.Queue(maxsize=100_000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self.connects = 0  # successful (re)connections, for health checks and tests
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("mqtt connect to %s:%s refused: %s", self.host, self.port, reason)
            return
        client.subscribe(TOPIC_FILTER, qos=self.qos)
        self.connects += 1
        log.info("mqtt connected to %s:%s, subscribed %s", self.host, self.port, TOPIC_FILTER)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.connected.set)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        log.warning("mqtt disconnected (%s); paho reconnects", reason)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.connected.clear)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        item = (message.topic, bytes(message.payload), datetime.now(UTC))
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # connect_async + loop_start: paho keeps retrying even when the broker is down at start.
        self.client.connect_async(self.host, self.port, keepalive=10)
        self.client.loop_start()

    async def run(self) -> None:
        """Drain the queue into the pipeline until `stop()`; a Kafka outage is retried, not dropped."""
        while not self._stopping:
            try:
                first = await asyncio.wait_for(self._queue.get(), timeout=0.5)
            except TimeoutError:
                continue
            items = [first]
            deadline = asyncio.get_running_loop().time() + self.within_s
            while len(items) < self.batch:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    items.append(await asyncio.wait_for(self._queue.get(), timeout=remaining))
            candidates = [to_candidate(*item) for item in items]
            while not self._stopping:
                try:
                    await self.pipeline.ingest(ADAPTER, candidates)
                    break
                except BrokerUnavailable as exc:
                    log.warning("kafka unavailable, retrying %d mqtt readings: %s", len(candidates), exc)
                    await asyncio.sleep(1.0)

    async def stop(self) -> None:
        self._stopping = True
        self.client.disconnect()
        self.client.loop_stop()


async def _main(args: argparse.Namespace) -> None:
    from ingest.dedup import RecentKeys
    from ingest.publisher import EventPublisher
    from ingest.registry import DeviceRegistry
    from ingest.registry_io import load_devices
    from ingest.settings import get_ingest_settings
    from ingest.validate import EventValidator

    registry = DeviceRegistry(load_devices(args.devices) if args.devices else ())
    async with EventPublisher(args.bootstrap) as publisher:
        validator = EventValidator(registry, publisher.pz)
        pipeline = IngestPipeline(publisher, validator, RecentKeys(get_ingest_settings().dedup_window))
        host, _, port = args.mqtt.rpartition(":")
        bridge = MqttBridge(host or "127.0.0.1", int(port), pipeline)
        await bridge.start()
        try:
            await bridge.run()
        finally:
            await bridge.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ingest.mqtt_bridge",
        description="Forward MQTT readings (city/<category>/<device_id>/<metric>) to citybrain.events.v1.",
        epilog="example:\n  python -m ingest.mqtt_bridge --mqtt 127.0.0.1:1883 --bootstrap 127.0.0.1:9092",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--mqtt", default="127.0.0.1:1883", help="MQTT broker host:port")
    parser.add_argument("--bootstrap", default=None, help="Kafka bootstrap (default CITYBRAIN_KAFKA_BOOTSTRAP)")
    parser.add_argument("--devices", default=None, help="CSV/GeoJSON device registry to load")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
