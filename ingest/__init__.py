"""Ingest: the outside world -> Kafka.

Adapters (HTTP batch, MQTT, GA/T 1400 cameras, heartbeats, citizen reports, file replay) turn each feed
into the one `CityEvent` envelope, pseudonymise personal identifiers and publish to
`citybrain.events.v1`. Imports nothing from `streams` or `brain_api`.
"""
