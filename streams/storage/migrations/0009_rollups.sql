-- Per cell and metric per minute and per hour, maintained by materialized views on every insert into
-- `events` (so they are exactly-once whenever the events insert is). Partial aggregates: readers re-aggregate,
-- e.g. `sum(n) AS samples, sum(total) / sum(n) AS mean, min(lo) AS low, max(hi) AS high,
-- uniqMerge(devices) AS device_count ... GROUP BY cell, metric, minute` (aliases must not reuse column names:
-- ClickHouse would then see `sum(sum(n))`).
-- Sorted by cell first (a cell's series is one contiguous range); "all cells, last minutes" (the map) is
-- served by daily partitions plus the minmax index on the time column.
CREATE TABLE IF NOT EXISTS rollup_cell_minute
(
    minute   DateTime('UTC'),
    cell     LowCardinality(String),
    category LowCardinality(String),
    metric   LowCardinality(String),
    n        SimpleAggregateFunction(sum, UInt64),
    total    SimpleAggregateFunction(sum, Float64),
    lo       SimpleAggregateFunction(min, Float64),
    hi       SimpleAggregateFunction(max, Float64),
    devices  AggregateFunction(uniq, String),
    INDEX minute_idx minute TYPE minmax GRANULARITY 1
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMMDD(minute)
ORDER BY (cell, metric, minute, category)
TTL minute + INTERVAL ${retention_events_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_cell_minute_mv TO rollup_cell_minute AS
SELECT
    toStartOfMinute(time) AS minute, cell, category, metric,
    count() AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi, uniqState(device_id) AS devices
FROM events
ARRAY JOIN mapKeys(measurements) AS metric, mapValues(measurements) AS value
GROUP BY minute, cell, category, metric;

CREATE TABLE IF NOT EXISTS rollup_cell_hour
(
    hour     DateTime('UTC'),
    cell     LowCardinality(String),
    category LowCardinality(String),
    metric   LowCardinality(String),
    n        SimpleAggregateFunction(sum, UInt64),
    total    SimpleAggregateFunction(sum, Float64),
    lo       SimpleAggregateFunction(min, Float64),
    hi       SimpleAggregateFunction(max, Float64),
    devices  AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (cell, metric, hour, category)
TTL hour + INTERVAL ${retention_anomalies_days} DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_cell_hour_mv TO rollup_cell_hour AS
SELECT
    toStartOfHour(time) AS hour, cell, category, metric,
    count() AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi, uniqState(device_id) AS devices
FROM events
ARRAY JOIN mapKeys(measurements) AS metric, mapValues(measurements) AS value
GROUP BY hour, cell, category, metric;
