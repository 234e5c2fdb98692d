"""Fault: the API dies after publishing a request, and the client re-sends it to the restarted API.

The new API's duplicate memory is empty, so the events reach Kafka a second time, at new offsets. The sink's
id memory (`streams/storage/recent_ids.py`), refilled from ClickHouse when the restarted sink takes the
partitions, stores them once. Before it existed, the 30-minute faulted soak stored 760 events twice this way.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from deploy.chaos import wait_stored
from deploy.faults import kill, wait_restarted
from tests.reliability.conftest import settle


def test_a_request_resent_to_a_restarted_api_is_stored_once(start_platform, feeder_for) -> None:
    platform = start_platform()
    runner = platform.proc.pid
    feeder = feeder_for(platform)
    now = datetime.now(UTC)
    batch = [feeder.reading(device, now - timedelta(seconds=i)) for i in range(25) for device in feeder.devices]
    assert feeder.send(batch)
    # stored before the crash: the restarted sink must learn these ids from ClickHouse, not from Kafka
    assert wait_stored(platform, len(feeder.ledger.accepted), 60), platform.logs()
    old = kill(runner, "api")  # the answer might as well have been lost with it
    wait_restarted(runner, "api", old)
    assert feeder.send(batch), "the restarted API never answered the re-sent request"
    time.sleep(3.0)  # the copies travel through Kafka to the new sink
    verdict = settle(platform, feeder)
    assert len(feeder.ledger.accepted) == len(batch) == 100
    assert verdict.stored == 100 and not verdict.doubled, verdict.summary()
