"""`citybrain up`: the whole platform on one machine, nothing to install.

Starts (unless pointed at existing servers) the Tansu broker, creates the topics, then the API process
(which owns the chdb directory, runs migrations and the sink), the faust worker(s) and the simulator;
prints the URLs; on SIGINT/SIGTERM stops everything within 10 s. Children that crash are restarted.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import httpx

from deploy.broker import EmbeddedBroker, free_port, wait_for_port
from deploy.supervisor import Child, Supervisor, child_env
from deploy.topics import ensure_topics

log = logging.getLogger("citybrain.runner")
#: Simulated history sent before the live feed, so detectors have baselines when the first anomaly comes.
WARMUP_S = 600


def _wait_ready(url: str, child: Child, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not child.alive:
            raise SystemExit(f"{child.name} exited during start-up:\n{child.tail()}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{child.name} not ready at {url} after {timeout_s}s:\n{child.tail()}")


def _start_mosquitto(sup: Supervisor, data_dir: Path) -> str | None:
    """Debian's mosquitto on a loopback port, for the simulator's MQTT sensors (optional: HTTP without it)."""
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if binary is None:
        return None
    mqtt_port = free_port()
    conf = data_dir / "mosquitto.conf"
    conf.write_text(f"listener {mqtt_port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    sup.add(Child("mqtt", [binary, "-c", str(conf)], child_env(), data_dir / "logs" / "mqtt.log"))
    if not wait_for_port("127.0.0.1", mqtt_port, 10):
        raise SystemExit("mosquitto did not start; see " + str(data_dir / "logs" / "mqtt.log"))
    return f"127.0.0.1:{mqtt_port}"


def run_up(host: str, port: int, data_dir: Path, simulator: bool, workers: int = 1,
           rate: float = 200.0, city: str = "small", seed: int = 7) -> int:
    data_dir = data_dir.resolve()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    sup = Supervisor()
    stop = False

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    py = sys.executable
    try:
        bootstrap = os.environ.get("CITYBRAIN_KAFKA_BOOTSTRAP")
        if not bootstrap:
            broker = EmbeddedBroker(host="127.0.0.1")
            sup.add(Child("broker", broker.argv(), child_env(), logs / "broker.log", stop_signal=signal.SIGINT))
            if not wait_for_port(broker.host, broker.port, 15):
                raise SystemExit("embedded broker did not start; see " + str(logs / "broker.log"))
            bootstrap = broker.bootstrap
        partitions = int(os.environ.get("CITYBRAIN_KAFKA_PARTITIONS", "8"))
        ensure_topics(bootstrap, partitions)
        token = os.environ.get("CITYBRAIN_ADMIN_TOKEN") or secrets.token_urlsafe(24)
        env = child_env(CITYBRAIN_KAFKA_BOOTSTRAP=bootstrap, CITYBRAIN_KAFKA_PARTITIONS=str(partitions),
                        CITYBRAIN_DATA_DIR=str(data_dir), CITYBRAIN_ADMIN_TOKEN=token,
                        CITYBRAIN_STATE_DIR=str(data_dir / "state"))
        base = f"http://{host}:{port}"
        mqtt = _start_mosquitto(sup, data_dir) if simulator else None
        if mqtt:  # the API process bridges MQTT, so its stats account for that adapter too
            env["CITYBRAIN_API_MQTT_BRIDGE"] = mqtt
        api = sup.add(Child("api", [py, "-m", "brain_api", "--host", host, "--port", str(port)], env,
                            logs / "api.log"))
        for i in range(workers):
            sup.add(Child(f"worker-{i}", [py, "-m", "streams.worker"], env, logs / f"worker-{i}.log"))
        _wait_ready(f"{base}/healthz", api, 90)
        if simulator:
            sim = [py, "-m", "deploy.cli", "simulate", "--target", base, "--city", city, "--rate", str(rate)]
            sim += ["--mqtt", mqtt] if mqtt else []
            sim_env = child_env(**env, CITYBRAIN_TOKEN=token)
            warm_from = (datetime.now(UTC) - timedelta(seconds=WARMUP_S)).isoformat()
            print(f"warming up the detectors with {WARMUP_S // 60} minutes of simulated history...", flush=True)
            with open(logs / "simulator-warmup.log", "ab") as out:
                subprocess.run([*sim, "--seed", str(seed + 1), "--start", warm_from, "--duration", str(WARMUP_S),
                                "--truth", str(data_dir / "truth-warmup.json")],
                               env=sim_env, stdout=out, stderr=subprocess.STDOUT, timeout=300, check=False)
            sup.add(Child("simulator", [*sim, "--seed", str(seed), "--duration", "0", "--no-register",
                                        "--truth", str(data_dir / "truth.json")], sim_env, logs / "simulator.log"))
        if simulator and not mqtt:
            print("mosquitto not found: the simulator's water/manhole sensors report over HTTP instead of MQTT")
        print(f"\nCity Brain is up.\n  map        {base}/\n  API docs   {base}/docs\n"
              f"  alerts     {base}/api/v1/alerts\n  kafka      {bootstrap}\n  data dir   {data_dir}\n"
              f"  logs       {logs}\n  admin token {token}\n  open the map with {base}/#token={token}\n"
              "Ctrl-C stops everything.", flush=True)
        while not stop:
            sup.poll()
            time.sleep(0.5)
        return 0
    finally:
        print("stopping...", flush=True)
        sup.stop()
