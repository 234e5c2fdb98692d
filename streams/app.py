"""The faust app: thin agents around the stages in `streams.pipeline`.

detect:   citybrain.events.v1    -> citybrain.anomalies.v1 (+ dead letters)
fuse:     citybrain.anomalies.v1 -> citybrain.incidents.v1, citybrain.alerts.v1, citybrain.alerts.<dept>.v1
feedback: citybrain.feedback.v1  -> detector sensitivity (same key and partition count as events)
No faust tables: state is snapshotted to files (see `streams.state`); no exactly_once (Tansu lacks
transactions) — storage is idempotent instead. The web server stays off (`web_enabled=False`).
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faust
import orjson
from faust.transport.drivers import aiokafka as _faust_aiokafka
from faust.types import TP, EventT

from ingest.settings import get_common_settings, get_kafka_settings
from ingest.topics import DEADLETTER_TOPIC, EVENTS_TOPIC
from streams import metrics
from streams.fetch_wait import FetchWait, observe_fetches
from streams.fusion import FusionConfig
from streams.pipeline import DetectStage, FuseStage
from streams.settings import get_detection_settings
from streams.state import SnapshotStore
from streams.topics import ALERTS_TOPIC, ANOMALIES_TOPIC, FEEDBACK_TOPIC, INCIDENTS_TOPIC, department_topic
from streams.watchdog import StallWatch, patrol

log = logging.getLogger("citybrain.worker")
#: faust hard-codes `fetch_max_wait_ms=1500` for its consumer; the embedded broker answers an empty fetch only
#: after the whole wait, which put ~1.5 s on every hop (measured: alert latency p50 1.46 s at 5k events/s).
#: The wait starts short and adapts (streams.fetch_wait): the same broker gives up reads that outlast it.
_create_consumer = _faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer


def _adaptive_wait_consumer(self: Any, transport: Any) -> Any:
    consumer = _create_consumer(self, transport)
    consumer._fetch_max_wait_ms = det.fetch_wait_min_ms  # read by aiokafka when the consumer starts its fetcher
    observe_fetches(consumer, FetchWait(det.fetch_wait_min_ms, det.fetch_wait_max_ms))
    return consumer


_faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer = _adaptive_wait_consumer
kafka = get_kafka_settings()
det = get_detection_settings()
state_dir = Path(os.environ.get("CITYBRAIN_STATE_DIR") or get_common_settings().data_dir / "state")

app = faust.App(
    det.group_id,
    broker=f"kafka://{kafka.bootstrap or '127.0.0.1:9092'}",
    value_serializer="raw",
    key_serializer="raw",
    web_enabled=False,
    web_bind="127.0.0.1",
    store="memory://",
    topic_disable_leader=True,
    topic_allow_declare=False,
    consumer_auto_offset_reset="earliest",
    broker_session_timeout=kafka.session_timeout_ms / 1000,
    broker_heartbeat_interval=kafka.heartbeat_interval_ms / 1000,
    broker_commit_interval=1.0,
    producer_linger_ms=kafka.linger_ms,
    producer_compression_type=kafka.compression_type,
    # packed messages are ~100 kB each: fetch many per round trip, not faust's default 1 MiB
    consumer_max_fetch_size=det.max_fetch_partition_bytes,
    producer_max_request_size=8 * 1024 * 1024,
    datadir=str(state_dir / "faust"),
)
events_topic = app.topic(EVENTS_TOPIC)
anomalies_topic = app.topic(ANOMALIES_TOPIC)
feedback_topic = app.topic(FEEDBACK_TOPIC)
incidents_topic = app.topic(INCIDENTS_TOPIC)
alerts_topic = app.topic(ALERTS_TOPIC)
deadletter_topic = app.topic(DEADLETTER_TOPIC)

snapshots = SnapshotStore(state_dir)
detect_stage = DetectStage(snapshots, threshold=det.alert_threshold)
fuse_stage = FuseStage(snapshots, FusionConfig(
    window_s=det.fusion_window_s, alert_min_confidence=det.fusion_min_confidence,
    dept_alerts_per_minute=det.dept_alerts_per_minute,
))


watch = StallWatch(det.stall_s, det.stall_escalate_s)


def _progress(events: Sequence[EventT]) -> None:
    now = time.monotonic()
    for ev in events:
        watch.processed(ev.message.tp, ev.message.offset, now)


def _by_partition(events: Sequence[EventT]) -> dict[int, list[Any]]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for ev in events:
        groups[ev.message.partition].append(ev)
    return groups


async def _dead_letter(value: bytes, reason: str, ev: EventT) -> None:
    msg = ev.message
    metrics.DEAD_LETTERS.labels(stage="detect").inc()
    log.warning("dead letter %s[%s]@%s: %s", msg.topic, msg.partition, msg.offset, reason)
    await deadletter_topic.send(value=value, headers=[
        ("cb-reason", reason.encode()), ("cb-stage", b"detect"), ("cb-adapter", b"kafka"),
        ("cb-topic", msg.topic.encode()), ("cb-partition", str(msg.partition).encode()),
        ("cb-offset", str(msg.offset).encode()),
    ])


@app.agent(events_topic)
async def detect(stream: faust.StreamT) -> None:
    async for batch in stream.take_events(det.batch_messages, within=det.batch_within_s):
        _progress(batch)
        for partition, evs in _by_partition(batch).items():
            started = time.perf_counter()
            out = detect_stage.process(partition, (e.message.value for e in evs))
            metrics.observe_detect(out.events, len(out.anomalies), time.perf_counter() - started)
            for value, reason in out.dead:
                await _dead_letter(value, reason, evs[0])
            for key, packed in out.by_district().items():
                await anomalies_topic.send(key=key, value=packed)


@app.agent(anomalies_topic)
async def fuse(stream: faust.StreamT) -> None:
    async for batch in stream.take_events(256, within=det.batch_within_s):
        _progress(batch)
        for partition, evs in _by_partition(batch).items():
            result = fuse_stage.process(partition, [e.message.value for e in evs])
            for incident in result.incidents:
                await incidents_topic.send(key=incident.cell.encode(), value=incident.model_dump_json().encode())
            for alert in result.alerts:
                body = alert.model_dump_json().encode()
                await alerts_topic.send(key=alert.id.encode(), value=body)
                await app.topic(department_topic(alert.department)).send(key=alert.id.encode(), value=body)
            metrics.observe_fusion(len(result.incidents), len(result.alerts), result.suppressed)


@app.agent(feedback_topic)
async def feedback(stream: faust.StreamT) -> None:
    async for ev in stream.events():
        _progress([ev])
        try:
            detect_stage.feedback(ev.message.partition, orjson.loads(ev.message.value))
        except (ValueError, KeyError, TypeError) as exc:
            await _dead_letter(ev.message.value or b"", f"bad feedback record: {exc}", ev)


@app.timer(interval=5.0)
async def offline_check() -> None:
    anomalies = detect_stage.check_offline(datetime.now(UTC))
    if anomalies:
        from streams.pipeline import DetectOutput

        for key, packed in DetectOutput(anomalies=anomalies).by_district().items():
            await anomalies_topic.send(key=key, value=packed)


@app.timer(interval=det.snapshot_interval_s)
async def snapshot() -> None:
    detect_stage.save()
    fuse_stage.save()


@app.timer(interval=det.stall_check_interval_s)
async def stall_watchdog() -> None:
    await patrol(app, watch, time.monotonic())


@app.on_partitions_revoked.connect
async def on_revoked(sender: faust.App, revoked: set[TP], **kwargs: Any) -> None:
    watch.revoked(revoked)
    detect_stage.drop([tp.partition for tp in revoked if tp.topic == EVENTS_TOPIC])
    fuse_stage.drop([tp.partition for tp in revoked if tp.topic == ANOMALIES_TOPIC])


@app.on_partitions_assigned.connect
async def on_assigned(sender: faust.App, assigned: set[TP], **kwargs: Any) -> None:
    watch.assigned(assigned, time.monotonic())
    for tp in assigned:  # restore from snapshots now rather than on the first event
        if tp.topic == EVENTS_TOPIC:
            detect_stage.for_partition(tp.partition)
        elif tp.topic == ANOMALIES_TOPIC:
            fuse_stage.for_partition(tp.partition)
    log.info("assigned %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned))




@app.on_before_shutdown.connect
async def on_shutdown(sender: faust.App, **kwargs: Any) -> None:
    detect_stage.save()
    fuse_stage.save()
