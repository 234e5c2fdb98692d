-- Replays of stored events back onto Kafka (streams.replay), started through the API or the CLI.
-- Progress is a newer row per replay (`version` grows); readers take the newest with FINAL.
CREATE TABLE IF NOT EXISTS replays
(
    id          String,
    created_by  String,
    from_time   DateTime64(3, 'UTC'),
    to_time     DateTime64(3, 'UTC'),
    filter      String,
    speed       Float64,
    topic       String,
    state       LowCardinality(String),
    total       UInt64,
    sent        UInt64,
    error       String,
    created_at  DateTime64(3, 'UTC'),
    updated_at  DateTime64(3, 'UTC'),
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
