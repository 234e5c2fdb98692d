"""Frame times of the live map while panning with 100,000 devices, measured in the browser.

Every frame's duration is read with requestAnimationFrame inside the page while Playwright drags the map
with the mouse (the way an operator pans), including the redraw and refetch after each drag ends. The page
is served by the contract stub handing it every device unclustered — the worst case; the real API clusters
server-side and sends at most a few thousand features.

    .venv/bin/python tests/e2e/frame_bench.py --devices 100000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

RECORDER = """() => {
  window.__frames = [];
  let last = performance.now();
  const tick = (now) => { window.__frames.push(now - last); last = now; window.__raf = requestAnimationFrame(tick); };
  window.__raf = requestAnimationFrame(tick);
}"""


def measure_pan(page: Any, drags: int = 6, steps: int = 40, distance: int = 300) -> dict[str, Any]:
    """Drag the map `drags` times (alternating directions) and return frame-time statistics in ms."""
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.evaluate(RECORDER)
    page.wait_for_timeout(300)
    for i in range(drags):
        dx, dy = [(distance, 0), (0, distance), (-distance, 0), (0, -distance)][i % 4]
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move(cx + dx, cy + dy, steps=steps)
        page.mouse.up()
        page.wait_for_timeout(600)  # moveend: canvas redraw of every device + map refetch happen here
    frames = page.evaluate("() => { cancelAnimationFrame(window.__raf); return window.__frames.slice(1); }")
    ordered = sorted(frames)
    return {
        "devices": page.evaluate("window.citybrain.devices.count()"),
        "frames": len(frames),
        "max_ms": round(ordered[-1], 1),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "median_ms": round(statistics.median(ordered), 1),
        "over_50ms": sum(f > 50 for f in frames),
        "over_100ms": sum(f > 100 for f in frames),
    }


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _serve, free_port, wait_ready
    from tests.e2e.stub_api import create_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--drags", type=int, default=6)
    args = parser.parse_args(argv)
    port = free_port()
    server, thread = _serve(create_app(devices=args.devices), port)
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/index.html", 60)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 860})
            page.goto(f"{url}/#token=admin-secret")
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            print(json.dumps(measure_pan(page, drags=args.drags)))
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
