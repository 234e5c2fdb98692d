-- Everything that could not become a record, with the original bytes and why: from the dead-letter topic
-- (stage ingest/detect, origin in the cb-* headers) and from the sink itself (stage sink).
-- `kafka_*` is where the sink read the message (its progress record); `source_*` is where it came from.
CREATE TABLE IF NOT EXISTS deadletters
(
    at               DateTime64(3, 'UTC'),
    stage            LowCardinality(String),
    reason           String,
    adapter          LowCardinality(String),
    source_topic     LowCardinality(String),
    source_partition Nullable(Int32),
    source_offset    Nullable(Int64),
    payload          String CODEC(ZSTD(3)),
    kafka_topic      LowCardinality(String),
    kafka_partition  Int32,
    kafka_offset     Int64,
    inserted_at     DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(inserted_at)
ORDER BY (stage, at)
TTL toDateTime(inserted_at) + INTERVAL ${retention_events_days} DAY
SETTINGS non_replicated_deduplication_window = 1000;
