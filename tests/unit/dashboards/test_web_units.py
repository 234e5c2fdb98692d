"""The page's pure JavaScript (token from the fragment, role -> actions, SSE parsing, KPI folding,
projection, sparkline) under `node --test`, so `pytest` covers it too; browser behaviour is in tests/e2e."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[3] / "dashboards" / "web"


def test_node_unit_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run([node, "--test", "test/"], cwd=WEB, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout


def test_built_assets_are_committed_and_self_contained() -> None:
    """`make up` needs no Node and the page no CDN: everything it loads is in dist/."""
    dist = WEB / "dist"
    html = (dist / "index.html").read_text(encoding="utf-8")
    for asset in ("app.js", "app.css", "leaflet.css", "config.json", "city.geojson"):
        assert (dist / asset).is_file(), asset
        if asset.endswith((".js", ".css")) and asset != "app.js":
            assert asset in html
    assert "app.js" in html
    bundle = (dist / "app.js").read_text(encoding="utf-8")
    assert "https://" not in html
    assert "unpkg.com" not in bundle and "cdn." not in bundle
