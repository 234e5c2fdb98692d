"""A client that feeds a running platform the way a well-behaved adapter would, and keeps the books.

Readings of `devices` traffic detectors go to `POST /api/v1/events` in batches; a batch that gets no 202
(API restarting, broker away) is re-sent with the same ids until it is answered, so at-least-once on the
client side must still end up stored exactly once. Every answer is booked in a `Ledger`. Devices sit on
a square grid ~5 km apart, far beyond fusion's ring of ~1 km cells (fusion never merges two spikes), and
`warm_up` gives each a history so that `spike` — an obvious jam — must raise an alert naming its event id.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from deploy.accounting import Ledger

HISTORY = 240  # minutes of per-minute history a device needs before a spike is judged on it
PER_SENDER = 1500  # events/s one posting thread is asked for: a loaded API answers a request in ~100 ms
SPACING = 0.05  # degrees between grid neighbours; a square grid keeps a million devices inside lat/lon range


class Feeder:
    def __init__(self, base_url: str, headers: dict[str, str], source: str, *, devices: int = 8,
                 seed: int = 11, timeout_s: float = 15.0) -> None:
        self.url = f"{base_url}/api/v1/events"
        self.headers = {**headers, "Content-Type": "application/json"}
        self.ledger = Ledger(source)
        self.devices = [f"rel-{source.rsplit('/', 1)[-1]}-{i}" for i in range(devices)]
        self._index = {d: i for i, d in enumerate(self.devices)}
        self._side = max(1, math.ceil(math.sqrt(devices)))
        self.rng = random.Random(seed)
        self.timeout_s = timeout_s
        self.failures = 0  # requests that got no 202 (each is retried)
        self._ids = itertools.count()
        self._local = threading.local()  # one HTTP client per posting thread
        self._clients: list[httpx.Client] = []

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(timeout=self.timeout_s)
            self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def position(self, device: str) -> tuple[float, float]:
        i = self._index[device]
        return 30.0 + SPACING * (i % self._side), 119.5 + SPACING * (i // self._side)

    def reading(self, device: str, at: datetime, *, spike: bool = False) -> dict[str, Any]:
        lat, lon = self.position(device)
        speed, occupancy = (2.0, 0.97) if spike else (45 + self.rng.gauss(0, 1.5), 0.3 + self.rng.gauss(0, 0.01))
        return {"id": f"{self.ledger.source.rsplit('/', 1)[-1]}-{next(self._ids)}", "source": self.ledger.source,
                "type": "reading", "time": at.isoformat(), "device_id": device, "lat": lat, "lon": lon,
                "category": "traffic", "measurements": {"speed_kmh": speed, "occupancy": occupancy}}

    def send(self, batch: list[dict[str, Any]], *, deadline_s: float = 120.0) -> bool:
        """Post until answered (same ids every time); False if `deadline_s` passed without an answer."""
        ids = [e["id"] for e in batch]
        body = orjson.dumps(batch)
        give_up = time.monotonic() + deadline_s
        while True:
            try:
                r = self._client().post(self.url, content=body, headers=self.headers)
                if r.status_code in (202, 422):
                    self.ledger.record(ids, r.json() if r.status_code == 202 else _all_rejected(batch))
                    return True
            except httpx.HTTPError:
                pass
            self.failures += 1
            if time.monotonic() > give_up:
                self.ledger.record(ids, None)
                return False
            time.sleep(0.5)

    def warm_up(self, minutes: int = HISTORY) -> None:
        """Per-minute history for every device, ending a minute ago."""
        now = datetime.now(UTC)
        for device in self.devices:
            self.send([self.reading(device, now - timedelta(minutes=minutes - i)) for i in range(minutes)])

    def spike(self, device: str) -> str:
        event = self.reading(device, datetime.now(UTC), spike=True)
        if self.send([event]):
            self.ledger.spikes.add(event["id"])
        return str(event["id"])

    def bad(self) -> str:
        """One event ingest must reject (latitude out of range) and dead-letter."""
        event = self.reading(self.devices[0], datetime.now(UTC)) | {"lat": 123.0}
        self.send([event])
        return str(event["id"])

    def stream(self, rate: float, stop: threading.Event, batch: int = 50) -> None:
        """Live readings at about `rate` events/s until `stop` is set (run it in a thread)."""
        period = batch / rate
        while not stop.is_set():
            started = time.monotonic()
            now = datetime.now(UTC)
            self.send([self.reading(self.rng.choice(self.devices), now) for _ in range(batch)])
            stop.wait(max(0.0, period - (time.monotonic() - started)))

    def live(self, rate: float, batch: int | None = None) -> _Running:
        """Stream at `rate`; by default ~20 requests/s (batches of at least 50), as a gateway batches more
        when its devices report more: one request of 50 per 10 ms is more than one client gets answered.
        Above `PER_SENDER` events/s several threads post side by side, as several gateways would: one
        thread waiting for each answer in turn cannot reach thousands of events a second."""
        senders = max(1, math.ceil(rate / PER_SENDER))
        return _Running(self, rate / senders, batch or max(50, round(rate / 20)), senders)


class _Running:
    """`with feeder.live(rate):` streams in background threads for the duration of the block."""

    def __init__(self, feeder: Feeder, rate: float, batch: int, senders: int = 1) -> None:
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=feeder.stream, args=(rate, self.stop, batch), daemon=True)
                        for _ in range(senders)]

    def __enter__(self) -> _Running:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(180)


def _all_rejected(batch: list[dict[str, Any]]) -> dict[str, Any]:
    """A 422 means nothing in the request was usable: every item was rejected (and dead-lettered)."""
    return {"results": [{"index": i, "status": "rejected", "id": e["id"]} for i, e in enumerate(batch)]}
