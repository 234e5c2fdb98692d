"""brain_api: ClickHouse -> people.

The FastAPI command-center API (alerts and their lifecycle, live feed, KPIs, tokens, map, subscriptions,
replays) on top of the stored records; start reading at `main.create_app` and `deps`.
May import `ingest` and `streams`; nothing imports `brain_api`.
"""
