"""A pipeline on this machine for benchmarks: embedded broker, faust worker(s) and the sink as separate
processes (so CPU per stage can be read from /proc), plus helpers to wait for consumer groups.

Completion is judged from committed consumer-group offsets against what the producer was acked for:
the embedded broker's "latest offset" answers are wrong after batched produces (see deploy/broker.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaAdminClient, TopicPartition

from deploy.broker import EmbeddedBroker
from deploy.supervisor import Child, Supervisor, child_env
from deploy.topics import ensure_topics

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads) in seconds."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Pipeline:
    workdir: Path
    partitions: int = 8
    workers: int = 1
    sink: bool = True
    worker_module: str = "streams.worker"
    broker: EmbeddedBroker = field(default_factory=EmbeddedBroker)
    sup: Supervisor = field(default_factory=Supervisor)

    def __enter__(self) -> Pipeline:
        logs = self.workdir / "logs"
        self.broker.log_path = logs / "broker.log"
        logs.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        ensure_topics(self.broker.bootstrap, self.partitions)
        env = child_env(CITYBRAIN_KAFKA_BOOTSTRAP=self.broker.bootstrap, CITYBRAIN_DATA_DIR=str(self.workdir),
                        CITYBRAIN_STATE_DIR=str(self.workdir / "state"), CITYBRAIN_ENV="dev",
                        CITYBRAIN_KAFKA_PARTITIONS=str(self.partitions))
        for i in range(self.workers):
            self.sup.add(Child(f"worker-{i}", [sys.executable, "-m", self.worker_module], env,
                               logs / f"worker-{i}.log", restart=False))
        if self.sink:
            self.sup.add(Child("sink", [sys.executable, "-m", "streams.storage.sink"], env, logs / "sink.log",
                               restart=False))
        return self

    def __exit__(self, *exc: object) -> None:
        self.sup.stop()
        self.broker.stop()

    def pids(self) -> dict[str, int]:
        out = {c.name: c.proc.pid for c in self.sup.children if c.proc is not None}
        if self.broker.proc is not None:
            out["broker"] = self.broker.proc.pid
        return out

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids().items()}

    def check_alive(self) -> None:
        for c in self.sup.children:
            if not c.alive:
                raise RuntimeError(f"{c.name} died:\n{c.tail(30)}")


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets({group: tps}).get(group, {})
    finally:
        admin.close()
    return {tp.partition: offsets[tp].offset for tp in tps if tp in offsets and offsets[tp].offset >= 0}


def lag(produced: dict[int, int], done: dict[int, int]) -> int:
    """Messages produced (next offset per partition) not yet committed by the group."""
    return sum(max(0, end - done.get(p, 0)) for p, end in produced.items())


def wait_caught_up(pipe: Pipeline, group: str, topic: str, produced: dict[int, int], timeout_s: float,
                   poll_s: float = 0.25) -> float:
    """Block until `group` committed everything in `produced`; returns the monotonic time it happened."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pipe.check_alive()
        if lag(produced, committed(pipe.broker.bootstrap, group, topic, pipe.partitions)) == 0:
            return time.monotonic()
        time.sleep(poll_s)
    raise TimeoutError(f"{group} still lagging on {topic} after {timeout_s}s")


def run_quiet(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
