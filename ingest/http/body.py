"""Read a request body within the limits, inflate gzip, and split it into items — or answer 413.

Size is checked twice: `Content-Length` before reading (cheap refusal) and the bytes actually
streamed (a sender may lie or use chunked encoding); gzip is inflated with the same ceiling.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from ingest import metrics
from ingest.decode import DecodedBody, decode_body
from ingest.errors import BatchTooLarge
from ingest.settings import IngestSettings


def too_large(adapter: str, detail: str) -> HTTPException:
    metrics.record_refused(adapter, "too_large")
    return HTTPException(413, detail=detail)


async def read_body(request: Request, settings: IngestSettings, adapter: str) -> bytes:
    """The raw body, at most `max_body_bytes` of it."""
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(adapter, f"body of {declared} bytes exceeds {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(adapter, f"body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def is_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("content-encoding", "").lower()


async def read_items(request: Request, settings: IngestSettings, adapter: str) -> DecodedBody:
    """Items of a JSON array / object / NDJSON body; 413 past `max_batch_events` or the byte limit."""
    body = await read_body(request, settings, adapter)
    try:
        return decode_body(
            body,
            max_items=settings.max_batch_events,
            gzipped=is_gzip(request),
            max_bytes=settings.max_body_bytes,
        )
    except BatchTooLarge as exc:
        raise too_large(adapter, str(exc)) from None
