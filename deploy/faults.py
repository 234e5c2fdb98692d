"""Find the processes of a running `citybrain up`, kill them like a crash would, and watch their memory.

The runner's children are told apart by their command lines; the runner's supervisor restarts whichever
dies, so a fault is `kill` followed by `wait_restarted`. RSS is read from `/proc/<pid>/status`.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

# role -> a word only that child's command line contains
ROLES = {"broker": "tansu", "api": "brain_api", "worker": "streams.worker", "simulator": " simulate "}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def children(parent: int) -> dict[str, list[int]]:
    """Live children of `parent` by role, e.g. `{"broker": [12], "api": [13], "worker": [14, 15]}`."""
    found: dict[str, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) != parent or fields[0] == "Z":
            continue
        line = f" {_cmdline(int(entry.name))} "
        for role, word in ROLES.items():
            if word in line:
                found.setdefault(role, []).append(int(entry.name))
    return {role: sorted(pids) for role, pids in found.items()}


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MiB, None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def kill(parent: int, role: str, sig: int = signal.SIGKILL) -> int:
    """Send `sig` to the first child playing `role`; returns its pid."""
    pids = children(parent).get(role)
    if not pids:
        raise LookupError(f"no running {role} under pid {parent}")
    os.kill(pids[0], sig)
    return pids[0]


def wait_restarted(parent: int, role: str, old_pid: int, timeout_s: float = 60.0) -> int:
    """Block until the supervisor started a new `role` child; returns its pid."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pids = [p for p in children(parent).get(role, []) if p != old_pid]
        if pids:
            return pids[0]
        time.sleep(0.2)
    raise TimeoutError(f"{role} was not restarted within {timeout_s}s")


@dataclass
class MemoryLog:
    """RSS samples per role over time; `growth` compares the start and the end of a window."""

    samples: list[tuple[float, str, int, float]] = field(default_factory=list)  # (t, role, pid, MiB)
    started: float = field(default_factory=time.monotonic)

    def sample(self, parent: int) -> None:
        now = time.monotonic() - self.started
        for role, pids in children(parent).items():
            for i, pid in enumerate(pids):
                mb = rss_mb(pid)
                if mb is not None:
                    self.samples.append((now, f"{role}-{i}" if len(pids) > 1 else role, pid, mb))

    def growth(self, after_s: float) -> dict[str, float]:
        """MiB grown per process from the first fifth to the last fifth of the samples taken after `after_s`.

        Only a process that lived through the whole window counts (a restarted one starts small again).

        >>> log = MemoryLog([(t, "api", 1, 100.0 + t / 10) for t in range(0, 100)])
        >>> round(log.growth(50)["api"], 1)
        4.0
        """
        out: dict[str, float] = {}
        for role in sorted({s[1] for s in self.samples}):
            window = [s for s in self.samples if s[1] == role and s[0] >= after_s]
            if len(window) < 5 or len({s[2] for s in window}) > 1:
                continue
            fifth = max(1, len(window) // 5)
            first = sum(s[3] for s in window[:fifth]) / fifth
            last = sum(s[3] for s in window[-fifth:]) / fifth
            out[role] = last - first
        return out

    def table(self, every_s: float = 30.0) -> str:
        """RSS per role (MiB) roughly every `every_s` seconds, for the chaos report."""
        roles = sorted({s[1] for s in self.samples})
        lines = ["t(s)  " + "  ".join(f"{r:>10}" for r in roles)]
        next_t = 0.0
        for t in sorted({s[0] for s in self.samples}):
            if t < next_t:
                continue
            next_t = t + every_s
            at = {s[1]: s[3] for s in self.samples if s[0] == t}
            lines.append(f"{t:5.0f} " + "  ".join(f"{at.get(r, float('nan')):10.1f}" for r in roles))
        return "\n".join(lines)
