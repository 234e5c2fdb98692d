"""100,000 devices on the map while panning: frame times measured in the browser (see frame_bench.py).

Recorded as a benchmark (tests/e2e/artifacts/frames.json and the test output) rather than a hard timing
assertion, because the 2-core CI machine is shared; set CITYBRAIN_STRICT_FRAMES=1 to fail on a frame
longer than 100 ms.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.frame_bench import measure_pan

pytestmark = pytest.mark.e2e
STUB_DEVICES = 100_000


def test_pan_frame_times_with_100k_devices(page, stub_url, artifacts):
    page.goto(f"{stub_url}/#token=admin-secret")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    page.wait_for_function("window.citybrain.devices.count() === 100000", timeout=60_000)
    stats = measure_pan(page)
    (artifacts / "frames.json").write_text(json.dumps(stats, indent=2))
    print("pan frame times:", json.dumps(stats))
    assert stats["devices"] == STUB_DEVICES
    assert stats["frames"] > 100  # the page kept painting while it was dragged
    if os.environ.get("CITYBRAIN_STRICT_FRAMES") == "1":
        assert stats["over_100ms"] == 0, stats
