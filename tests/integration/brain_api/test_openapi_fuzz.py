"""Schemathesis over /openapi.json: whatever it sends, as admin, the API never answers 5xx.

Runs against the app with its real background services (broker, chdb), so ingest and the other
Kafka-backed routes are exercised for real. The endless live stream is left to its own tests.
Driven operation by operation with hypothesis directly (schemathesis' pytest plugin does not load
under this pytest version). Requests go through the fixture's own client: schemathesis' ASGI transport
would start the app's lifespan a second time in its own event loop (a second set of Kafka clients, one
of them left running to be cancelled at teardown, which cost the suite 40 s).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.integration.brain_api.conftest import ADMIN_SECRET

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = 10


def test_no_server_errors(live_client):
    schema = schemathesis.openapi.from_dict(live_client.app.openapi()).exclude(path_regex="^/api/v1/live")
    failures: list[str] = []
    seen: list[int] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {ADMIN_SECRET}"}
            response = live_client.request(**_httpx_kwargs(case.as_transport_kwargs(base_url="http://testserver")))
            seen.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query or ''} -> "
                                f"{response.status_code}: {response.text[:200]}")

        run()
    assert sum(200 <= s < 300 for s in seen) >= operations, "too few requests were accepted to exercise the routes"
    assert operations >= 15 and len(seen) >= 2 * operations
    assert failures == [], "\n".join(failures[:20])


def _httpx_kwargs(kwargs: dict) -> dict:
    """schemathesis builds `requests` keyword arguments; the TestClient speaks httpx (raw bytes are `content`)."""
    out = {k: v for k, v in kwargs.items() if k in ("method", "url", "headers", "params", "json", "files", "cookies")}
    data = kwargs.get("data")
    if isinstance(data, (bytes, str)):
        out["content"] = data
    elif data is not None:
        out["data"] = data
    return out
