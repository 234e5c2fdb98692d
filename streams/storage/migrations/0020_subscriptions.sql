-- Webhook subscriptions registered through the API (brain_api.webhooks). An edit or a delete is a newer row
-- (`active = 0` for a delete) that wins at merge time; readers use FINAL on this small table. The secret is
-- kept as given because it must sign every delivery (HMAC); it is never returned after creation.
CREATE TABLE IF NOT EXISTS subscriptions
(
    id           String,
    owner        String,
    url          String,
    secret       String,
    department   LowCardinality(String),
    categories   Array(String),
    min_severity LowCardinality(String),
    cells        Array(String),
    created_at   DateTime64(3, 'UTC'),
    updated_at   DateTime64(3, 'UTC'),
    active       UInt8
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY id;
