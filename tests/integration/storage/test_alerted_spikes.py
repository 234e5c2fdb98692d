"""The accounting's "was this spike alerted" query (deploy/accounting.py) on the real schema in chdb."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.accounting import ALERTED_SQL
from streams.storage.migrate import migrate

pytestmark = pytest.mark.integration


def test_a_spike_is_alerted_when_named_by_an_alert_or_joined_to_an_alerted_incident(chdb_store: Any) -> None:
    migrate(chdb_store)
    db = chdb_store.database
    # inserted_at now: the tables' retention TTL drops rows dated 1970 as they are inserted
    chdb_store.command(f"""INSERT INTO {db}.incidents (id, related_event_ids, version, inserted_at) VALUES
        ('inc-a', ['named', 'joined'], 2, now64()), ('inc-b', ['quiet'], 1, now64())""")
    chdb_store.command(f"""INSERT INTO {db}.alerts (id, incident_id, evidence, version, inserted_at) VALUES
        ('al-a', 'inc-a', '[{{"event_id": "named"}}]', 1, now64())""")
    rows = chdb_store.query(ALERTED_SQL, {"ids": ["named", "joined", "quiet", "never-seen"]})
    # 'quiet' is in an incident no operator was alerted to (below the confidence bar): not alerted
    assert sorted(r["id"] for r in rows) == ["joined", "named"]

