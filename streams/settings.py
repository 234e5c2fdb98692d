"""Settings for the decision side: ClickHouse, the sink and detection.

`CITYBRAIN_CLICKHOUSE_URL` unset means embedded chdb under the data dir (one process owns it);
`clickhouse://user:pass@host:9000/db` means a ClickHouse server through clickhouse-driver.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class ClickHouseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYBRAIN_CLICKHOUSE_", extra="ignore")

    url: str | None = None
    database: str = "citybrain"
    retention_events_days: int = 30
    retention_anomalies_days: int = 180
    retention_alerts_days: int = 730
    retention_audit_days: int = 730
    connect_timeout_s: float = 5.0
    # Name of a ClickHouse cluster (remote_servers): migrations then create replicated + Distributed tables.
    cluster: str | None = None


class SinkSettings(BaseSettings):
    """Batches are bounded by rows and by age; Kafka offsets are committed only after ClickHouse acks."""

    model_config = SettingsConfigDict(env_prefix="CITYBRAIN_SINK_", extra="ignore")

    batch_rows: int = 10_000
    batch_age_s: float = 1.0
    max_buffered_rows: int = 200_000
    group_id: str = "citybrain-sink"
    retry_backoff_s: float = 1.0
    retry_backoff_max_s: float = 30.0
    # Id-level dedup (streams.storage.recent_ids): an event id seen this recently is not stored again.
    dedup_window_s: float = 120.0
    dedup_max_ids: int = 300_000
    # kafka-python can leave partitions unfetchable after a broker restart: reconnect after this long
    stuck_reconnect_s: float = 30.0
    # Fetch max-wait (streams.fetch_wait): kafka-python's 500 ms, raised while fetches come back empty.
    fetch_wait_min_ms: int = 500
    fetch_wait_max_ms: int = 4000


class DetectionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYBRAIN_DETECT_", extra="ignore")

    alert_threshold: float = 0.9
    snapshot_interval_s: float = 30.0
    fusion_window_s: float = 300.0
    fusion_min_confidence: float = 0.8
    dept_alerts_per_minute: int = 30
    group_id: str = "citybrain-detect"
    batch_messages: int = 64  # packed messages (each up to 500 events) per detection batch
    batch_within_s: float = 0.05
    # Detector choice per category: a JSON object or a path to one (streams.detectors.config).
    detectors: str | None = None
    max_series: int = 200_000  # per partition; least recently seen series are evicted beyond it
    # Stall watchdog (streams.watchdog): data waiting and nothing delivered this long -> re-fetch the
    # partition; still stuck `stall_escalate_s` later -> crash on purpose so the supervisor restarts us.
    stall_s: float = 120.0
    stall_escalate_s: float = 60.0
    stall_check_interval_s: float = 10.0
    # Fetch max-wait (streams.fetch_wait): short at the tip for latency; raised up to the max while a fetch
    # comes back empty with data waiting (the embedded broker gives up reads that outlast the wait).
    fetch_wait_min_ms: int = 20
    fetch_wait_max_ms: int = 4000
    # Bytes per partition per fetch (faust's `consumer_max_fetch_size`, aiokafka's max_partition_fetch_bytes).
    max_fetch_partition_bytes: int = 16 * 1024 * 1024


@lru_cache
def get_clickhouse_settings() -> ClickHouseSettings:
    return ClickHouseSettings()


@lru_cache
def get_sink_settings() -> SinkSettings:
    return SinkSettings()


@lru_cache
def get_detection_settings() -> DetectionSettings:
    return DetectionSettings()
