"""Webhook delivery knobs, and the retry schedule they imply.

Backoff is exponential without jitter: deliveries of one subscription are serialised,
so there is no thundering herd to spread, and a predictable schedule is easier to reason about in an
incident review (`webhook_deliveries` shows each attempt and when the next one is due).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYBRAIN_WEBHOOK_", extra="ignore")

    group_id: str = "citybrain-webhooks"
    timeout_s: float = 5.0
    max_attempts: int = 8
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    # Per subscription: beyond this, deliveries wait in storage and are re-driven (never dropped).
    queue_size: int = 1000
    redrive_interval_s: float = 30.0
    subscriptions_refresh_s: float = 5.0
    require_https: bool = False


def backoff_delay(attempt: int, base_s: float, max_s: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based) before the next one.

    >>> [backoff_delay(n, 1.0, 30.0) for n in range(1, 7)]
    [1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    """
    return min(max_s, base_s * 2.0 ** max(0, attempt - 1))


@lru_cache
def get_webhook_settings() -> WebhookSettings:
    return WebhookSettings()
