"""`citybrain bench detect`: incident precision, recall and detection delay on the simulator's labelled
anomalies, through the worker's own stages (`DetectStage` -> `FuseStage`), offline and deterministic.

The simulated city runs for `warmup_s` without anomalies (detectors learn their baselines), then the
simulator injects one labelled anomaly every `every_s` seconds, rotating accident / pollution spike /
crowd surge / sensor failure. Events are partitioned as Kafka would (murmur2 of the device) and
anomalies keyed by district, exactly as in the worker; simulated time drives every clock.

Matching: every alert *sent* after the warm-up (a new alert or an escalation re-alert — each interrupts
an operator) is a true positive when its incident family fits the labelled kind, its cell lies within
one H3 ring of the labelled cells (or its evidence names a labelled device), and it was sent between the
label's start and its end + `grace_s`. Precision = true sent / sent; recall = labelled anomalies with at
least one true alert / labelled anomalies; delay = first true alert's (simulated) send time - label
start. Alerts during the warm-up are cold-start learning and are not scored.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
import orjson

from ingest.packing import partition_for
from ingest.pseudonym import Pseudonymizer
from ingest.simulator.generator import CitySimulator
from streams.fusion import FusionConfig
from streams.pipeline import DetectOutput, DetectStage, FuseStage
from streams.records import Alert
from streams.settings import get_detection_settings

# an accident draws a crowd at its cameras (the simulator injects one), so a crowd alert there is about it
FAMILY = {"accident": {"traffic", "security"}, "pollution_spike": {"environment"},
          "crowd_surge": {"security", "traffic"}, "sensor_failure": {"infrastructure"}}
START = datetime(2026, 11, 16, 0, 0, tzinfo=UTC).timestamp()  # a Monday, 08:00 in Hangzhou
STEP_S = 10


def _near(cells: list[str]) -> set[str]:
    return {n for c in cells for n in h3.grid_disk(c, 1)}


def _matches(alert: Alert, label: dict[str, Any], grace_s: float) -> bool:
    start, end = datetime.fromisoformat(label["start"]), datetime.fromisoformat(label["end"])
    if not (start <= alert.created_at <= end + timedelta(seconds=grace_s)):
        return False
    if alert.category not in FAMILY[label["kind"]]:
        return False
    devices = set(label["devices"])
    return alert.cell in _near(label["cells"]) or any(e.device_id in devices for e in alert.evidence)


def bench_detect(hours: float = 2.0, warmup_s: float = 3600.0, every_s: float = 180.0, seed: int = 7,
                 city: str = "small", rate: float = 200.0, partitions: int = 4, grace_s: float = 120.0,
                 explain: bool = False) -> dict[str, Any]:
    sim = CitySimulator(seed=seed, city=city, rate=rate, first_after=warmup_s, every=every_s)
    pz = Pseudonymizer({"k1": b"bench-detect-key"}, active_key_id="k1")
    det = get_detection_settings()
    detect = DetectStage(threshold=det.alert_threshold)
    fuse = FuseStage(config=FusionConfig(window_s=det.fusion_window_s, alert_min_confidence=det.fusion_min_confidence,
                                         dept_alerts_per_minute=10_000))
    end = START + warmup_s + hours * 3600
    sent: list[Alert] = []  # every notification: new alerts and escalations (same id, higher version)
    scored_from = datetime.fromtimestamp(START + warmup_s, UTC)
    events = anomalies = 0
    t = START
    while t < end:
        by_part: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for e in sim.events(t, t + STEP_S, pz):
            by_part[partition_for(e.get("device_id") or e.get("cell") or e["source"], partitions)].append(e)
        now = datetime.fromtimestamp(t + STEP_S, UTC)
        out = DetectOutput()
        for p, evs in by_part.items():
            step = detect.process(p, [orjson.dumps(evs)], now=now)
            out.anomalies.extend(step.anomalies)
            events += step.events
        out.anomalies.extend(detect.check_offline(now))
        anomalies += len(out.anomalies)
        for key, packed in out.by_district().items():
            result = fuse.process(partition_for(key.decode(), partitions), [packed], now=now)
            sent.extend(a for a in result.alerts if a.created_at >= scored_from)
        t += STEP_S
    # every label that began explains alerts; recall is owed only for labels with time left to be seen
    begun = sim.truth()
    labels = [lb for lb in begun if datetime.fromisoformat(lb["start"]).timestamp() <= end - grace_s]
    true_alerts: set[int] = {i for i, a in enumerate(sent) if any(_matches(a, lb, grace_s) for lb in begun)}
    delays: list[float] = []
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for label in labels:
        hits = [i for i, a in enumerate(sent) if _matches(a, label, grace_s)]
        per_kind[label["kind"]][1] += 1
        if hits:
            per_kind[label["kind"]][0] += 1
            first = min(sent[i].created_at for i in hits)
            delays.append((first - datetime.fromisoformat(label["start"])).total_seconds())
    found = sum(v[0] for v in per_kind.values())
    if explain:
        for i, a in enumerate(sent):
            if i not in true_alerts:
                print("FALSE", a.created_at, a.category, a.sub_category, a.cell, a.description,
                      sorted({(e.device_id, e.metric, e.detector) for e in a.evidence})[:6])
        for label in labels:
            if not any(_matches(a, label, grace_s) for a in sent):
                print("MISSED", label["kind"], label.get("mode", ""), label["start"], label["cells"][:3],
                      label["devices"][:6])
    return {
        "precision": round(len(true_alerts) / len(sent), 3) if sent else 0.0,
        "recall": round(found / len(labels), 3) if labels else 0.0,
        "median_delay_s": round(statistics.median(delays), 1) if delays else None,
        "labelled": len(labels), "alerts_sent": len(sent), "true_alerts": len(true_alerts),
        "recall_by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_kind.items())},
        "events": events, "anomalies": anomalies, "simulated_hours": hours, "seed": seed, "city": city,
    }
