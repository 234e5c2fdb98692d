"""The chaos feeder: above one sender's rate several threads post side by side, the books stay exact, and
any fleet size fits on the map."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import h3
import orjson
import pytest

from deploy import load
from deploy.load import Feeder
from ingest.geo import cell_of


class _Ingest(BaseHTTPRequestHandler):
    """Answers like `POST /api/v1/events`: 202, every item accepted; remembers every id it was sent."""

    received: list[str] = []
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        batch = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            self.received.extend(e["id"] for e in batch)
        results = [{"index": i, "status": "accepted", "id": e["id"]} for i, e in enumerate(batch)]
        body = orjson.dumps({"results": results})
        self.send_response(202)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def ingest() -> Iterator[str]:
    _Ingest.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_several_senders_reach_the_rate_and_every_id_is_booked_once(ingest: str, monkeypatch) -> None:
    monkeypatch.setattr(load, "PER_SENDER", 400)
    feeder = Feeder(ingest, {}, "test/feeder")
    running = feeder.live(1200)  # three senders of 400 events/s
    assert len(running.threads) == 3
    with running:
        time.sleep(2.0)
    feeder.close()
    sent = _Ingest.received
    assert len(sent) == len(set(sent)) == len(feeder.ledger.accepted)
    assert set(sent) == feeder.ledger.accepted and not feeder.ledger.uncertain
    assert 1200 <= len(sent) <= 4000  # about two seconds at 1,200 events/s, all three threads sending


def test_a_large_fleet_stays_on_the_globe_and_no_two_devices_share_a_fusion_ring() -> None:
    """Above ~1,800 devices the old single-row layout ran past longitude 180 and ingest refused the readings."""
    feeder = Feeder("http://unused", {}, "test/grid", devices=200_000)
    lats, lons = zip(*(feeder.position(d) for d in feeder.devices), strict=True)
    assert -90 <= min(lats) and max(lats) <= 90 and -180 <= min(lons) and max(lons) <= 180
    first = feeder.devices[:50]  # a corner of the grid: its neighbours in both directions
    cells = [cell_of(*feeder.position(d)) for d in first + feeder.devices[feeder._side:feeder._side + 50]]
    assert len(set(cells)) == len(cells)
    ring = {c for cell in cells[:1] for c in h3.grid_disk(cell, 1)}
    assert not ring & set(cells[1:])
