"""What the ingest routers need, handed over once at startup: `configure(IngestContext.create(publisher))`.

The routers depend on `get_context`; the app that includes them (brain_api, or a test) either calls
`configure(...)` in its lifespan or overrides the dependency
(`app.dependency_overrides[get_context] = lambda: ctx`). Until one of those happens the routers answer
503, because accepting events with nowhere to publish them would lose them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException

from ingest.dedup import RecentKeys
from ingest.pipeline import IngestPipeline
from ingest.pseudonym import Pseudonymizer
from ingest.publisher import EventPublisher
from ingest.registry import DeviceRegistry
from ingest.settings import IngestSettings, get_ingest_settings
from ingest.validate import EventValidator


@dataclass
class IngestContext:
    """One per process: the publisher, the registry and the pipeline (with its dedup memory)."""

    publisher: EventPublisher
    registry: DeviceRegistry
    pipeline: IngestPipeline
    settings: IngestSettings

    @property
    def pseudonymizer(self) -> Pseudonymizer:
        return self.pipeline.validator.pz

    @classmethod
    def create(
        cls,
        publisher: EventPublisher,
        registry: DeviceRegistry | None = None,
        settings: IngestSettings | None = None,
    ) -> IngestContext:
        settings = settings or get_ingest_settings()
        registry = registry if registry is not None else DeviceRegistry()
        validator = EventValidator(registry, publisher.pz)
        pipeline = IngestPipeline(publisher, validator, RecentKeys(settings.dedup_window))
        return cls(publisher, registry, pipeline, settings)


_context: IngestContext | None = None


def configure(context: IngestContext | None) -> None:
    """Set (or, with None, clear) the process-wide context the routers use."""
    global _context
    _context = context


def get_context() -> IngestContext:
    if _context is None:
        raise HTTPException(503, detail="ingest is not configured (no publisher yet)")
    return _context


Ingest = Annotated[IngestContext, Depends(get_context)]
