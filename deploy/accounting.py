"""The accounting invariant every fault scenario must pass: nothing lost, nothing doubled, no alarm missed.

A `Ledger` remembers what a client sent and what ingest answered; `verify` compares it with what
ClickHouse holds: every accepted event is stored or dead-lettered exactly once (by id), every rejected one
is dead-lettered exactly once, nothing of the run appears that ingest never took, and every spike that
must raise an alert is named (by event id) in an alert's evidence. `read_storage` reads a chdb directory
from a fresh process, because chdb allows one data directory per process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STORED_SQL = "SELECT id, count() AS n FROM events WHERE source = {source:String} GROUP BY id"
# Dead letters of ingest (rejected at the door) and of the sink (unstorable); `detect` dead letters are
# about detection, and their events are stored anyway.
DEAD_SQL = (
    "SELECT JSONExtractString(payload, 'id') AS id, count() AS n FROM deadletters"
    " WHERE stage IN ('ingest', 'sink') AND position(payload, {source:String}) > 0 GROUP BY id"
)
#: A spike is alerted when an alert names it, or when it joined an incident an operator was already alerted
#: to: fusion re-alerts an open incident only on escalation or a new episode (streams/fusion.py), so a spike
#: minutes after an alerted one in the same cell arrives as new evidence on that incident, not as a new alert.
ALERTED_SQL = (
    "SELECT DISTINCT spike AS id FROM ("
    " SELECT JSONExtractString(e, 'event_id') AS spike FROM alerts ARRAY JOIN JSONExtractArrayRaw(evidence) AS e"
    " UNION ALL"
    " SELECT arrayJoin(related_event_ids) AS spike FROM incidents WHERE id IN (SELECT incident_id FROM alerts)"
    ") WHERE has({ids:Array(String)}, spike)"
)


@dataclass
class Ledger:
    """What one client sent under its own `source`, as ingest answered it."""

    source: str
    accepted: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    uncertain: set[str] = field(default_factory=set)  # sent, but no answer came (may or may not be stored)
    spikes: set[str] = field(default_factory=set)  # must each be named by an alert or join an alerted incident

    def record(self, sent: Iterable[str], answer: Mapping[str, Any] | None) -> None:
        """Book one request: `answer` is the 202 body of `POST /api/v1/events`, None when none came.

        >>> led = Ledger("t")
        >>> led.record(["a", "b", "c"], {"results": [{"index": 1, "status": "rejected", "id": "b"}]})
        >>> sorted(led.accepted), sorted(led.rejected)
        (['a', 'c'], ['b'])
        >>> led.record(["d"], None); sorted(led.uncertain)
        ['d']
        """
        ids = list(sent)
        if answer is None:
            self.uncertain.update(i for i in ids if i not in self.accepted)
            return
        refused = {r["id"] for r in answer.get("results", []) if r.get("status") == "rejected"}
        # "duplicate" means an earlier try was accepted: still accepted, once.
        taken = {i for i in ids if i not in refused}
        self.accepted |= taken
        self.rejected |= refused
        self.uncertain -= taken | refused


@dataclass
class Verdict:
    accepted: int
    stored: int
    dead_lettered: int
    missing: list[str]
    doubled: dict[str, int]
    phantoms: list[str]
    unalerted: list[str]
    spikes: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.doubled or self.phantoms or self.unalerted)

    def summary(self) -> str:
        alerted = f"; spikes alerted {self.spikes - len(self.unalerted)}/{self.spikes}"
        head = (f"accepted {self.accepted} = stored {self.stored} + dead-lettered {self.dead_lettered}{alerted}"
                if self.ok else f"INVARIANT BROKEN: accepted {self.accepted}, stored {self.stored}, "
                f"dead-lettered {self.dead_lettered}")
        parts = [head]
        for name in ("missing", "doubled", "phantoms", "unalerted"):
            value = getattr(self, name)
            if value:
                shown = sorted(value)[:10]
                parts.append(f"{name} ({len(value)}): {shown}")
        return "; ".join(parts)


def verify(ledger: Ledger, stored: Mapping[str, int], dead: Mapping[str, int], alerted: set[str]) -> Verdict:
    """Compare a ledger with storage (`id -> rows` in events and in dead letters) and alerted event ids.

    >>> led = Ledger("t", accepted={"a", "b"}, rejected={"x"}, spikes={"b"})
    >>> verify(led, {"a": 1, "b": 1}, {"x": 1}, {"b"}).ok
    True
    >>> v = verify(led, {"a": 2, "z": 1}, {}, set())
    >>> v.missing, v.doubled, v.phantoms, v.unalerted
    (['b', 'x'], {'a': 2}, ['z'], ['b'])
    """
    seen = {i: stored.get(i, 0) + dead.get(i, 0) for i in set(stored) | set(dead)}
    expected = ledger.accepted | ledger.rejected
    missing = sorted(i for i in expected if seen.get(i, 0) == 0 or (i in ledger.rejected and i not in dead))
    # an unanswered request may have landed: that is fine once, never twice
    doubled = {i: n for i, n in seen.items() if n > 1}
    phantoms = sorted(i for i in seen if i not in expected and i not in ledger.uncertain)
    return Verdict(
        accepted=len(ledger.accepted), stored=sum(1 for i in ledger.accepted if stored.get(i)),
        dead_lettered=sum(1 for i in expected if dead.get(i)), missing=missing, doubled=doubled,
        phantoms=phantoms, unalerted=sorted(ledger.spikes - alerted), spikes=len(ledger.spikes),
    )


def read_storage(chdb_dir: Path, source: str, spikes: Iterable[str]) -> tuple[dict[str, int], dict[str, int], set[str]]:
    """(stored, dead-lettered, alerted) for one run, read by a fresh process (the platform must be stopped)."""
    done = subprocess.run([sys.executable, "-m", "deploy.accounting", str(chdb_dir), source, *spikes],
                          capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"reading {chdb_dir} failed: {done.stderr[-2000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return out["stored"], out["dead"], set(out["alerted"])


def check(chdb_dir: Path, ledger: Ledger) -> Verdict:
    return verify(ledger, *read_storage(chdb_dir, ledger.source, ledger.spikes))


def _main(argv: list[str]) -> None:
    from streams.storage.base import open_store

    path, source, spikes = argv[0], argv[1], argv[2:]
    store = open_store(url="", path=path)
    try:
        rows = {
            "stored": {r["id"]: int(r["n"]) for r in store.query(STORED_SQL, {"source": source})},
            "dead": {r["id"]: int(r["n"]) for r in store.query(DEAD_SQL, {"source": source})},
            "alerted": [r["id"] for r in store.query(ALERTED_SQL, {"ids": spikes})] if spikes else [],
        }
    finally:
        store.close()
    print(json.dumps(rows))


if __name__ == "__main__":
    _main(sys.argv[1:])
