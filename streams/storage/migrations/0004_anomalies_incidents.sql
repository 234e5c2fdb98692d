-- Anomalies (one series misbehaved) and incidents (fused anomalies in a place), as streams produced them.
-- Incidents are re-sent with a higher `version` as they grow; every version is kept, readers take the newest
-- (`LIMIT 1 BY id` after `ORDER BY version DESC`), so no FINAL is needed.
CREATE TABLE IF NOT EXISTS anomalies
(
    id              String,
    event_id        String,
    source          LowCardinality(String),
    device_id       String,
    metric          LowCardinality(String),
    category        LowCardinality(String),
    cell            LowCardinality(String),
    lat             Nullable(Float64),
    lon             Nullable(Float64),
    time            DateTime64(3, 'UTC'),
    observed        Float64,
    expected        Float64,
    score           Float64,
    threshold       Float64,
    detector        LowCardinality(String),
    detected_at     DateTime64(3, 'UTC'),
    kafka_partition Int32,
    kafka_offset    Int64,
    inserted_at     DateTime64(3, 'UTC'),
    INDEX offset_idx kafka_offset TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(inserted_at)
ORDER BY (toStartOfDay(time), device_id, metric, time)
TTL toDateTime(inserted_at) + INTERVAL ${retention_anomalies_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS incidents
(
    id                String,
    cell              LowCardinality(String),
    category          LowCardinality(String),
    sub_category      LowCardinality(String),
    severity          LowCardinality(String),
    confidence        Float64,
    opened_at         DateTime64(3, 'UTC'),
    updated_at        DateTime64(3, 'UTC'),
    lat               Nullable(Float64),
    lon               Nullable(Float64),
    evidence          String CODEC(ZSTD(3)),
    related_event_ids Array(String),
    version           UInt32,
    kafka_partition   Int32,
    kafka_offset      Int64,
    inserted_at     DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(inserted_at)
ORDER BY (opened_at, id, version)
TTL toDateTime(inserted_at) + INTERVAL ${retention_alerts_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;
