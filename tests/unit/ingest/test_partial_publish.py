"""A request whose Kafka messages land only in part answers 503; the client's retry of the whole request must
not store the landed part twice (found by `citybrain chaos` with broker restarts)."""

from __future__ import annotations

import asyncio

import pytest

from ingest.dedup import RecentKeys
from ingest.errors import PartialPublish
from ingest.pipeline import Candidate, IngestPipeline
from ingest.pseudonym import Pseudonymizer
from ingest.registry import DeviceRegistry
from ingest.validate import EventValidator
from tests.factories import event_dict


class FlakyPublisher:
    """Acknowledges only the first event of the first call, then everything."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def publish(self, events):
        self.calls.append([e.id for e in events])
        if len(self.calls) == 1:
            raise PartialPublish("broker went away", frozenset({events[0].key}))
        return 1

    async def dead_letters(self, items, adapter):  # pragma: no cover - nothing is rejected here
        raise AssertionError("no rejects expected")


def test_retry_after_partial_publish_sends_only_what_did_not_land():
    publisher = FlakyPublisher()
    validator = EventValidator(DeviceRegistry(), Pseudonymizer({"k1": b"secret-one"}, active_key_id="k1"))
    pipeline = IngestPipeline(publisher, validator, RecentKeys(1000))
    body = [event_dict(id="p-1"), event_dict(id="p-2"), event_dict(id="p-3")]

    def request() -> list[Candidate]:
        return [Candidate(b"{}", value=dict(e)) for e in body]

    with pytest.raises(PartialPublish):
        asyncio.run(pipeline.ingest("http", request()))
    retry = asyncio.run(pipeline.ingest("http", request()))
    assert publisher.calls == [["p-1", "p-2", "p-3"], ["p-2", "p-3"]]
    assert [r.status for r in retry.results] == ["duplicate", "accepted", "accepted"]
