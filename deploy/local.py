"""Drive a `citybrain up` in a subprocess, as a user would: for tests, benchmarks and chaos runs.

Started with its own data dir and free port; ready when `/readyz` answers; stopped with SIGINT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import IO

import httpx

from deploy.broker import free_port


class LocalPlatform:
    def __init__(self, data_dir: Path, *, workers: int = 1, simulator: bool = False,
                 env: dict[str, str] | None = None, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.token = "local-admin-" + uuid.uuid4().hex
        self.workers = workers
        self.simulator = simulator
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def bootstrap(self) -> str:
        """The Kafka address the runner printed."""
        for line in (self.data_dir / "up.log").read_text(errors="replace").splitlines():
            if line.strip().startswith("kafka "):
                return line.split()[-1]
        raise RuntimeError("runner has not printed the Kafka address yet")

    def logs(self, lines: int = 30) -> str:
        out = []
        for path in sorted((self.data_dir / "logs").glob("*.log")) + [self.data_dir / "up.log"]:
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(out)

    def start(self, timeout_s: float = 120.0) -> LocalPlatform:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "CITYBRAIN_ADMIN_TOKEN": self.token, "CITYBRAIN_ENV": "dev",
               "CITYBRAIN_KAFKA_PARTITIONS": "4", **self.extra_env}
        for name in ("CITYBRAIN_KAFKA_BOOTSTRAP", "CITYBRAIN_CLICKHOUSE_URL"):
            if name not in self.extra_env:
                env.pop(name, None)
        argv = [sys.executable, "-m", "deploy.cli", "up", "--port", str(self.port), "--data-dir", str(self.data_dir),
                "--workers", str(self.workers)]
        if not self.simulator:
            argv.append("--no-simulator")
        self._log = open(self.data_dir / "up.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"citybrain up exited with {self.proc.returncode}\n{self.logs()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"platform not ready in {timeout_s}s\n{self.logs()}")

    def stop(self, timeout_s: float = 15.0) -> float:
        """SIGINT, as Ctrl-C would; returns how long the stop took."""
        started = time.monotonic()
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
                try:
                    self.proc.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
                    raise
        finally:
            if self._log is not None:
                self._log.close()
        return time.monotonic() - started

    def __enter__(self) -> LocalPlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
