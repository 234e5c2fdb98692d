"""The path every adapter shares: validate -> dedup -> publish -> dead-letter -> count.

Adapters only translate their feed into `Candidate`s (a CityEvent-shaped dict, or the reason it could
not be translated, plus a way to get the original bytes). Order matters: accepted events are published
and acknowledged before their keys enter the dedup memory and before anything is counted, so a request
that failed on a broker outage can be re-sent without its events being taken for duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ingest import metrics
from ingest.dedup import RecentKeys
from ingest.errors import InvalidEvent, PartialPublish
from ingest.events import CityEvent
from ingest.publisher import EventPublisher
from ingest.validate import EventValidator


@dataclass(slots=True)
class Candidate:
    """What an adapter offers: a CityEvent-shaped dict or the reason it has none, and its original bytes."""

    raw: bytes | Callable[[], bytes]
    value: dict[str, Any] | None = None
    error: str | None = None
    field: str | None = None

    def raw_bytes(self) -> bytes:
        return self.raw if isinstance(self.raw, bytes) else self.raw()


@dataclass(slots=True)
class ItemResult:
    index: int
    status: Literal["accepted", "rejected", "duplicate"]
    id: str | None = None
    reason: str | None = None
    field: str | None = None
    flags: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status, "id": self.id}
        if self.reason:
            out |= {"reason": self.reason, "field": self.field}
        if self.flags:
            out["flags"] = list(self.flags)
        return out


@dataclass(slots=True)
class Outcome:
    """Counts and per-item results of one batch; `results` lists every item, in order."""

    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    results: list[ItemResult] = field(default_factory=list)
    events: list[CityEvent] = field(default_factory=list)

    def public(self, *, all_items: bool = False) -> dict[str, Any]:
        """Response body: counts, plus the items that were not accepted as-is (or all items)."""
        shown = [r.public() for r in self.results if all_items or r.status != "accepted" or r.flags]
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "results": shown,
        }


class IngestPipeline:
    """Shared by every adapter of one process (one dedup memory, one publisher)."""

    def __init__(self, publisher: EventPublisher, validator: EventValidator, recent: RecentKeys) -> None:
        self.publisher = publisher
        self.validator = validator
        self.recent = recent

    async def ingest(self, adapter: str, candidates: Sequence[Candidate]) -> Outcome:
        """Publish what is valid and new, dead-letter what is not; raises `BrokerUnavailable`."""
        now = datetime.now(UTC)
        out = Outcome()
        batch_keys: set[str] = set()
        rejects: list[tuple[bytes, str, str | None]] = []
        for index, cand in enumerate(candidates):
            item_id = cand.value.get("id") if cand.value else None
            item_id = item_id if isinstance(item_id, str) else None
            try:
                if cand.error is not None or cand.value is None:
                    raise InvalidEvent(cand.error or "no event", field=cand.field)
                event = self.validator.check(cand.value, now)
            except InvalidEvent as exc:
                out.results.append(ItemResult(index, "rejected", item_id, exc.reason, exc.field))
                rejects.append((cand.raw_bytes(), exc.reason, exc.field))
                continue
            if event.key in batch_keys or event.key in self.recent:
                out.results.append(ItemResult(index, "duplicate", event.id))
                continue
            batch_keys.add(event.key)
            out.events.append(event)
            out.results.append(ItemResult(index, "accepted", event.id, flags=event.flags))
        try:
            await self.publisher.publish(out.events)
        except PartialPublish as exc:  # what landed must count as seen, or the client's retry doubles it
            self.recent.add_many(exc.acked_keys)
            raise
        if rejects:
            await self.publisher.dead_letters(rejects, adapter)
        self.recent.add_many(batch_keys)
        out.accepted = len(out.events)
        out.rejected = len(rejects)
        out.duplicates = len(out.results) - out.accepted - out.rejected
        metrics.record(adapter, accepted=out.accepted, rejected=out.rejected, duplicates=out.duplicates)
        return out
