"""The audit log: every read of personal data and every alert transition, with who did it.

Written synchronously before the response leaves, so a successful response implies an audit row; if
ClickHouse cannot take the row the request fails with 503 rather than going unrecorded. `detail` must
itself hold pseudonyms only (it records filters and counts, never clear identifiers).
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from brain_api.security.roles import Principal
from streams.storage.base import Store


class Auditor:
    def __init__(self, store: Store, *, client: str = "", request_id: str = "") -> None:
        self.store = store
        self.client = client
        self.request_id = request_id

    def record(
        self,
        principal: Principal,
        action: str,
        resource: str,
        resource_id: str = "",
        *,
        personal_data: bool = False,
        outcome: str = "ok",
        detail: dict[str, object] | None = None,
    ) -> None:
        """Append one row: `action` is a verb like `alert.read`, `resource` a kind like `alert`."""
        self.store.insert("audit_log", {
            "at": [datetime.now(UTC)],
            "actor": [principal.token_id],
            "role": [principal.role.value],
            "action": [action],
            "resource": [resource],
            "resource_id": [resource_id],
            "personal_data": [int(personal_data)],
            "outcome": [outcome],
            "client": [self.client],
            "request_id": [self.request_id],
            "detail": [orjson.dumps(detail or {}, default=str).decode()],
        })
