"""The textbook faust pipeline the issue compares against: one agent, one event per message and per
iteration, a river detector per device, one INSERT per event. Same broker, same chdb, same readings.

Run as its own process: `python -m benchmarks.baseline_app` (reads CITYBRAIN_KAFKA_BOOTSTRAP and
CITYBRAIN_DATA_DIR). It exists only to be measured by `citybrain bench baseline`.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

import faust
import orjson
from river import anomaly

from streams.storage import open_store

BASELINE_TOPIC = "citybrain.bench.baseline.v1"
GROUP = "citybrain-baseline"

app = faust.App(GROUP, broker=f"kafka://{os.environ.get('CITYBRAIN_KAFKA_BOOTSTRAP', '127.0.0.1:9092')}",
                value_serializer="raw", web_enabled=False, topic_disable_leader=True, topic_allow_declare=False,
                consumer_auto_offset_reset="earliest", broker_session_timeout=6.0, broker_heartbeat_interval=1.5,
                store="memory://", datadir=os.path.join(os.environ.get("CITYBRAIN_DATA_DIR", "."), "baseline"))
topic = app.topic(BASELINE_TOPIC)
detectors: dict[str, anomaly.GaussianScorer] = {}
store = None


@app.task
async def open_storage() -> None:
    global store
    store = open_store(url="", path=os.path.join(os.environ["CITYBRAIN_DATA_DIR"], "chdb-baseline"))
    store.command("CREATE TABLE IF NOT EXISTS baseline_events (id String, device_id String, time DateTime64(3), "
                  "speed Float64, score Float64) ENGINE = MergeTree ORDER BY (device_id, time)")


@app.agent(topic)
async def detect(stream: faust.StreamT) -> None:
    async for value in stream:
        event = orjson.loads(value)
        speed = event["measurements"]["speed_kmh"]
        scorer = detectors.setdefault(event["device_id"], anomaly.GaussianScorer(grace_period=30))
        score = scorer.score_one(None, speed)
        scorer.learn_one(None, speed)
        store.insert("baseline_events", {  # type: ignore[union-attr]
            "id": [event["id"]], "device_id": [event["device_id"]],
            "time": [datetime.fromisoformat(event["time"])], "speed": [speed], "score": [score],
        })


if __name__ == "__main__":
    sys.argv = [sys.argv[0], "worker", "--without-web", "-l", "warn"]
    app.main()
