"""Live alert and cell-state changes: Server-Sent Events at `/api/v1/live`, WebSocket at `/api/v1/live/ws`.

Each message carries an increasing id; a client resumes with `Last-Event-ID` (EventSource sends it on
reconnect) or `?last_event_id=` and gets what the ring buffer still holds after it. Browsers cannot put
an `Authorization` header on EventSource/WebSocket, so these two routes also take `?access_token=`;
prefer the header where the client can set it (query strings end up in access logs).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, WebSocket, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from brain_api.deps import ALL_ROLES, RoleGate, bearer_scheme, get_authenticator
from brain_api.live.hub import LiveHub, LiveMessage, SlowSubscriber
from brain_api.security.auth import Authenticator
from brain_api.security.roles import Principal

router = APIRouter(prefix="/api/v1/live", tags=["live"])
KEEPALIVE_S = 15.0


class LiveGate(RoleGate):
    """Bearer header or `access_token` query parameter; any role (messages are filtered by scope)."""

    def __call__(  # type: ignore[override]
        self,
        auth: Annotated[Authenticator, Depends(get_authenticator)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
        access_token: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Principal:
        secret = credentials.credentials if credentials else access_token
        principal = auth.authenticate(secret) if secret else None
        if principal is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid token",
                                headers={"WWW-Authenticate": "Bearer"})
        if principal.role not in self.roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role.value!r} may not do this")
        return principal


LiveUser = Annotated[Principal, Depends(LiveGate(ALL_ROLES))]


def _resume_from(header: str | None, query: int | None) -> int | None:
    if query is not None:
        return query
    try:
        return int(header) if header else None
    except ValueError:
        return None


def sse_frame(msg: LiveMessage) -> bytes:
    """One SSE frame.

    >>> sse_frame(LiveMessage(7, "alert", {"id": "al-1"}))
    b'id: 7\\nevent: alert\\ndata: {"id":"al-1"}\\n\\n'
    """
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (msg.id, msg.event.encode(), orjson.dumps(msg.data, default=str))


async def _sse(hub: LiveHub, user: Principal, last_id: int | None, request: Request) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    stream = hub.subscribe(user, last_id).__aiter__()
    pending: asyncio.Task[LiveMessage] | None = None
    try:
        while not await request.is_disconnected():
            pending = pending or asyncio.ensure_future(stream.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_S)
            if not done:
                yield b": keep-alive\n\n"
                continue
            pending = None
            try:
                yield sse_frame(done.pop().result())
            except (StopAsyncIteration, SlowSubscriber):
                return
    finally:
        if pending is not None:
            pending.cancel()
        await stream.aclose()


@router.get("", response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def live_events(
    request: Request,
    user: LiveUser,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", max_length=32)] = None,
    last_event_id: Annotated[int | None, Query(ge=0)] = None,
) -> StreamingResponse:
    """Server-Sent Events: `event: alert` / `event: cell`, JSON `data`, `id` for resume."""
    hub: LiveHub = request.app.state.live
    resume = _resume_from(last_event_id_header, last_event_id)
    return StreamingResponse(_sse(hub, user, resume, request), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.websocket("/ws")
async def live_socket(
    websocket: WebSocket,
    access_token: Annotated[str | None, Query(max_length=200)] = None,
    last_event_id: Annotated[int | None, Query(ge=0)] = None,
) -> None:
    """The same messages as JSON `{"id", "event", "data"}` frames over a WebSocket."""
    header = websocket.headers.get("authorization", "")
    secret = header[7:] if header.lower().startswith("bearer ") else access_token
    auth: Authenticator | None = getattr(websocket.app.state, "authenticator", None)
    user = await run_in_threadpool(auth.authenticate, secret) if auth and secret else None
    if user is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="missing or invalid token")
        return
    await websocket.accept()
    hub: LiveHub = websocket.app.state.live
    try:
        async for msg in hub.subscribe(user, last_event_id):
            frame = {"id": msg.id, "event": msg.event, "data": msg.data}
            await websocket.send_text(orjson.dumps(frame, default=str).decode())
    except SlowSubscriber:
        await websocket.close(code=status.WS_1013_TRY_AGAIN_LATER, reason="fell behind; resume with last id")
