-- Which migrations ran, when, and the checksum of the file as applied (a changed file is refused).
-- Bootstrapped first by `migrate()` on every run, so it is idempotent by construction.
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version;
