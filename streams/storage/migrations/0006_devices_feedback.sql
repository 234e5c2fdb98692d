-- The device registry as published on citybrain.devices.v1 (`ingest.registry.device_record`): the newest
-- `updated_at` per device wins at merge time; readers use `LIMIT 1 BY device_id` over `updated_at DESC`
-- (or FINAL on this small table). A removed device is a row with `deleted = 1`; fields the record
-- carries beyond these columns are kept in `attributes` (JSON).
CREATE TABLE IF NOT EXISTS devices
(
    device_id       String,
    type            LowCardinality(String),
    category        LowCardinality(String),
    name            String,
    department      LowCardinality(String),
    lat             Nullable(Float64),
    lon             Nullable(Float64),
    cell            LowCardinality(String),
    interval_s      Float64,
    attributes      String,
    updated_at      DateTime64(3, 'UTC'),
    deleted         UInt8,
    kafka_partition Int32,
    kafka_offset    Int64,
    inserted_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY device_id;

-- Operators' verdicts on alerts (false positives), as published on citybrain.feedback.v1; detectors learn
-- from the topic, this table is for reports and audits.
CREATE TABLE IF NOT EXISTS feedback
(
    alert_id        String,
    device_id       String,
    metric          LowCardinality(String),
    detector        LowCardinality(String),
    kind            LowCardinality(String),
    note            String,
    at              DateTime64(3, 'UTC'),
    kafka_partition Int32,
    kafka_offset    Int64,
    inserted_at     DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(inserted_at)
ORDER BY (at, alert_id)
TTL toDateTime(inserted_at) + INTERVAL ${retention_alerts_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;
