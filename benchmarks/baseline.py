"""`citybrain bench baseline`: the same detection written the textbook way, measured in the same run on
the same broker as the platform's pipeline; the speed-up ratio is the headline figure.

Textbook = one faust agent, one event per Kafka message and per iteration, a river `GaussianScorer` per
device, one INSERT per event (benchmarks/baseline_app.py). Ours = packed messages, batched numpy
detection, batched Arrow inserts (benchmarks/throughput.py).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.baseline_app import BASELINE_TOPIC, GROUP
from benchmarks.harness import Pipeline, cpu_seconds, wait_caught_up
from benchmarks.throughput import measure, produce
from benchmarks.workload import generate
from deploy.supervisor import Child, child_env
from deploy.topics import ensure_topics
from streams.topics import TopicSpec


def bench_baseline(devices: int = 10_000, events: int = 600_000, baseline_events: int = 20_000,
                   partitions: int = 8) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="citybrain-baseline-"))
    ours = generate(devices, events, partitions, seed=11)
    theirs = generate(devices, baseline_events, partitions, seed=12)
    singles = [(p, item) for p, packed in theirs.messages for item in map(orjson.dumps, orjson.loads(packed))]
    with Pipeline(workdir, partitions=partitions) as pipe:
        ensure_topics(pipe.broker.bootstrap, partitions, extra=[TopicSpec(BASELINE_TOPIC, partitions)])
        env = child_env(CITYBRAIN_KAFKA_BOOTSTRAP=pipe.broker.bootstrap, CITYBRAIN_DATA_DIR=str(workdir))
        base = pipe.sup.add(Child("baseline", [sys.executable, "-m", "benchmarks.baseline_app"], env,
                                  workdir / "logs" / "baseline.log", restart=False))
        time.sleep(8)
        assert base.proc is not None
        cpu0 = cpu_seconds(base.proc.pid)
        t0 = time.monotonic()
        ends = produce(pipe.broker.bootstrap, singles, topic=BASELINE_TOPIC)
        done = wait_caught_up(pipe, GROUP, BASELINE_TOPIC, ends, timeout_s=1800)
        baseline_rate = len(singles) / (done - t0)
        baseline_cpu = cpu_seconds(base.proc.pid) - cpu0
        result = measure(pipe, ours.messages, ours.events)
    return {
        "events_per_s": result["events_per_s"], "baseline_events_per_s": round(baseline_rate),
        "speedup": round(result["events_per_s"] / baseline_rate, 1),
        "events": ours.events, "baseline_events": len(singles), "devices": devices,
        "cpu_seconds": result["cpu_seconds"], "baseline_cpu_seconds": round(baseline_cpu, 2),
    }
