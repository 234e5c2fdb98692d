"""Streams: Kafka -> decisions.

The faust app and its agents (detection, fusion, routing), the detectors, the derived records
(`Anomaly`, `Incident`, `Alert`) and the ClickHouse storage (migrations, backends, sink).
May import `ingest`; never `brain_api`.
"""
