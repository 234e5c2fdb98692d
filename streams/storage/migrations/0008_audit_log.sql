-- Who read which personal data or changed what, written by the API. Append-only; never updated.
-- `detail` is a JSON string (filters used, rows returned) and must itself hold pseudonyms only.
CREATE TABLE IF NOT EXISTS audit_log
(
    at            DateTime64(3, 'UTC'),
    actor         String,
    role          LowCardinality(String),
    action        LowCardinality(String),
    resource      LowCardinality(String),
    resource_id   String,
    personal_data UInt8,
    outcome       LowCardinality(String),
    client        String,
    request_id    String,
    detail        String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (at, actor)
TTL toDateTime(at) + INTERVAL ${retention_audit_days} DAY;
