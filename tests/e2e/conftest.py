"""End-to-end fixtures: Debian's headless Chromium driven by Playwright, and an in-memory contract stub
for page-only tests. The running platform is the session `platform` fixture of tests/conftest.py.

Chromium is never downloaded (`playwright install` is not used): the Debian binary at /usr/bin/chromium
is launched with the flags that keep it off the closed network.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("CITYBRAIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} not ready after {timeout_s:.0f} s")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="package")  # not session: a live sync_playwright keeps an event loop running in this thread
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing (make sysdeps installs Debian's chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="en-US")  # type: ignore[attr-defined]
    pg = context.new_page()
    yield pg
    context.close()


def _serve(app: object, port: int) -> tuple[object, threading.Thread]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def stub_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The built page plus an in-memory API stub (see stub_api.py); `devices` from the module's marker."""
    from tests.e2e.stub_api import create_app

    devices = getattr(request.module, "STUB_DEVICES", 2_000)
    port = free_port()
    server, thread = _serve(create_app(devices=devices), port)
    url = f"http://127.0.0.1:{port}"
    wait_ready(f"{url}/index.html", 30)
    yield url
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(timeout=10)
