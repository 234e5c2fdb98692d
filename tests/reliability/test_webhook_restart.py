"""Fault (d): the API process is SIGKILLed while a webhook delivery is pending (the endpoint kept failing);
after the supervisor restarts it, the stored delivery is re-driven and reaches the endpoint exactly once,
signed with the subscription's secret, and the accounting invariant still holds."""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from brain_api.webhooks.delivery import delivery_id
from brain_api.webhooks.signing import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from deploy.chaos import wait_stored
from deploy.faults import kill, wait_restarted
from tests.polling import wait_until
from tests.reliability.conftest import settle, wait_alert

SECRET = "reliability-webhook-secret-0001"


class Receiver(ThreadingHTTPServer):
    """A department's endpoint on loopback: answers `status`, remembers every (delivery id, status, signed)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = 503
        self.calls: list[tuple[str, int, bool]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def delivered(self) -> Counter[str]:
        return Counter(d for d, status, _ in self.calls if status == 200)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = self.server.status
        signed = verify(SECRET, body, self.headers.get(SIGNATURE_HEADER))
        self.server.calls.append((self.headers.get(DELIVERY_HEADER, ""), status, signed))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_pending_delivery_goes_out_once_after_the_api_restarts(start_platform, feeder_for, receiver) -> None:
    platform = start_platform(env={"CITYBRAIN_WEBHOOK_REDRIVE_INTERVAL_S": "2",
                                   "CITYBRAIN_WEBHOOK_BACKOFF_BASE_S": "0.5", "CITYBRAIN_WEBHOOK_BACKOFF_MAX_S": "2",
                                   "CITYBRAIN_WEBHOOK_SUBSCRIPTIONS_REFRESH_S": "1"})
    runner = platform.proc.pid
    r = httpx.post(f"{platform.base_url}/api/v1/subscriptions", json={"url": receiver.url, "secret": SECRET},
                   headers=platform.headers, timeout=15)
    assert r.status_code == 201, r.text
    sub = r.json()["id"]
    feeder = feeder_for(platform)
    feeder.warm_up()
    assert wait_stored(platform, len(feeder.ledger.accepted), 90), platform.logs()
    time.sleep(2)  # subscriptions refresh every second here; a subscription hears alerts raised after it
    spike = feeder.spike(feeder.devices[0])
    alert = wait_alert(platform, feeder.devices[0], spike)
    wait_until(lambda: len(receiver.calls) >= 2, 30, "two failed attempts", every_s=0.5,
               logs=lambda: platform.logs(30))
    assert not receiver.delivered()
    old = kill(runner, "api")
    receiver.status = 200  # the endpoint recovers while the API is down
    wait_restarted(runner, "api", old)
    wait_until(receiver.delivered, 90, "the delivery after the restart", every_s=0.5,
               logs=lambda: platform.logs(30))
    time.sleep(5)  # two re-drive intervals: a second send would show up here
    delivered = receiver.delivered()
    ours = delivery_id(sub, alert["id"], alert.get("version", 1))
    assert delivered[ours] == 1 and set(delivered.values()) == {1}, receiver.calls
    assert all(signed for _, _, signed in receiver.calls), "an unsigned or mis-signed delivery"
    attempts = httpx.get(f"{platform.base_url}/api/v1/subscriptions/{sub}/deliveries", headers=platform.headers,
                         timeout=15).json()["data"]
    latest = next(a for a in attempts if a["delivery_id"] == ours)  # newest first
    assert latest["state"] == "delivered" and latest["attempt"] >= 3, attempts
    settle(platform, feeder)
