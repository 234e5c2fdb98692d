"""Ingest: the outside world -> Kafka.

Adapters (HTTP batch, MQTT, GA/T 1400 cameras, heartbeats, citizen reports, file replay) turn each feed
into the one `CityEvent` envelope, pseudonymise personal identifiers and publish to
`citybrain.events.v1`. Imports nothing from `streams` or `brain_api`.

Where to start reading: `pipeline.py` (validate -> dedup -> publish -> dead-letter -> count, shared by
every adapter), then `http/` (routers), `viid.py` / `feeds.py` (feed shapes -> events), `publisher.py`
and `packing.py` (Kafka), `pseudonym.py` / `redact.py` (privacy), `registry.py`, `mqtt_bridge.py`,
`replay.py`, and `simulator/` (the simulated city that `citybrain simulate` sends).
"""
