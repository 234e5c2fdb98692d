"""Incident fusion: anomalies of related devices in the same or neighbouring cells within a time window
become one incident with severity, confidence and the evidence list.

Hysteresis and de-duplication are structural: at most one open incident per (cell, category); a new
anomaly nearby joins it; an alert goes out when the incident first becomes credible and again only when
its severity rises or a new episode starts (a strong signal after `episode_gap_s` without one: the weak
tail of the last episode kept the incident open); storms are rate-limited per department.
Pure logic: the faust agent feeds it.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ingest.geo import neighbours
from streams.records import Alert, Anomaly, Evidence, Incident, Severity
from streams.routing import Router
from streams.signals import signal_of, sub_category

MAX_EVIDENCE = 50
JOINS_TRAFFIC = frozenset({"crowd_surge", "report"})
ACCIDENT_CUES = frozenset({"speed_drop", "occupancy_rise"})
_SEVERITY_BY_SIGNALS = (Severity.low, Severity.medium, Severity.high, Severity.critical)
_BASE_SEVERITY = {"carAccident": Severity.high, "fire": Severity.high, "flood": Severity.medium}


@dataclass
class FusionConfig:
    window_s: float = 300.0  # an incident closes after this long without new evidence
    rings: int = 1  # neighbouring H3 rings that join the same incident
    alert_min_confidence: float = 0.8
    dept_alerts_per_minute: int = 30
    episode_gap_s: float = 180.0  # a strong signal after this long without one is a new episode: re-alert
    strong_weight: float = 0.5  # signals at least this telling count as strong


@dataclass
class _Open:
    incident: Incident
    kinds: dict[str, float] = field(default_factory=dict)  # signal kind -> best score x weight
    devices: set[str] = field(default_factory=set)
    alerted: Severity | None = None
    alert_version: int = 0
    last_strong: datetime | None = None  # time of the latest strong signal (weak ones only keep it open)


@dataclass
class FusionResult:
    incidents: list[Incident] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    suppressed: int = 0


class Fusion:
    """Holds the open incidents of one anomalies partition."""

    def __init__(self, config: FusionConfig | None = None, router: Router | None = None) -> None:
        self.config = config or FusionConfig()
        self.router = router or Router()
        self.open: dict[tuple[str, str], _Open] = {}
        self._sent: dict[str, deque[datetime]] = {}

    def add(self, anomalies: list[Anomaly], now: datetime) -> FusionResult:
        out = FusionResult()
        changed: dict[str, _Open] = {}
        self.expire(now)
        for a in sorted(anomalies, key=lambda a: a.time):
            sig = signal_of(a)
            cell = a.cell or f"device:{a.device_id}"
            # device faults are per device; city incidents gather their neighbourhood
            if sig.kind == "sensor_fault":
                slot = self.open.get((cell, "fault"))
            else:  # a crowd or a report next to a probable accident is part of it (an accident draws both)
                joined = self._find(cell, "traffic") if sig.kind in JOINS_TRAFFIC else None
                if joined is not None and not ACCIDENT_CUES & joined.kinds.keys():
                    joined = None
                slot = joined or self._find(cell, sig.family)
            if slot is None:
                slot = self._create(a, cell, sig.family, sig.kind)
            if sig.weight >= self.config.strong_weight:
                # the recovery of an episode (weak signals) can keep an incident open until the next episode
                # arrives; that one is news for the operator even if it does not escalate the severity
                gap = (a.time - slot.last_strong).total_seconds() if slot.last_strong else 0.0
                if gap > self.config.episode_gap_s:
                    slot.alerted = None
                slot.last_strong = a.time
            slot.kinds[sig.kind] = max(slot.kinds.get(sig.kind, 0.0), a.score * sig.weight)
            slot.devices.add(a.device_id)
            slot.incident = self._evolve(slot, a, now)
            changed[slot.incident.id] = slot
        for slot in changed.values():
            out.incidents.append(slot.incident)
            alert = self._maybe_alert(slot, now)
            if alert is None:
                continue
            if self._allow(alert.department, now):
                out.alerts.append(alert)
            else:
                out.suppressed += 1
        return out

    def expire(self, now: datetime) -> list[Incident]:
        """Forget incidents quiet for longer than the window (they close; a later anomaly opens anew)."""
        horizon = now - timedelta(seconds=self.config.window_s)
        gone = [k for k, s in self.open.items() if s.incident.updated_at < horizon]
        return [self.open.pop(k).incident for k in gone]

    def _find(self, cell: str, family: str) -> _Open | None:
        if cell.startswith("device:"):
            return self.open.get((cell, family))
        # own cell first, then the others in a fixed order: `neighbours` is a set, whose order changes with
        # the interpreter's hash seed, and so did which incident an anomaly joined (and the bench figures)
        for c in (cell, *sorted(neighbours(cell, self.config.rings) - {cell})):
            slot = self.open.get((c, family))
            if slot is not None:
                return slot
        return None

    def _create(self, a: Anomaly, cell: str, family: str, kind: str) -> _Open:
        key_family = "fault" if kind == "sensor_fault" else family
        digest = hashlib.blake2b(f"{cell}|{key_family}|{a.time.isoformat()}|{a.id}".encode(), digest_size=8)
        incident = Incident(id=f"inc-{digest.hexdigest()}", cell=cell, category=family,
                            sub_category=sub_category(family, frozenset({kind})), severity=Severity.low,
                            confidence=0.0, opened_at=a.time, updated_at=a.time, lat=a.lat, lon=a.lon)
        slot = _Open(incident)
        self.open[(cell, key_family)] = slot
        return slot

    def _evolve(self, slot: _Open, a: Anomaly, now: datetime) -> Incident:
        inc = slot.incident
        kinds = frozenset(slot.kinds)
        miss = 1.0
        for v in slot.kinds.values():
            miss *= 1.0 - v
        sub = sub_category(inc.category, kinds)
        by_count = _SEVERITY_BY_SIGNALS[min(len(kinds), len(_SEVERITY_BY_SIGNALS)) - 1]
        severity = max(by_count, _BASE_SEVERITY.get(sub, Severity.low), inc.severity, key=lambda s: s.rank)
        ev = Evidence(anomaly_id=a.id, device_id=a.device_id, metric=a.metric, observed=a.observed,
                      expected=a.expected, score=a.score, detector=a.detector, time=a.time, event_id=a.event_id)
        return inc.model_copy(update={
            "sub_category": sub, "severity": severity, "confidence": round(1.0 - miss, 4),
            "updated_at": max(inc.updated_at, a.time, now),
            "evidence": (*inc.evidence, ev)[-MAX_EVIDENCE:],
            "related_event_ids": (*inc.related_event_ids, a.event_id)[-MAX_EVIDENCE:],
            "version": inc.version + 1,
        })

    def _maybe_alert(self, slot: _Open, now: datetime) -> Alert | None:
        inc = slot.incident
        if inc.confidence < self.config.alert_min_confidence:
            return None
        if slot.alerted is not None and inc.severity.rank <= slot.alerted.rank:
            return None  # hysteresis: re-alert only on escalation
        slot.alerted = inc.severity
        slot.alert_version += 1
        signals = ", ".join(sorted(slot.kinds))
        return Alert(
            id=f"al-{inc.id.removeprefix('inc-')}", incident_id=inc.id,
            department=self.router.department(inc.category, inc.sub_category, inc.cell),
            category=inc.category, sub_category=inc.sub_category, severity=inc.severity,
            confidence=inc.confidence, title=f"{inc.sub_category} ({inc.severity.value})",
            description=f"{len(slot.devices)} device(s) agree: {signals}; confidence {inc.confidence:.2f}",
            cell=inc.cell, lat=inc.lat, lon=inc.lon, evidence=inc.evidence, created_at=now,
            version=slot.alert_version,
        )

    def _allow(self, department: str, now: datetime) -> bool:
        sent = self._sent.setdefault(department, deque())
        while sent and (now - sent[0]).total_seconds() > 60.0:
            sent.popleft()
        if len(sent) >= self.config.dept_alerts_per_minute:
            return False
        sent.append(now)
        return True
