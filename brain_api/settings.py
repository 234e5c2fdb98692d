"""`ApiSettings` (env prefix `CITYBRAIN_API_`): where the API listens and how it guards itself.

The bootstrap admin token is read from `CITYBRAIN_ADMIN_TOKEN` (the name `citybrain up` documents), not
from the prefixed name, so one variable serves the runner and the API. Outside dev a weak or empty admin
token is refused at start-up rather than discovered by an attacker.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.errors import ConfigurationError
from ingest.settings import CommonSettings, get_common_settings

WEAK_SECRETS = frozenset({"", "changethis", "change-me", "admin", "secret", "password", "citybrain"})
MIN_ADMIN_TOKEN_CHARS = 24


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYBRAIN_API_", extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("CITYBRAIN_ADMIN_TOKEN", "CITYBRAIN_API_ADMIN_TOKEN")
    )
    # Open alerts nobody acknowledged within this time are escalated by the background task.
    escalation_after_s: float = 600.0
    escalation_check_s: float = 15.0
    # Token bucket per (token, endpoint group): sustained requests/s and burst.
    rate_limit_per_s: float = 5.0
    rate_limit_burst: int = 20
    # Shared read answers (alert queue, map layers) are reused for this long per scope; 0 = off.
    cache_ttl_s: float = 1.0
    # Cache of token lookups; a revocation on another replica takes at most this long to bite.
    token_cache_s: float = 5.0
    # CORS stays off unless origins are named (comma-separated).
    cors_origins: str = ""
    # Let Prometheus scrape /metrics without a token, only from loopback addresses.
    metrics_open_on_loopback: bool = False
    # Run the ClickHouse sink thread inside the API process (embedded chdb: one process owns the dir).
    run_sink: bool | None = None
    run_live_feed: bool = True
    # host:port of an MQTT broker whose `city/+/+/#` readings this process forwards (shares the ingest
    # registry, dedup memory and per-adapter counters with the HTTP adapters); unset = no bridge here
    mqtt_bridge: str | None = None
    run_escalation: bool = True
    live_buffer: int = 1000

    def sink_enabled(self, clickhouse_url: str | None) -> bool:
        """Embedded storage means the API process must host the sink; a server may host it elsewhere."""
        return self.run_sink if self.run_sink is not None else not clickhouse_url


def refuse_weak_admin_token(api: ApiSettings, common: CommonSettings) -> None:
    """Outside dev an admin token, when set, must be long and not a well-known default.

    >>> refuse_weak_admin_token(ApiSettings(admin_token="changethis"), CommonSettings(env="dev"))
    >>> refuse_weak_admin_token(ApiSettings(admin_token="changethis"), CommonSettings(env="prod"))
    Traceback (most recent call last):
    ...
    ingest.errors.ConfigurationError: CITYBRAIN_ADMIN_TOKEN is empty, a default or shorter than 24 characters
    """
    if common.env == "dev" or api.admin_token is None:
        return
    value = api.admin_token.get_secret_value()
    if value.strip().lower() in WEAK_SECRETS or len(value) < MIN_ADMIN_TOKEN_CHARS:
        raise ConfigurationError(
            f"CITYBRAIN_ADMIN_TOKEN is empty, a default or shorter than {MIN_ADMIN_TOKEN_CHARS} characters"
        )


@lru_cache
def get_api_settings() -> ApiSettings:
    settings = ApiSettings()
    refuse_weak_admin_token(settings, get_common_settings())
    return settings
