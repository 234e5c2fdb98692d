-- Raw CityEvents as ingest validated them; written only by the sink.
-- Partitioned by the day the sink stored them (`inserted_at`, one value per sink batch), not by event time:
-- a batch is then exactly one part, so an insert is atomic and `kafka_offset` is an exact record of progress
-- (late or replayed events would otherwise split a batch over several day-partitions).
-- The sort key starts with the event hour so "last hour" queries read only that hour's granules, then
-- device and time for per-device series; cells are found through the skip index and the rollups.
CREATE TABLE IF NOT EXISTS events
(
    id              String,
    source          LowCardinality(String),
    type            LowCardinality(String),
    time            DateTime64(3, 'UTC'),
    device_id       String,
    lat             Nullable(Float64),
    lon             Nullable(Float64),
    cell            LowCardinality(String),
    category        LowCardinality(String),
    measurements    Map(LowCardinality(String), Float64),
    attributes      String CODEC(ZSTD(3)),
    flags           Array(LowCardinality(String)),
    schema_version  UInt8,
    received_at     Nullable(DateTime64(3, 'UTC')),
    kafka_partition Int32,
    kafka_offset    Int64,
    inserted_at     DateTime64(3, 'UTC'),
    INDEX cell_idx cell TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX offset_idx kafka_offset TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(inserted_at)
ORDER BY (toStartOfHour(time), device_id, time)
TTL toDateTime(inserted_at) + INTERVAL ${retention_events_days} DAY
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 1000;
