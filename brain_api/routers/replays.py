"""Replays: engineers and admins push a stored time range back onto Kafka, at a chosen speed.

`POST /api/v1/replays` answers 202 with the replay's id at once; the work runs in the background
(`brain_api.replay.ReplayRunner`, the same engine as `citybrain replay --from --to`) and its progress is
at `GET /api/v1/replays/{id}`. Only an admin who says `allow_live: true` may target the live input topic.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from brain_api.deps import AuditDep, require_roles
from brain_api.replay import ReplayRecord, ReplayRunner, recent
from brain_api.security.roles import Principal, Role
from streams.replay import REPLAY_TOPIC, ReplaySpec, ReplayTargetRefused, check_target

router = APIRouter(prefix="/api/v1/replays", tags=["replays"])
Engineer = Annotated[Principal, require_roles(Role.engineer, Role.admin)]
ReplayId = Annotated[str, Path(pattern=r"^rp-[0-9a-f]{16}$")]
MAX_RANGE_DAYS = 31
# what ClickHouse's DateTime64 stores without clamping
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
Names = Annotated[list[Annotated[str, Field(min_length=1, max_length=128)]], Field(max_length=10_000)]


class ReplayCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: AwareDatetime = Field(alias="from", description="replay events with time >= from")
    to: AwareDatetime = Field(description="... and time < to")
    categories: Names = Field(default_factory=list)
    cells: Names = Field(default_factory=list)
    device_ids: Names = Field(default_factory=list)
    sources: Names = Field(default_factory=list)
    speed: float | None = Field(default=None, ge=0.001, le=100_000, description="10 = ten times real time; null = max")
    topic: str = Field(default=REPLAY_TOPIC, max_length=249, description="citybrain.replay.<name>")
    allow_live: bool = Field(default=False, description="admins only: permit the live input topic")

    @model_validator(mode="after")
    def _range(self) -> ReplayCreate:
        if not (EARLIEST <= self.from_ and self.to <= LATEST):
            raise ValueError(f"from/to must lie between {EARLIEST.date()} and {LATEST.date()}")
        if self.to <= self.from_:
            raise ValueError("'to' must be after 'from'")
        if (self.to - self.from_).days > MAX_RANGE_DAYS:
            raise ValueError(f"a replay covers at most {MAX_RANGE_DAYS} days")
        return self


class ReplayPublic(BaseModel):
    id: str
    state: str = Field(description="queued | running | done | failed | cancelled | interrupted")
    created_by: str
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    categories: list[str]
    cells: list[str]
    device_ids: list[str]
    sources: list[str]
    speed: float | None
    topic: str
    total: int
    sent: int
    percent: float
    error: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, r: ReplayRecord) -> ReplayPublic:
        s = r.spec
        return cls(id=r.id, state=r.state, created_by=r.created_by, from_=s.start, to=s.end,
                   categories=list(s.categories), cells=list(s.cells), device_ids=list(s.device_ids),
                   sources=list(s.sources), speed=s.speed, topic=r.topic, total=r.total, sent=r.sent,
                   percent=r.percent, error=r.error, created_at=r.created_at, updated_at=r.updated_at)


class ReplaysPublic(BaseModel):
    data: list[ReplayPublic]
    count: int


def _runner(request: Request) -> ReplayRunner:
    runner = getattr(request.app.state, "replays", None)
    if runner is None:
        bootstrap = getattr(request.app.state, "kafka_bootstrap", None)
        runner = request.app.state.replays = ReplayRunner(request.app.state.store, bootstrap)
    return runner


@router.post("", response_model=ReplayPublic, response_model_by_alias=True, status_code=status.HTTP_202_ACCEPTED)
async def create_replay(body: ReplayCreate, user: Engineer, audit: AuditDep, request: Request) -> ReplayPublic:
    """Start replaying stored events (time order, paced by `speed`) onto `topic`."""
    if body.allow_live and user.role is not Role.admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin may replay into the live input topic")
    try:
        topic = check_target(body.topic, allow_live=body.allow_live)
    except ReplayTargetRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    spec = ReplaySpec(body.from_, body.to, tuple(body.categories), tuple(body.cells), tuple(body.device_ids),
                      tuple(body.sources), body.speed)
    runner = _runner(request)
    if not runner.bootstrap:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no Kafka broker configured for replays")
    rec = ReplayRecord(f"rp-{uuid.uuid4().hex[:16]}", user.token_id, spec, topic)
    detail = {"topic": topic, "from": body.from_, "to": body.to, "speed": body.speed}
    await asyncio.to_thread(audit.record, user, "replay.create", "replay", rec.id, detail=detail)
    return ReplayPublic.of(await runner.submit(rec))


@router.get("", response_model=ReplaysPublic, response_model_by_alias=True)
async def list_replays(user: Engineer, request: Request) -> ReplaysPublic:
    """The latest 50 replays, newest first."""
    runner = _runner(request)
    stored = await asyncio.to_thread(recent, request.app.state.store)
    rows = [runner.live.get(r.id, r) for r in stored]
    return ReplaysPublic(data=[ReplayPublic.of(r) for r in rows], count=len(rows))


@router.get("/{replay_id}", response_model=ReplayPublic, response_model_by_alias=True)
async def get_replay(replay_id: ReplayId, user: Engineer, request: Request) -> ReplayPublic:
    """State and progress: `sent` of `total` events (`percent`)."""
    rec = await _runner(request).get(replay_id)
    if rec is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no replay {replay_id}")
    return ReplayPublic.of(rec)


@router.post("/{replay_id}/cancel", response_model=ReplayPublic, response_model_by_alias=True,
             status_code=status.HTTP_202_ACCEPTED)
async def cancel_replay(replay_id: ReplayId, user: Engineer, request: Request) -> ReplayPublic:
    """Stop a running replay (it ends as `cancelled` after the current batch)."""
    runner = _runner(request)
    rec = await runner.get(replay_id)
    if rec is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no replay {replay_id}")
    if not await runner.cancel(replay_id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"replay {replay_id} is {rec.state}, not running here")
    return ReplayPublic.of(rec)
