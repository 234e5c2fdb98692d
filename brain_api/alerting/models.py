"""Public response models of the alert routes (template style: own names, explicit, the OpenAPI contract)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from streams.records import AlertState, Severity


class EvidencePublic(BaseModel):
    anomaly_id: str | None = None
    device_id: str
    metric: str
    observed: float
    expected: float = Field(description="The detector's baseline for this point.")
    score: float
    detector: str
    time: datetime
    event_id: str


class TransitionPublic(BaseModel):
    from_state: AlertState
    to_state: AlertState
    actor: str
    note: str
    at: datetime
    version: int


class AlertPublic(BaseModel):
    id: str
    incident_id: str
    department: str
    category: str
    sub_category: str
    severity: Severity
    confidence: float
    state: AlertState
    state_version: int = Field(description="Number of transitions so far; the next one gets this + 1.")
    title: str
    description: str
    cell: str
    lat: float | None
    lon: float | None
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Version of the alert record (rises when streams escalate severity).")
    evidence: list[EvidencePublic]


class AlertDetail(AlertPublic):
    history: list[TransitionPublic]
    related_event_ids: list[str]


class AlertsPublic(BaseModel):
    data: list[AlertPublic]
    count: int
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


class TransitionRequest(BaseModel):
    note: str = Field(default="", max_length=2000)
