-- Alerts are immutable records (evidence as a JSON string); an escalation is a new row with version + 1,
-- the current alert is the newest version per id. Their lifecycle is the append-only `alert_transitions`
-- log written by the API: the current state is derived (argMax(to_state, version)), never updated in place.
CREATE TABLE IF NOT EXISTS alerts
(
    id              String,
    incident_id     String,
    department      LowCardinality(String),
    category        LowCardinality(String),
    sub_category    LowCardinality(String),
    severity        LowCardinality(String),
    confidence      Float64,
    title           String,
    description     String,
    cell            LowCardinality(String),
    lat             Nullable(Float64),
    lon             Nullable(Float64),
    evidence        String CODEC(ZSTD(3)),
    created_at      DateTime64(3, 'UTC'),
    version         UInt32,
    kafka_partition Int32,
    kafka_offset    Int64,
    inserted_at     DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(inserted_at)
ORDER BY (created_at, id, version)
TTL toDateTime(inserted_at) + INTERVAL ${retention_alerts_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS alert_transitions
(
    alert_id   String,
    from_state LowCardinality(String),
    to_state   LowCardinality(String),
    actor      String,
    note       String,
    at         DateTime64(3, 'UTC'),
    version    UInt32
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (alert_id, version)
TTL toDateTime(at) + INTERVAL ${retention_alerts_days} DAY;
