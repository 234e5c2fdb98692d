"""Settings for the outside-world side: the deployment, Kafka, privacy keys and ingest limits.

One pydantic-settings class per external system, reached through `lru_cache`d getters so tests can
override them (`get_kafka_settings.cache_clear()` after changing the environment).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.errors import ConfigurationError

DEV_HMAC_KEY = "dev-only-pseudonym-key-change-me"  # noqa: S105 - refused outside dev, see below


class CommonSettings(BaseSettings):
    """Deployment-wide facts: which environment this is and where local state lives."""

    model_config = SettingsConfigDict(env_prefix="CITYBRAIN_", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    data_dir: Path = Path(".citybrain")


class KafkaSettings(BaseSettings):
    """Where Kafka is. `bootstrap=None` means: start the embedded Tansu broker (`citybrain up`)."""

    model_config = SettingsConfigDict(env_prefix="CITYBRAIN_KAFKA_", extra="ignore")

    bootstrap: str | None = None
    partitions: int = 8
    replication_factor: int = 1
    # Tansu completes a group join after half the session timeout: keep it short (foundation issue).
    session_timeout_ms: int = 6000
    heartbeat_interval_ms: int = 1500
    # Events per packed Kafka message (CloudEvents batch mode); amortises per-message overhead.
    max_events_per_message: int = 500
    linger_ms: int = 5
    # Compression of every batch the platform produces. The embedded broker keeps its whole log in memory with
    # no retention: lz4 cut the bytes it holds per event from 276 to 34 (BENCHMARKS.md, "Embedded broker").
    # Consumers decompress by themselves (aiokafka through cramjam, kafka-python through lz4).
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "lz4"
    client_id: str = "citybrain"
    # Idempotent producer: a send retried after a lost acknowledgement is written once, not twice. Apache
    # Kafka supports it and deploy/ turns it on; the embedded Tansu broker refuses it, hence off by default.
    idempotent_producer: bool = False

    @property
    def compression_type(self) -> str | None:
        """What the Kafka clients take: `None` for no compression."""
        return None if self.compression == "none" else self.compression


class PrivacySettings(BaseSettings):
    """Keys of the keyed hash that replaces personal identifiers at ingest.

    `hmac_keys` is `kid:secret[,kid:secret...]`; `active_key_id` signs new pseudonyms, older keys stay
    listed during a rotation so operators can still match pseudonyms issued before it.
    """

    model_config = SettingsConfigDict(env_prefix="CITYBRAIN_PRIVACY_", extra="ignore")

    hmac_keys: SecretStr = SecretStr(f"k1:{DEV_HMAC_KEY}")
    active_key_id: str = "k1"

    @field_validator("hmac_keys")
    @classmethod
    def _parse_ok(cls, v: SecretStr) -> SecretStr:
        parse_keys(v.get_secret_value())
        return v

    @model_validator(mode="after")
    def _active_known(self) -> PrivacySettings:
        if self.active_key_id not in self.keys():
            raise ValueError(f"active_key_id {self.active_key_id!r} not among hmac_keys")
        return self

    def keys(self) -> dict[str, bytes]:
        return parse_keys(self.hmac_keys.get_secret_value())


class IngestSettings(BaseSettings):
    """Limits at the door: what one request may carry and how far clocks may drift."""

    model_config = SettingsConfigDict(env_prefix="CITYBRAIN_INGEST_", extra="ignore")

    max_batch_events: int = 10_000
    max_body_bytes: int = 32 * 1024 * 1024
    max_future_skew_s: float = 300.0
    dedup_window: int = 1_000_000


def parse_keys(raw: str) -> dict[str, bytes]:
    """Parse `kid:secret,kid:secret` into a dict.

    >>> sorted(parse_keys("k1:secret-one, k0:secret-old"))
    ['k0', 'k1']
    """
    out: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        kid, sep, secret = part.partition(":")
        if not sep or not kid or len(secret) < 8:
            raise ValueError("hmac_keys must be 'kid:secret' pairs with secrets of 8+ characters")
        out[kid] = secret.encode()
    if not out:
        raise ValueError("hmac_keys is empty")
    return out


def refuse_default_secrets(common: CommonSettings, privacy: PrivacySettings) -> None:
    """Outside dev, the shipped development key must not be used (template `core/config.py`)."""
    if common.env != "dev" and DEV_HMAC_KEY.encode() in privacy.keys().values():
        raise ConfigurationError("CITYBRAIN_PRIVACY_HMAC_KEYS still holds the development key; set a real one")


@lru_cache
def get_common_settings() -> CommonSettings:
    return CommonSettings()


@lru_cache
def get_kafka_settings() -> KafkaSettings:
    return KafkaSettings()


@lru_cache
def get_privacy_settings() -> PrivacySettings:
    settings = PrivacySettings()
    refuse_default_secrets(get_common_settings(), settings)
    return settings


@lru_cache
def get_ingest_settings() -> IngestSettings:
    return IngestSettings()
