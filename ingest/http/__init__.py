"""HTTP adapters as FastAPI routers; brain_api includes them (adding its auth dependencies at include time).

Set the shared context once at startup: `ingest.http.deps.configure(IngestContext.create(publisher,
registry))`, or override `ingest.http.deps.get_context` in tests.
"""

from __future__ import annotations

from ingest.http.devices import devices_router
from ingest.http.events import events_router
from ingest.http.reports import reports_router
from ingest.http.viid import viid_router

__all__ = ["devices_router", "events_router", "reports_router", "viid_router"]
