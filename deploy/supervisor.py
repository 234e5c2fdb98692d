"""Child processes of the runner: started with logs to files, restarted when they die unexpectedly,
stopped together. Children get PR_SET_PDEATHSIG so even a SIGKILLed runner leaves no orphans.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("citybrain.runner")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:  # not Linux: the runner's own shutdown path still stops children
        pass


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    restart: bool = True
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    restarts: int = 0

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         preexec_fn=_die_with_parent)  # noqa: PLW1509
        log.info("started %s (pid %s)", self.name, self.proc.pid)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Supervisor:
    def __init__(self) -> None:
        self.children: list[Child] = []
        self.stopping = False

    def add(self, child: Child) -> Child:
        self.children.append(child)
        child.start()
        return child

    def poll(self) -> None:
        """Restart children that died on their own (a crashed worker resumes from committed offsets)."""
        for child in self.children:
            if not self.stopping and child.proc is not None and not child.alive and child.restart:
                code = child.proc.returncode
                child.restarts += 1
                log.warning("%s exited with %s; restarting (#%d)\n%s", child.name, code, child.restarts, child.tail(8))
                time.sleep(min(5.0, 0.5 * child.restarts))
                child.start()

    def stop(self, timeout_s: float = 8.0) -> None:
        """Signal every child, wait up to `timeout_s` overall, then SIGKILL the rest."""
        self.stopping = True
        for child in reversed(self.children):
            if child.alive and child.proc is not None:
                child.proc.send_signal(child.stop_signal)
        deadline = time.monotonic() + timeout_s
        for child in reversed(self.children):
            if child.proc is None:
                continue
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing", child.name)
                child.proc.kill()
                child.proc.wait(2)


def child_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(overrides)
    return env
