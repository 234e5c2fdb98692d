-- The minute rollup stops keeping a distinct-device state. Its rows barely aggregate (a device reports
-- every few seconds to minutes, so most (cell, metric, minute) groups hold one or two readings) and a `uniq`
-- state per group was the largest single cost of an insert: ~2 µs of CPU per event, a fifth of the sink's
-- whole budget (BENCHMARKS.md, storage). Distinct devices stay in `rollup_cell_hour` (where a state folds
-- hundreds of readings) and, for any window, in `events`: `uniq(device_id) ... WHERE cell = ... AND time >= ...`.
-- Readers of the minute rollup keep `sum(n)`, `sum(total) / sum(n)`, `min(lo)`, `max(hi)`.
DROP VIEW IF EXISTS rollup_cell_minute_mv;

ALTER TABLE rollup_cell_minute DROP COLUMN IF EXISTS devices;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_cell_minute_mv TO rollup_cell_minute AS
SELECT
    toStartOfMinute(time) AS minute, cell, category, metric,
    count() AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
FROM events
ARRAY JOIN mapKeys(measurements) AS metric, mapValues(measurements) AS value
GROUP BY minute, cell, category, metric;
