-- Which incarnation of a topic the stored `kafka_offset`s belong to. Offsets restart at 0 when a topic is
-- recreated (the embedded broker keeps topics in memory, chdb keeps the data on disk), so the sink only
-- trusts stored offsets of rows inserted since the current topic id was first seen.
CREATE TABLE IF NOT EXISTS sink_epochs
(
    topic    LowCardinality(String),
    topic_id String,
    since    DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (topic, since);
