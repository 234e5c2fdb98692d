"""Schemathesis over /openapi.json: whatever it sends, as admin, the API never answers 5xx.

Runs against the app with its real background services (broker, chdb), so ingest and the other
Kafka-backed routes are exercised for real. The endless live stream is left to its own tests.
Driven operation by operation with hypothesis directly (schemathesis' pytest plugin does not load
under this pytest version).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.integration.brain_api.conftest import ADMIN_SECRET

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = 10


def test_no_server_errors(live_client):
    schema = schemathesis.openapi.from_asgi("/openapi.json", live_client.app).exclude(path_regex="^/api/v1/live")
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
            response = case.call()
            seen.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query or ''} -> "
                                f"{response.status_code}: {response.text[:200]}")

        run()
    assert operations >= 15 and len(seen) >= 2 * operations
    assert failures == [], "\n".join(failures[:20])
