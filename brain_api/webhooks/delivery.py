"""What travels to a webhook (`Delivery`) and what we remember of each try (`Attempt`).

A delivery's id is derived from (subscription, alert, alert version), so consuming the same alert twice
(a restart before the Kafka commit) yields the same id and is recognised as already queued. The body is
built once and stored with the first row: every retry sends the same bytes, so the signature and the
receiver's dedup by `X-CityBrain-Delivery` stay meaningful.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import orjson

from streams.records import Alert


class DeliveryState(StrEnum):
    queued = "queued"  # recorded, not tried yet
    retrying = "retrying"  # tried, failed, another attempt is due at `next_attempt_at`
    delivered = "delivered"  # the endpoint answered 2xx
    failed = "failed"  # gave up: attempts exhausted or the endpoint refused for good (4xx)
    cancelled = "cancelled"  # the subscription was deleted before delivery

    @property
    def pending(self) -> bool:
        return self in (DeliveryState.queued, DeliveryState.retrying)


@dataclass(frozen=True)
class Delivery:
    id: str
    subscription_id: str
    alert_id: str
    body: bytes
    attempts: int = 0  # attempts already made (a re-driven delivery continues its schedule)
    not_before: datetime | None = None


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    subscription_id: str
    alert_id: str
    attempt: int
    state: DeliveryState
    at: datetime
    http_status: int = 0
    error: str = ""
    duration_ms: float = 0.0
    next_attempt_at: datetime | None = None


def delivery_id(subscription_id: str, alert_id: str, version: int) -> str:
    """Stable id of one alert version sent to one subscription.

    >>> delivery_id("s1", "a1", 1) == delivery_id("s1", "a1", 1) != delivery_id("s1", "a1", 2)
    True
    >>> len(delivery_id("s1", "a1", 1))
    32
    """
    return hashlib.blake2b(f"{subscription_id}|{alert_id}|{version}".encode(), digest_size=16).hexdigest()


def build_delivery(subscription_id: str, alert: Alert, queued_at: datetime) -> Delivery:
    """The delivery of `alert` to one subscription, with its body serialised once.

    >>> from datetime import UTC, datetime
    >>> a = Alert(id="a1", incident_id="i1", department="traffic", category="traffic",
    ...           sub_category="congestion", severity="high", confidence=0.9, title="t",
    ...           description="d", cell="88309a553dfffff", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    >>> d = build_delivery("s1", a, datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))
    >>> body = orjson.loads(d.body)
    >>> body["event"], body["alert"]["id"], body["delivery_id"] == d.id
    ('alert', 'a1', True)
    """
    did = delivery_id(subscription_id, alert.id, alert.version)
    body = orjson.dumps(
        {
            "delivery_id": did,
            "subscription_id": subscription_id,
            "event": "alert",
            "queued_at": queued_at.isoformat(),
            "alert": alert.model_dump(mode="json"),
        }
    )
    return Delivery(did, subscription_id, alert.id, body)


def is_permanent_refusal(status: int) -> bool:
    """4xx means "do not send this again" — except timeouts and rate limits, which are worth retrying.

    >>> [is_permanent_refusal(s) for s in (400, 404, 408, 429, 500, 503)]
    [True, True, False, False, False, False]
    """
    return 400 <= status < 500 and status not in (408, 425, 429)
