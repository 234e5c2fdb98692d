"""Records derived by `streams`: `Anomaly` (one series misbehaved), `Incident` (fused anomalies in a place),
`Alert` (an incident routed to a department for a human to decide on).

An alert is a decision aid: it carries its evidence (detector, baseline, observed value, score, related
events) and nothing acts on people automatically. Severity and category follow the Smart Data Models
`Alert` vocabulary.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Severity(StrEnum):
    """Smart Data Models Alert severity, lowest first."""

    informational = "informational"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class AlertState(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    dispatched = "dispatched"
    resolved = "resolved"
    false_positive = "false_positive"
    escalated = "escalated"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Anomaly(_Record):
    """One series (device, metric) scored as anomalous by a detector, with the evidence to judge it."""

    id: str
    event_id: str
    source: str
    device_id: str
    metric: str
    category: str
    cell: str | None = None
    lat: float | None = None
    lon: float | None = None
    time: AwareDatetime
    observed: float
    expected: float
    score: float = Field(ge=0.0, le=1.0)
    threshold: float
    detector: str
    detected_at: AwareDatetime


class Evidence(_Record):
    anomaly_id: str
    device_id: str
    metric: str
    observed: float
    expected: float
    score: float
    detector: str
    time: AwareDatetime
    event_id: str


class Incident(_Record):
    """Anomalies of related devices in neighbouring cells within a time window, fused into one."""

    id: str
    cell: str
    category: str
    sub_category: str
    severity: Severity
    confidence: float = Field(ge=0.0, le=1.0)
    opened_at: AwareDatetime
    updated_at: AwareDatetime
    lat: float | None = None
    lon: float | None = None
    evidence: tuple[Evidence, ...] = ()
    related_event_ids: tuple[str, ...] = ()
    version: int = 1


class Alert(_Record):
    """An incident addressed to a department; its lifecycle state changes are a separate append-only log."""

    id: str
    incident_id: str
    department: str
    category: str
    sub_category: str
    severity: Severity
    confidence: float
    title: str
    description: str
    cell: str
    lat: float | None = None
    lon: float | None = None
    evidence: tuple[Evidence, ...] = ()
    created_at: AwareDatetime
    version: int = 1
