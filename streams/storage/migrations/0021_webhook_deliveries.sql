-- Every webhook delivery attempt, append-only: one `queued` row (attempt 0, carrying the body) when an alert
-- matches a subscription, then one row per HTTP attempt (`retrying`, `delivered`, `failed`) or `cancelled`.
-- A delivery's state is the state of its newest row; pending ones are re-driven after an API restart.
CREATE TABLE IF NOT EXISTS webhook_deliveries
(
    delivery_id     String,
    subscription_id String,
    alert_id        String,
    attempt         UInt16,
    state           LowCardinality(String),
    http_status     UInt16,
    error           String,
    duration_ms     Float64,
    at              DateTime64(3, 'UTC'),
    next_attempt_at DateTime64(3, 'UTC'),
    payload         String CODEC(ZSTD(3))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (subscription_id, delivery_id, at, attempt)
TTL toDateTime(at) + INTERVAL ${retention_alerts_days} DAY;
